"""Export the feedback store as JSON Lines or CSV, for analysis or moving it elsewhere.

:func:`export_rows` streams every column of every row (optionally those created at or after
``since``) in id order, a page of rows at a time, so a large store never has to fit in
memory; :func:`export_file` writes a file atomically (a temp file renamed into place: a
failed export leaves no half file and the previous file, if any, intact).

Both formats read back exactly (:func:`read_rows`):

- **jsonl**: one JSON object per line, keys in column order, label sets as lists, None as
  null. U+0085, U+2028 and U+2029 are escaped too, so a reader splitting on any line
  break still sees one row per line.
- **csv** (RFC 4180, UTF-8, CRLF records): a header naming every column; text is always
  quoted (``"`` doubled, commas and line breaks kept inside the quotes), label sets are
  quoted JSON text (``"[""bug"", ""ui""]"``), numbers are bare and None is an empty,
  unquoted cell, so ``""`` (an empty string) and None stay apart. Spreadsheets and
  ``csv.reader`` read it as usual (they see None as ''); open files with ``newline=""``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa

from tfcls.atomic import open_replacing
from tfcls.errors import TfclsError
from tfcls.feedback.database import LabelSet, feedback
from tfcls.feedback.store import FeedbackStore
from tfcls.progress import Progress

FORMATS = ("jsonl", "csv")
PAGE_SIZE = 1000  # rows per store.rows() call
COLUMNS: tuple[str, ...] = tuple(column.name for column in feedback.columns)


def _kind(column: sa.Column) -> str:
    """How a column's values are written to and read from CSV."""
    if isinstance(column.type, LabelSet):
        return "labels"
    if isinstance(column.type, sa.Integer):
        return "int"
    return "float" if isinstance(column.type, sa.Float) else "text"


_KIND = {column.name: _kind(column) for column in feedback.columns}
_SINCE_HELP = (
    "expected a date YYYY-MM-DD (midnight UTC) or an ISO-8601 time with an offset, "
    "e.g. 2026-01-31T12:00:00+00:00 or 2026-01-31T12:00Z"
)
# Line breaks that json.dumps(ensure_ascii=False) leaves raw but str.splitlines() splits on.
_JSON_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


class ExportError(TfclsError):
    """A bad export request (format, --since, output path) or a file that is not an export."""


# --- --since --------------------------------------------------------------------------------


def parse_since(value: str | dt.datetime) -> dt.datetime:
    """``--since`` as an aware UTC datetime: a date is midnight UTC; a time needs an offset
    (``Z`` or ``+01:00``), because a time without one could mean any zone."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ExportError(f"--since {value.isoformat()}: no UTC offset; {_SINCE_HELP}")
        return value.astimezone(dt.UTC)
    text = str(value).strip()
    with contextlib.suppress(ValueError):
        day = dt.date.fromisoformat(text)
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ExportError(f"--since {value!r}: not a date or time; {_SINCE_HELP}") from None
    if moment.tzinfo is None:
        raise ExportError(f"--since {value!r}: a time needs a UTC offset; {_SINCE_HELP}")
    return moment.astimezone(dt.UTC)


def _created_at(row: dict[str, Any]) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(row["created_at"])
    except (TypeError, ValueError):
        raise ExportError(
            f"feedback row {row.get('id')}: created_at {row.get('created_at')!r} is not an "
            "ISO-8601 time; --since cannot compare it (export without --since)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


# --- writing --------------------------------------------------------------------------------


def json_line(row: dict[str, Any]) -> str:
    """One row as a JSON Lines record (with its newline)."""
    line = json.dumps(row, ensure_ascii=False, allow_nan=False)
    for char, escape in _JSON_BREAKS.items():
        if char in line:  # only inside strings: keys are ASCII
            line = line.replace(char, escape)
    return line + "\n"


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):  # no column holds one; never write True as 1
        raise ExportError(f"cannot write {value!r} to CSV: no feedback column is boolean")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same float
    if isinstance(value, list):
        value = json.dumps(value, ensure_ascii=False)
    return '"' + str(value).replace('"', '""') + '"'


def csv_line(values: Iterable[Any]) -> str:
    """One CSV record (with its CRLF): text quoted, numbers bare, None an empty cell."""
    return ",".join(_csv_cell(value) for value in values) + "\r\n"


def export_rows(
    store: FeedbackStore,
    fmt: str,
    out: TextIO,
    since: str | dt.datetime | None = None,
    *,
    progress: bool = False,
    page_size: int = PAGE_SIZE,
) -> int:
    """Write the store's rows to ``out`` as ``fmt`` (``jsonl`` or ``csv``); the number written.

    Rows come in id order, ``page_size`` at a time (:meth:`FeedbackStore.rows`); with
    ``since`` (:func:`parse_since`) only rows whose ``created_at`` is at or after it.
    ``progress`` counts the rows read on stderr (:class:`tfcls.progress.Progress`).
    """
    if fmt not in FORMATS:
        raise ExportError(
            f"--format {fmt!r}: unknown export format; use one of {', '.join(FORMATS)}"
        )
    if page_size < 1:
        raise ExportError(f"page_size must be ≥ 1, got {page_size}")
    start = parse_since(since) if since is not None else None
    if fmt == "csv":
        out.write(",".join(COLUMNS) + "\r\n")  # plain names: no quotes needed
    written, last_id = 0, 0
    total = store.count() if progress else None
    with Progress("exporting feedback", total, "rows", enabled=progress) as bar:
        while page := store.rows(since_id=last_id, limit=page_size):
            for row in page:
                if start is not None and _created_at(row) < start:
                    continue
                out.write(json_line(row) if fmt == "jsonl" else csv_line(row.values()))
                written += 1
            last_id = page[-1]["id"]
            bar.update(len(page))
            if len(page) < page_size:
                break
    return written


@contextlib.contextmanager
def atomic_text_file(path: str | Path, option: str = "--output") -> Iterator[TextIO]:
    """A UTF-8 text file (``newline=""``: written as is) that appears at ``path`` only when
    the block succeeds: a temp file next to it is fsynced and renamed over it."""
    target = output_path(path, option)
    try:
        with open_replacing(target, newline="") as f:
            yield f
    except OSError as err:
        raise ExportError(
            f"{option} {target}: cannot write a file in {target.parent} ({err.strerror}); "
            "choose a folder this user can write, with room to spare"
        ) from None


def output_path(path: str | Path, option: str) -> Path:
    """``path`` made absolute, if it can be a file to write: not a folder, its folder there."""
    target = Path(path).expanduser().absolute()
    if target.is_dir():
        raise ExportError(f"{option} {target}: is a folder; name a file in it")
    if not target.parent.is_dir():
        raise ExportError(
            f"{option} {target}: folder {target.parent} does not exist; create it or choose "
            "another path"
        )
    return target


def export_file(
    store: FeedbackStore,
    fmt: str,
    path: str | Path,
    since: str | dt.datetime | None = None,
    *,
    progress: bool = False,
) -> int:
    """:func:`export_rows` into the file ``path``, atomically (replacing it if it exists)."""
    with atomic_text_file(path) as out:
        return export_rows(store, fmt, out, since, progress=progress)


# --- reading back ---------------------------------------------------------------------------


def read_rows(stream: TextIO, fmt: str) -> Iterator[dict[str, Any]]:
    """The rows of an export, as :meth:`FeedbackStore.rows` returned them (CSV: open the
    file with ``newline=""`` so line breaks inside fields are kept as written)."""
    if fmt == "jsonl":
        return (json.loads(line) for line in stream if line.strip())
    if fmt == "csv":
        return _read_csv(stream)
    raise ExportError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")


# A quoted field ("" is a quote) or a bare one; a bare empty field is None.
_FIELD = re.compile(r'"([^"]*(?:""[^"]*)*)"|([^,"\r\n]*)')


def _records(stream: TextIO) -> Iterator[tuple[int, list[tuple[str, bool]]]]:
    """(line number, [(text, quoted)]) per CSV record; a record spans lines while a quote
    is open."""
    parts: list[str] = []
    quotes, line_no, first = 0, 0, 1
    for line in stream:
        line_no += 1
        parts.append(line)
        quotes += line.count('"')
        if quotes % 2:  # inside a quoted field: the record goes on
            continue
        record = "".join(parts).rstrip("\r\n")
        if record:
            yield first, _fields(record, first)
        parts, quotes, first = [], 0, line_no + 1
    if parts:
        raise ExportError(f"CSV line {first}: a quoted field is never closed (truncated file?)")


def _fields(record: str, line_no: int) -> list[tuple[str, bool]]:
    fields, pos = [], 0
    while True:
        match = _FIELD.match(record, pos)
        assert match is not None  # the bare alternative matches the empty string
        quoted, bare = match.groups()
        fields.append((quoted.replace('""', '"'), True) if quoted is not None else (bare, False))
        pos = match.end()
        if pos == len(record):
            return fields
        if record[pos] != ",":
            raise ExportError(
                f"CSV line {line_no}, field {len(fields)}: unexpected {record[pos]!r} after "
                "the field; quote fields holding quotes, commas or line breaks"
            )
        pos += 1


def _read_csv(stream: TextIO) -> Iterator[dict[str, Any]]:
    records = _records(stream)
    header = next(records, None)
    if header is None:
        return
    names = [name for name, _ in header[1]]
    unknown = [name for name in names if name not in _KIND]
    if unknown or len(set(names)) != len(names):
        raise ExportError(
            f"CSV header {names}: not a feedback export (columns {', '.join(COLUMNS)})"
        )
    for line_no, fields in records:
        if len(fields) != len(names):
            raise ExportError(
                f"CSV line {line_no}: {len(fields)} fields, the header has {len(names)}"
            )
        yield {
            name: _cell(name, text, quoted, line_no)
            for name, (text, quoted) in zip(names, fields, strict=True)
        }


def _cell(name: str, text: str, quoted: bool, line_no: int) -> Any:
    kind = _KIND[name]
    if not quoted and text == "":
        return None
    if kind == "text":
        return text
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        labels = json.loads(text)
        if isinstance(labels, list):
            return labels
    except ValueError:
        pass
    raise ExportError(f"CSV line {line_no}: {name} {text[:40]!r} is not a valid {kind} value")
