"""Reading the training-data formats: ``.json`` (SmartSynch), ``.jsonl`` and ``.csv``.

Each reader yields ``(place, row)`` pairs, ``place`` being ``path:LINE`` or
``path#samples[INDEX]``; a row that cannot be parsed at all is a :class:`Bad` string
naming the problem, so :mod:`tfcls.data.dataset` reports every problem, not the first.
Problems with the file as a whole (not UTF-8, invalid JSON, a bad CSV header) raise
:class:`DataError` at once.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

from tfcls.errors import TfclsError

NUMERIC_FIELDS = frozenset({"weight", "confidence"})  # CSV cells read as numbers


class DataError(TfclsError):
    """Invalid training data or split request. ``problems`` holds every row-level problem
    (the message lists the first 20)."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class Bad(str):
    """A row that could not even be parsed; the string is the problem."""


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    types = {type(None): "null", str: "string", list: "array", dict: "object"}
    return types.get(type(value), type(value).__name__)


def preview(value: Any, limit: int = 40) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def decode(raw: bytes, name: str) -> str:
    start = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        return raw[start:].decode("utf-8")
    except UnicodeDecodeError as err:
        pos = start + err.start
        line = raw[:pos].count(b"\n") + 1
        raise DataError(
            f"{name}:{line}: not UTF-8 text: byte 0x{raw[pos]:02x} at byte offset {pos} "
            f"(line {line}); save the file as UTF-8"
        ) from None


def json_document(text: str, name: str) -> dict[str, Any]:
    """The parsed top-level object of a ``.json`` training file, checked to hold a
    ``"samples"`` list (other keys, such as ``metadata``, are left to the caller)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(
            f"{name}: line {err.lineno}, column {err.colno}: invalid JSON ({err.msg}); "
            "fix the syntax there"
        ) from None
    expected = 'expected a top-level object {"samples": [...]}'
    if not isinstance(data, dict):
        raise DataError(f"{name}: {expected}, got {json_type(data)}")
    if "samples" not in data:
        raise DataError(f'{name}: no "samples" key ({expected}; keys: {", ".join(data)})')
    if not isinstance(data["samples"], list):
        raise DataError(f'{name}: "samples" must be a list, got {json_type(data["samples"])}')
    return data


def json_samples(data: dict[str, Any], name: str) -> Iterator[tuple[str, Any]]:
    """The ``(place, sample)`` rows of a document from :func:`json_document`."""
    for i, item in enumerate(data["samples"]):
        yield f"{name}#samples[{i}]", item


def _read_json(text: str, name: str) -> Iterator[tuple[str, Any]]:
    return json_samples(json_document(text, name), name)


def _read_jsonl(text: str, name: str) -> Iterator[tuple[str, Any]]:
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            yield f"{name}:{lineno}", json.loads(line)
        except json.JSONDecodeError as err:
            yield f"{name}:{lineno}", Bad(f"invalid JSON at column {err.colno} ({err.msg})")


def single_label_header(header: list[str]) -> str | None:
    """Why a (lower-cased) CSV header does not fit the single-label schema, or None."""
    if {"text", "label"} <= set(header) or {"title", "category"} <= set(header):
        return None
    return (
        "the CSV header must name the columns text,label or title,description,category "
        "(description optional)"
    )


def read_csv(
    text: str, name: str, check_header: Callable[[list[str]], str | None] = single_label_header
) -> Iterator[tuple[str, Any]]:
    """CSV rows as dicts keyed by the lower-cased header; ``check_header`` says what the
    header must name (the single-label columns unless told). Cells stay text, except
    ``weight``/``confidence`` (see :func:`_csv_numbers`)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            yield f"{name}:{start}", Bad(f"malformed CSV ({err}); check the quotes in this row")
            continue
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in row]
            dupes = sorted({h for h in header if header.count(h) > 1})
            if dupes:
                raise DataError(f"{name}:{start}: repeated CSV column(s) {', '.join(dupes)}")
            problem = check_header(header)
            if problem:
                raise DataError(f"{name}:{start}: {problem}; found {','.join(row)}")
            continue
        if len(row) != len(header):
            hint = "quote fields that contain commas" if len(row) > len(header) else "add them"
            yield (
                f"{name}:{start}",
                Bad(f"row has {len(row)} fields but the header has {len(header)}; {hint}"),
            )
            continue
        yield f"{name}:{start}", _csv_numbers(dict(zip(header, row, strict=True)))


def _csv_numbers(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row with its ``weight``/``confidence`` cells as numbers: an empty cell is no
    value; a cell that is not a number stays a string, which the dataset reports."""
    for key in NUMERIC_FIELDS & row.keys():
        if not row[key].strip():
            del row[key]
            continue
        with contextlib.suppress(ValueError):
            row[key] = float(row[key])
    return row


READERS: dict[str, Callable[[str, str], Iterator[tuple[str, Any]]]] = {
    ".json": _read_json,
    ".jsonl": _read_jsonl,
    ".csv": read_csv,
}
