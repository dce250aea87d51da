"""The files of ``python -m tfcls.label``: unlabelled texts in, suggestions to fill in out.

Texts are read from ``.txt`` (one text a line), ``.jsonl`` (``text``, or ``title`` with
an optional ``description``, per line) or ``.csv`` (a header naming ``text``, or
``title`` with an optional ``description``); other fields (a label, say) are ignored.
The feedback store's texts are its rows' titles joined with their descriptions exactly
as training joins them.

The written file is a training file of :mod:`tfcls.data.dataset` once its empty
``label`` column is filled: columns ``text, label, suggested_label, probability,
uncertainty, rank`` (the loader reads ``text`` and ``label`` and ignores the rest). A row
left without a label makes the loader stop with an error naming its line ("field 'label'
is blank; give it a label or delete it"), so delete the rows you do not label.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tfcls.atomic import open_replacing
from tfcls.data.formats import DataError, decode, read_csv
from tfcls.data.text import join_title_description
from tfcls.labeling.rank import LabelingError
from tfcls.labeling.suggest import Suggestion

INPUT_EXTENSIONS = (".txt", ".jsonl", ".csv")
OUTPUT_EXTENSIONS = (".csv", ".jsonl")
COLUMNS = ("text", "label", "suggested_label", "probability", "uncertainty", "rank")


def _row_text(row: Any, where: str) -> str:
    """The model text of one JSONL/CSV row: ``text``, or ``title`` + ``description``."""
    if not isinstance(row, dict):
        raise LabelingError(f"{where}: expected an object with a 'text' or 'title' field")
    if isinstance(row.get("text"), str):
        return row["text"]
    if isinstance(row.get("title"), str):
        return join_title_description(row["title"], row.get("description") or "")
    raise LabelingError(f"{where}: no 'text' or 'title' string field; add one")


def _jsonl_texts(text: str, name: str) -> list[str]:
    out = []
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise LabelingError(f"{name}:{lineno}: invalid JSON ({err.msg})") from None
        out.append(_row_text(row, f"{name}:{lineno}"))
    return out


def _csv_header(header: list[str]) -> str | None:
    if "text" in header or "title" in header:
        return None
    return "the CSV header must name a 'text' column (or 'title', 'description')"


def _csv_texts(text: str, name: str) -> list[str]:
    try:
        return [_row_text(row, place) for place, row in read_csv(text, name, _csv_header)]
    except DataError as err:
        raise LabelingError(str(err)) from None


def read_texts(path: str | os.PathLike) -> list[str]:
    """Every text of an unlabelled-texts file (module doc), in file order, blanks kept out."""
    path = Path(path)
    if path.suffix.lower() not in INPUT_EXTENSIONS:
        raise LabelingError(
            f"{path}: unsupported file type {path.suffix or '(no extension)'!r}; use one of "
            f"{', '.join(INPUT_EXTENSIONS)} (or --from feedback)"
        )
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise LabelingError(f"{path}: no such file (the texts to rank)") from None
    except OSError as err:
        raise LabelingError(f"{path}: cannot read it ({err.strerror})") from None
    try:
        text = decode(raw, str(path))
    except DataError as err:
        raise LabelingError(str(err)) from None
    suffix = path.suffix.lower()
    if suffix == ".txt":
        texts = text.splitlines()
    else:
        texts = (_jsonl_texts if suffix == ".jsonl" else _csv_texts)(text, str(path))
    texts = [t for t in texts if t.strip()]
    if not texts:
        raise LabelingError(f"{path}: no texts in the file")
    return texts


def feedback_texts(storage: Any) -> list[str]:
    """The texts of the feedback store of ``storage`` (``config.storage``), as training
    joins them (title. description), in row order."""
    from tfcls.feedback.store import FeedbackStore

    with FeedbackStore.open(storage) as store:
        rows = store.rows()
    texts = [join_title_description(r["title"] or "", r.get("description") or "") for r in rows]
    texts = [t for t in texts if t]
    if not texts:
        raise LabelingError("the feedback store holds no texts (storage.path / storage.url)")
    return texts


def write_suggestions(suggestions: Sequence[Suggestion], path: str | os.PathLike) -> Path:
    """Write ``suggestions`` as ``.csv`` or ``.jsonl`` (by the extension) with an empty
    ``label`` column to fill in; folders are created. Returns the path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_EXTENSIONS:
        raise LabelingError(
            f"{path}: --out must end in {' or '.join(OUTPUT_EXTENSIONS)} (a file that "
            "python -m tfcls.train --data reads once labelled)"
        )
    rows = [{"label": "", **s.to_dict()} for s in suggestions]
    rows = [{key: row[key] for key in COLUMNS} for row in rows]
    if suffix == ".jsonl":
        body = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    else:
        buffer = io.StringIO(newline="")
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        body = buffer.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open_replacing(path, newline="") as f:
        f.write(body)
    return path
