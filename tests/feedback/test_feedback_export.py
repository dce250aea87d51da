"""tfcls.feedback.export and ``tfcls feedback export``, on real SQLite files: every format
reads back to exactly what ``store.rows()`` returns."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import feedback_row as row
from hypothesis import given, settings
from hypothesis import strategies as st
from store_rows import valid_rows

from tfcls import cli
from tfcls.feedback.export import (
    COLUMNS,
    ExportError,
    export_file,
    export_rows,
    parse_since,
    read_rows,
)
from tfcls.feedback.store import FeedbackStore, StoreError

REPO = Path(__file__).resolve().parents[2]


# Everything CSV and JSON Lines must carry through: separators, quotes, every kind of line
# break, Unicode, '' next to None, label sets (empty ones too), extreme floats.
TRICKY = [
    row(title='a, "quoted", b', description="line 1\nline 2\r\nline 3\rend"),
    row(title="naïve — 日本語 🎉", description='""', client_id="c\u2028d\u2029e\x85f"),
    row(title=" padded ", predicted_label="", chosen_label=None, action="rejected"),
    row(title="none", predicted_label=None, confidence=None, chosen_label="x", action="corrected"),
    row(title="tiny", confidence=5e-324, description=",\n,"),
    row(title="tab\there", description="\x01\x1f control", confidence=1.0000000000000002),
    row(
        title="multi",
        chosen_label=None,
        chosen_labels=["bug", 'ui, "x"', "日本"],
        predicted_labels=[],
        action="corrected",
    ),
    row(title="=1+1", description="@cmd -x", chosen_labels=["a"], predicted_labels=["a"]),
]


@pytest.fixture
def store(tmp_path: Path):
    with FeedbackStore.from_url(f"sqlite:///{tmp_path / 'db' / 'feedback.sqlite3'}") as s:
        yield s


def _exported(store: FeedbackStore, fmt: str, **kwargs) -> str:
    out = io.StringIO(newline="")
    export_rows(store, fmt, out, **kwargs)
    return out.getvalue()


def _set_created_at(store: FeedbackStore, times: dict[int, str]) -> None:
    """Give rows controlled creation times (the store stamps 'now')."""
    with sqlite3.connect(store.sqlite_path) as conn:
        conn.executemany(
            "UPDATE feedback SET created_at = ? WHERE id = ?", [(t, i) for i, t in times.items()]
        )


# --- round trips --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_reads_back_exactly(store: FeedbackStore, fmt: str):
    store.add_many(TRICKY)
    text = _exported(store, fmt)
    assert list(read_rows(io.StringIO(text, newline=""), fmt)) == store.rows()


def test_jsonl_is_one_json_object_per_line_with_every_column(store: FeedbackStore):
    store.add_many(TRICKY)
    text = _exported(store, "jsonl")
    lines = text.splitlines()  # splits on U+2028 & co. too: they must be escaped
    assert len(lines) == len(TRICKY)
    parsed = [json.loads(line) for line in lines]
    assert parsed == store.rows()
    assert all(list(p) == list(COLUMNS) for p in parsed)
    assert "日本語 🎉" in text  # Unicode as itself, not \\u escapes


def test_csv_is_standard_csv_with_a_header_of_every_column(store: FeedbackStore, tmp_path):
    store.add_many(TRICKY)
    path = tmp_path / "out.csv"
    assert export_file(store, "csv", path) == len(TRICKY)
    with path.open(encoding="utf-8", newline="") as f:
        header, *records = list(csv.reader(f))
    assert header == list(COLUMNS) == list(store.rows()[0])
    # what any CSV reader sees: the same text (None as ''), label sets as JSON
    for record, stored in zip(records, store.rows(), strict=True):
        assert record[COLUMNS.index("title")] == stored["title"]
        assert record[COLUMNS.index("description")] == stored["description"]
        labels = record[COLUMNS.index("chosen_labels")]
        assert (json.loads(labels) if labels else None) == stored["chosen_labels"]
        assert record[COLUMNS.index("predicted_label")] == (stored["predicted_label"] or "")


def test_csv_keeps_empty_strings_apart_from_none(store: FeedbackStore):
    store.add(row(predicted_label="", chosen_label=None, action="rejected"))
    (line,) = _exported(store, "csv").splitlines()[1:]
    assert ',"",' in line  # '' quoted, None bare
    (got,) = read_rows(io.StringIO(_exported(store, "csv"), newline=""), "csv")
    assert got["predicted_label"] == "" and got["chosen_label"] is None


def test_export_pages_through_the_store_in_id_order(store: FeedbackStore):
    store.add_many([row(title=f"t{i}") for i in range(23)])
    text = _exported(store, "jsonl", page_size=5)
    assert [json.loads(line)["id"] for line in text.splitlines()] == list(range(1, 24))


def test_empty_store_exports_nothing_but_the_csv_header(store: FeedbackStore):
    assert _exported(store, "jsonl") == ""
    assert _exported(store, "csv") == ",".join(COLUMNS) + "\r\n"
    assert list(read_rows(io.StringIO(_exported(store, "csv")), "csv")) == []


def test_unknown_format_is_an_error(store: FeedbackStore):
    with pytest.raises(ExportError, match=r"--format 'xml'.*jsonl, csv"):
        export_rows(store, "xml", io.StringIO())


def test_a_damaged_csv_is_an_error_naming_the_line():
    header = ",".join(COLUMNS) + "\r\n"
    with pytest.raises(ExportError, match="CSV line 2: 2 fields, the header has 12"):
        list(read_rows(io.StringIO(header + '1,"x"\r\n'), "csv"))
    with pytest.raises(ExportError, match="CSV line 2: a quoted field is never closed"):
        list(read_rows(io.StringIO(header + '1,"x\r\n'), "csv"))


# --- --since ------------------------------------------------------------------------------

TIMES = {
    1: "2026-01-30T23:59:59.999999+00:00",
    2: "2026-01-31T00:00:00.000000+00:00",
    3: "2026-01-31T12:00:00.123456+00:00",
    4: "2026-02-01T08:30:00.000000+00:00",
}


@pytest.mark.parametrize(
    ("since", "ids"),
    [
        ("2026-01-31", [2, 3, 4]),  # a date: midnight UTC, inclusive
        ("2026-01-31T00:00:00.000001Z", [3, 4]),
        ("2026-01-31T13:00:00.123456+01:00", [3, 4]),  # = 12:00:00.123456 UTC, inclusive
        ("2026-01-31T07:00:00.123457-05:00", [4]),  # = 12:00:00.123457 UTC
        ("2026-02-02", []),
        ("2000-01-01", [1, 2, 3, 4]),
    ],
)
def test_since_keeps_rows_created_at_or_after_it(store: FeedbackStore, since: str, ids: list):
    store.add_many([row(title=f"t{i}") for i in TIMES])
    _set_created_at(store, TIMES)
    for fmt in ("jsonl", "csv"):
        got = list(read_rows(io.StringIO(_exported(store, fmt, since=since), newline=""), fmt))
        assert [r["id"] for r in got] == ids
        assert got == [r for r in store.rows() if r["id"] in ids]


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01", "2026-01-31T12:00", "31/01/2026"])
def test_bad_since_is_an_error_naming_it_and_the_format(store: FeedbackStore, since: str):
    with pytest.raises(ExportError) as err:
        export_rows(store, "jsonl", io.StringIO(), since=since)
    assert f"--since {since!r}" in str(err.value)
    assert "YYYY-MM-DD" in str(err.value) and "+00:00" in str(err.value)


def test_since_is_normalised_to_utc():
    assert parse_since("2026-01-31T02:00:00+02:00").isoformat() == "2026-01-31T00:00:00+00:00"
    assert parse_since(" 2026-01-31 ").isoformat() == "2026-01-31T00:00:00+00:00"


# --- the output file ----------------------------------------------------------------------


def test_output_file_replaces_the_old_one_whole(store: FeedbackStore, tmp_path: Path):
    path = tmp_path / "feedback.jsonl"
    path.write_text("an older export\n" * 1000)
    store.add_many(TRICKY)
    assert export_file(store, "jsonl", path) == len(TRICKY)
    assert list(read_rows(path.open(encoding="utf-8"), "jsonl")) == store.rows()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db", "feedback.jsonl"]


def test_a_failed_export_leaves_no_half_file(store: FeedbackStore, tmp_path: Path):
    path, old = tmp_path / "feedback.csv", b"the previous export\r\n"
    path.write_bytes(old)
    store.add_many(TRICKY)
    store.close()  # reading the rows fails once the header is in the temp file
    with pytest.raises(StoreError, match="closed"):
        export_file(store, "csv", path)
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db", "feedback.csv"]


def test_output_in_a_missing_folder_is_an_error_naming_it(store: FeedbackStore, tmp_path):
    with pytest.raises(ExportError, match=r"--output .*nope/x\.csv: folder .*nope does not exist"):
        export_file(store, "csv", tmp_path / "nope" / "x.csv")
    with pytest.raises(ExportError, match="is a folder"):
        export_file(store, "csv", tmp_path)


# --- property: any valid rows round-trip --------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(st.lists(valid_rows, min_size=1, max_size=4))
def test_any_valid_rows_round_trip_in_both_formats(rows: list[dict]):
    with (
        tempfile.TemporaryDirectory() as folder,
        FeedbackStore.from_url(f"sqlite:///{folder}/f.sqlite3") as store,
    ):
        store.add_many(rows)
        stored = store.rows()
        for fmt in ("jsonl", "csv"):
            path = Path(folder) / f"out.{fmt}"
            export_file(store, fmt, path)
            with path.open(encoding="utf-8", newline="") as f:
                assert list(read_rows(f, fmt)) == stored


# --- the command --------------------------------------------------------------------------


@pytest.fixture
def config(store: FeedbackStore, tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"storage:\n  path: {json.dumps(store.sqlite_path)}\n", encoding="utf-8")
    return path


def test_command_exports_to_a_file(store: FeedbackStore, config: Path, tmp_path, capsys):
    store.add_many(TRICKY)
    out = tmp_path / "feedback.csv"
    argv = ["feedback", "export", "--format", "csv", "--config", str(config), "-o", str(out)]
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().endswith(f"export: {len(TRICKY)} rows (csv) → {out}")
    assert list(read_rows(out.open(encoding="utf-8", newline=""), "csv")) == store.rows()


def test_command_exports_to_stdout_with_since(store: FeedbackStore, config: Path, capsys):
    store.add_many([row(title=f"t{i}") for i in TIMES])
    _set_created_at(store, TIMES)
    argv = ["feedback", "export", "--config", str(config), "--format", "jsonl"]
    assert cli.main([*argv, "--since", "2026-01-31T12:00:00+00:00"]) == 0
    captured = capsys.readouterr()
    assert [json.loads(line)["id"] for line in captured.out.splitlines()] == [3, 4]
    assert "export: 2 rows (jsonl, since 2026-01-31T12:00:00+00:00) → stdout" in captured.err


def test_command_bad_since_exits_2_naming_it(config: Path, capsys):
    argv = ["feedback", "export", "--format", "csv", "--config", str(config), "--since", "soon"]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: --since 'soon': not a date or time")
    assert captured.out == ""


def test_command_refuses_a_missing_database_instead_of_creating_one(tmp_path: Path, capsys):
    missing = tmp_path / "typo.sqlite3"
    argv = ["feedback", "export", "--format", "jsonl", "--set", f"storage.path={missing}"]
    assert cli.main(argv) == 2
    assert f"storage.path {missing}: no feedback database there" in capsys.readouterr().err
    assert not missing.exists()


def test_python_dash_m_keeps_stdout_for_the_rows(store: FeedbackStore, tmp_path: Path):
    store.add_many(TRICKY)
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "tfcls.feedback", "export", "--format", "csv"),
            *("--set", f"storage.path={store.sqlite_path}"),
        ],
        capture_output=True,
        cwd=REPO,
        env={"PYTHONIOENCODING": "ascii", "PATH": "/usr/bin:/bin", "LC_ALL": "C"},
    )
    assert proc.returncode == 0, proc.stderr.decode()
    rows = list(read_rows(io.StringIO(proc.stdout.decode("utf-8"), newline=""), "csv"))
    assert rows == store.rows()  # UTF-8 whatever the locale says
    summary = proc.stderr.decode().strip()  # the arrow \u2192-escaped on this ASCII stderr
    assert summary.startswith(f"export: {len(TRICKY)} rows (csv) ") and summary.endswith("stdout")
