"""Multi-label training data: texts that each carry a *set* of labels (issue 14).

The same three formats as :mod:`tfcls.data.dataset`, with a list-valued label field:

- ``.json``: ``{"metadata": {...} (optional), "samples": [{"text": ..., "labels": [...]}]}``;
- ``.jsonl``: one object a line (blank lines skipped), e.g. GoEmotions'
  ``{"text": ..., "labels": ["joy", "love"], "id": ...}``;
- ``.csv``: a header naming ``text`` (or ``title`` and optional ``description``) and one label
  column, its cells split on ``delimiter`` (``data.label_delimiter``, ``"|"``).

The label field is one of :data:`LIST_FIELDS` (``labels``, ``categories``, ``taxonomy_codes``);
labels are strings (codes like ``"000"`` must be quoted: a JSON number would lose its zeros)
with blanks around them stripped. Row text and the ``weight``/``confidence`` sample weight
follow the single-label rules exactly, so one model input and one weight rule serve both.

A JSON ``metadata`` block is kept and, where it states a sample count or a per-label
distribution, checked against the samples: a file that disagrees with its own description is
suspect. As for single-label data, every problem is reported at once with its place, field and
fix; the only rows skipped are exact duplicates (same text, same label set), listed in the report.
The same text with another label set is an error naming both rows, unless the caller keeps such
conflicts (``conflicts="keep"``: GoEmotions has distinct comments with equal texts).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from tfcls.data.dataset import (
    LoadReport,
    _problems_error,
    _read_bytes,
    _reader_for,
    _row_weight,
    check_label_counts,
)
from tfcls.data.formats import (
    Bad,
    DataError,
    decode,
    json_document,
    json_samples,
    json_type,
    preview,
    read_csv,
)
from tfcls.data.metadata_block import metadata_problems
from tfcls.data.text import clean_text, join_title_description

LIST_FIELDS = ("labels", "categories", "taxonomy_codes")
DETECT_ROWS = 100  # multi_label_file looks at this many rows that have a label field
CONFLICTS = ("error", "keep")
_SINGLE_FIELDS = ("label", "category")  # the single-label label fields, for detection


@dataclass(frozen=True)
class LabelSetExample:
    """One text with its labels (cleaned, in file order); ``source`` is its place."""

    text: str  # the model input: `text`, or join_title_description(title, description)
    labels: tuple[str, ...]
    source: str  # "path:LINE" (JSONL, CSV; 1-based) or "path#samples[INDEX]" (JSON)
    title: str  # cleaned title (or cleaned `text`)
    description: str  # cleaned description, "" if none
    weight: float = 1.0  # weight × confidence, as for single-label examples


@dataclass
class MultiLabelDataset:
    """Validated multi-label examples; ``labels[j]`` is column ``j`` of :attr:`Y`."""

    path: str
    sha256: str  # of the raw file bytes: the training-data fingerprint
    examples: list[LabelSetExample]
    labels: list[str]  # sorted union of the examples' labels
    report: LoadReport
    metadata: dict[str, Any] | None = None  # the JSON file's metadata block, as written
    conflicts: list[tuple[str, str]] = field(default_factory=list)  # kept (row, earlier row)

    @property
    def texts(self) -> list[str]:
        return [e.text for e in self.examples]

    @property
    def Y(self) -> np.ndarray:  # noqa: N802 - the conventional name of a label matrix
        """Multi-hot targets, float32 [n_examples, n_labels], columns in ``labels`` order."""
        index = self.label_map()
        y = np.zeros((len(self.examples), len(self.labels)), dtype=np.float32)
        for i, example in enumerate(self.examples):
            y[i, [index[label] for label in example.labels]] = 1.0
        return y

    @property
    def weights(self) -> np.ndarray:
        """Sample weights (float32), aligned with ``examples``; 1 unless the data says."""
        return np.array([e.weight for e in self.examples], dtype=np.float32)

    def label_map(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.labels)}

    def label_counts(self) -> dict[str, int]:
        """Examples carrying each label, for every label in ``labels`` (0 if none here)."""
        counts = Counter(label for e in self.examples for label in e.labels)
        return {label: counts[label] for label in self.labels}

    def subset(self, indices: Sequence[int] | np.ndarray) -> MultiLabelDataset:
        """The selected examples, with this dataset's labels (so the columns stay the same)."""
        picked = [self.examples[int(i)] for i in np.asarray(indices, dtype=np.int64).ravel()]
        return replace(self, examples=picked, labels=list(self.labels))


# --- reading ---


def _open(path: str | Path, delimiter: str) -> tuple[str, bytes, Iterator[tuple[str, Any]], Any]:
    """(name, raw bytes, rows, metadata) of a data file; rows as the single-label readers
    yield them, CSV label cells split into lists. ``metadata`` is absent (None) unless a
    JSON file has the key."""
    path = Path(path)
    name, suffix, reader = str(path), path.suffix.lower(), _reader_for(path)
    if not delimiter:
        raise DataError("the label delimiter must be a non-empty string")
    raw = _read_bytes(path)
    text = decode(raw, name)
    if not text.strip():
        return name, raw, iter(()), None
    if suffix == ".json":
        data = json_document(text, name)
        return name, raw, json_samples(data, name), data.get("metadata")
    if suffix == ".csv":
        return name, raw, read_csv(text, name, _multi_label_header), None
    return name, raw, reader(text, name), None


def _multi_label_header(header: list[str]) -> str | None:
    """Why a CSV header does not fit the multi-label schema, or None."""
    label_columns = [h for h in LIST_FIELDS if h in header]
    if ("text" in header or "title" in header) and len(label_columns) == 1:
        return None
    if len(label_columns) > 1:
        return f"the CSV header names {len(label_columns)} label columns; keep one"
    return (
        "a multi-label CSV header must name text (or title and an optional description) and "
        f"one label column ({', '.join(LIST_FIELDS)})"
    )


def multi_label_file(path: str | Path) -> bool:
    """Whether a training file is multi-label, for ``data.task: auto``.

    True when the JSON samples / JSONL rows carry a list in one of :data:`LIST_FIELDS`,
    judged on the first :data:`DETECT_ROWS` rows that have a label field (a list field or the
    single-label ``label``/``category``). A mix of lists and strings there is a DataError
    naming the first row that disagrees with the first one. A CSV is never detected as
    multi-label (a delimited cell looks like a plain label): set ``data.task: multi_label``.
    """
    if Path(path).suffix.lower() == ".csv":
        return False
    rows = _open(path, "|")[2]
    first: tuple[str, str, bool] | None = None  # (source, field, is a list)
    seen = 0
    for source, row in rows:
        if isinstance(row, Bad) or not isinstance(row, dict):
            continue  # the loader reports it
        key = next((k for k in (*LIST_FIELDS, *_SINGLE_FIELDS) if k in row), None)
        if key is None or not isinstance(row[key], list | str):
            continue
        is_list = isinstance(row[key], list)
        if first is None:
            first = (source, key, is_list)
        elif is_list != first[2]:
            kind = ("a list", "a string") if is_list else ("a string", "a list")
            raise DataError(
                f"{source}: field '{key}' is {kind[0]} but {first[0]} has {kind[1]} in "
                f"'{first[1]}'; a file is either multi-label (every label field a list of "
                'strings, e.g. ["a"]) or single-label (a string in every row): make them agree'
            )
        seen += 1
        if seen >= DETECT_ROWS:
            break
    return first is not None and first[2]


# --- parsing one row ---


def _row_text(source: str, obj: dict[str, Any], problems: list[str]) -> tuple[str, str, str]:
    """(text, title, description) of a row, "" for the text after appending a problem."""
    key = "text" if "text" in obj or "title" not in obj else "title"
    if key not in obj:
        problems.append(
            f"{source}: missing field 'text'; add it (or 'title' and an optional 'description')"
        )
        return "", "", ""
    parts = {}
    for k in (key, "description") if key == "title" else (key,):
        value = obj.get(k)
        if isinstance(value, str) or (k == "description" and value is None):
            parts[k] = value or ""
        else:
            problems.append(
                f"{source}: field '{k}' must be a string, got {json_type(value)} {preview(value)}"
            )
    if len(parts) < (2 if key == "title" else 1):
        return "", "", ""
    title, description = clean_text(parts[key]), clean_text(parts.get("description", ""))
    if not title:
        problems.append(
            f"{source}: field '{key}' is empty after cleaning (was {preview(parts[key])}); "
            f"write a real {key} or delete the row"
        )
        return "", "", ""
    text = join_title_description(title, description) if key == "title" else title
    return text, title, description


def _row_labels(
    source: str, obj: dict[str, Any], delimiter: str | None, problems: list[str]
) -> tuple[str, ...]:
    """The row's cleaned labels, or () after appending its problems. ``delimiter`` is set for
    CSV rows, whose label cell is text to split; JSON/JSONL label fields must be lists."""
    keys = [k for k in LIST_FIELDS if k in obj]
    if len(keys) != 1:
        problems.append(
            f"{source}: missing label field; add 'labels' (a list of strings; or "
            "'categories' / 'taxonomy_codes')"
            if not keys
            else f"{source}: fields {' and '.join(map(repr, keys))} both given; keep one"
        )
        return ()
    key, value = keys[0], obj[keys[0]]
    if delimiter is not None:
        if not value.strip():
            problems.append(
                f"{source}: field '{key}' is empty; give at least one label (several "
                f"separated by {delimiter!r}) or delete the row"
            )
            return ()
        entries: list[Any] = value.split(delimiter)
    elif not isinstance(value, list):
        example = preview([value] if isinstance(value, str) else ["a", "b"])
        problems.append(
            f"{source}: field '{key}' must be a list of labels, got {json_type(value)} "
            f"{preview(value)}; write a list such as {example}"
        )
        return ()
    elif not value:
        problems.append(
            f"{source}: field '{key}' is an empty list; give at least one label or delete the row"
        )
        return ()
    else:
        entries = value
    return _check_entries(source, key, entries, delimiter, problems)


def _check_entries(
    source: str, key: str, entries: list[Any], delimiter: str | None, problems: list[str]
) -> tuple[str, ...]:
    """Stripped label strings; a non-string, a blank or a repeated entry is a problem."""
    before = len(problems)
    labels: list[str] = []
    for i, entry in enumerate(entries):
        place = f"field '{key}'[{i}]" if delimiter is None else f"field '{key}' label {i + 1}"
        if not isinstance(entry, str):
            fix = (
                f'quote it ("{entry}"): labels are strings, and a number loses leading zeros'
                if json_type(entry) == "number"
                else "give the label as a string"
            )
            shown = "" if entry is None else " " + preview(entry)
            problems.append(
                f"{source}: {place} must be a string, got {json_type(entry)}{shown}; {fix}"
            )
        elif not entry.strip():
            fix = f"remove the extra {delimiter!r}" if delimiter else "remove it or give a label"
            problems.append(f"{source}: {place} is blank; {fix}")
        elif entry.strip() in labels:
            problems.append(
                f"{source}: field '{key}' lists {entry.strip()!r} twice; list each label once"
            )
        else:
            labels.append(entry.strip())
    return tuple(labels) if len(problems) == before else ()


def _parse_row(
    source: str, value: Any, delimiter: str | None, problems: list[str]
) -> LabelSetExample | None:
    """A LabelSetExample from one row, or None after appending its problems."""
    if isinstance(value, Bad):
        problems.append(f"{source}: {value}")
        return None
    if not isinstance(value, dict):
        problems.append(
            f"{source}: a sample must be an object with 'text' and 'labels', got "
            f"{json_type(value)} {preview(value)}"
        )
        return None
    before = len(problems)
    text, title, description = _row_text(source, value, problems)
    labels = _row_labels(source, value, delimiter, problems)
    weight = _row_weight(source, value, problems)
    if len(problems) > before:
        return None
    return LabelSetExample(text, labels, source, title, description, weight)


# --- the whole file ---


def load_multilabel(
    path: str | Path,
    min_per_label: int = 1,
    delimiter: str = "|",
    min_labels: int = 2,
    *,
    conflicts: str = "error",
) -> MultiLabelDataset:
    """Read, validate and clean a multi-label training file (see the module doc).

    ``min_per_label``: fewest examples a label needs; ``delimiter``: between labels in a CSV
    cell; ``min_labels``: fewest distinct labels. ``conflicts``: the same text with another
    label set is an error (``"error"``), or both rows are kept and listed in
    ``MultiLabelDataset.conflicts`` (``"keep"``: public sets such as GoEmotions hold distinct
    comments with the same text).

    Raises DataError listing every problem found (up to 20 shown), each with its place.
    """
    if min_per_label < 1:
        raise DataError(f"min_per_label must be ≥ 1, got {min_per_label}")
    if conflicts not in CONFLICTS:
        raise DataError(f"conflicts must be one of {', '.join(CONFLICTS)}, got {conflicts!r}")
    name, raw, rows, metadata = _open(path, delimiter)
    split = delimiter if Path(path).suffix.lower() == ".csv" else None
    problems: list[str] = []
    parsed = [(source, _parse_row(source, value, split, problems)) for source, value in rows]
    if not parsed:
        raise DataError(f"{name}: the file has no examples; add labelled examples to it")
    if metadata is not None:
        problems += metadata_problems(name, metadata, parsed, complete=not problems)
    if problems:
        raise _problems_error(name, problems)
    examples = [e for _, e in parsed if e is not None]
    kept, duplicates, conflicting = _deduplicate(name, examples, conflicts == "keep")
    counts = Counter(label for e in kept for label in e.labels)
    check_label_counts(name, counts, len(kept), min_per_label, min_labels)
    return MultiLabelDataset(
        path=name,
        sha256=hashlib.sha256(raw).hexdigest(),
        examples=kept,
        labels=sorted({label for e in kept for label in e.labels}),
        report=LoadReport(rows=len(parsed), kept=len(kept), duplicates=duplicates),
        metadata=metadata,
        conflicts=conflicting,
    )


def _deduplicate(
    name: str, examples: list[LabelSetExample], keep_conflicts: bool
) -> tuple[list[LabelSetExample], list[tuple[str, str]], list[tuple[str, str]]]:
    """(kept examples, skipped exact duplicates, kept conflicts), each pair (row, earlier row).

    An exact duplicate has the same text and label set (in any order) as an earlier row. The
    same text with another label set is a conflict: a DataError naming both rows and both
    sets, unless ``keep_conflicts``.
    """
    kept, duplicates, conflicts, problems = [], [], [], []
    first_by_text: dict[str, LabelSetExample] = {}
    first_by_key: dict[tuple[str, frozenset[str]], LabelSetExample] = {}
    for example in examples:
        key = (example.text, frozenset(example.labels))
        if key in first_by_key:
            duplicates.append((example.source, first_by_key[key].source))
            continue
        first = first_by_text.setdefault(example.text, example)
        if first is not example:
            if not keep_conflicts:
                problems.append(
                    f"{example.source}: same text as {first.source} but labelled "
                    f"{list(example.labels)} here and {list(first.labels)} there; keep one "
                    f"label set ({preview(example.text)})"
                )
                continue
            conflicts.append((example.source, first.source))
        first_by_key[key] = example
        kept.append(example)
    if problems:
        raise _problems_error(name, problems)
    return kept, duplicates, conflicts


# --- the metadata block ---
