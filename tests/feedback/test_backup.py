"""tfcls.feedback.backup and ``tfcls feedback backup``: copies of real SQLite stores,
restored and compared; PostgreSQL's pg_dump guidance on a throwaway server (tests/pg.py)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import feedback_row as row
from pg import PostgresServer, server_fixture

from tfcls import cli
from tfcls.feedback.backup import BackupResult, backup, pg_dump_command, pg_restore_command
from tfcls.feedback.store import SCHEMA_VERSION, FeedbackStore, StoreError

pg_server = server_fixture(scope="module")


ROWS = [
    row(title='a, "b"\nc', description="naïve 日本語 🎉\r\n"),
    row(title="none", predicted_label="", confidence=None, chosen_label=None, action="rejected"),
    row(chosen_label=None, chosen_labels=["bug", "ui"], predicted_labels=[], action="corrected"),
]


@pytest.fixture
def store(tmp_path: Path):
    with FeedbackStore.from_url(f"sqlite:///{tmp_path / 'live' / 'feedback.sqlite3'}") as s:
        yield s


def _restored(path: Path) -> tuple[list[dict], int]:
    """Open a backup the way a restore does (as a feedback database): rows, schema version."""
    with FeedbackStore.from_url(f"sqlite:///{path}") as copy:
        return copy.rows(), copy.schema_version()


def _integrity(path: Path) -> str:
    conn = sqlite3.connect(path)  # closed at once: its -wal/-shm files go with it
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_backup_restores_to_the_same_rows_and_schema(store: FeedbackStore, tmp_path: Path):
    store.add_many(ROWS)
    path = tmp_path / "backup.sqlite3"
    result = backup(store, path)
    assert isinstance(result, BackupResult)
    assert (result.path, result.rows, result.bytes) == (path, 3, path.stat().st_size)
    assert result.seconds >= 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.sqlite3", "live"]  # no temp
    assert _integrity(path) == "ok"
    rows, version = _restored(path)
    assert rows == store.rows() and version == store.schema_version() == SCHEMA_VERSION


def test_a_restored_backup_takes_new_rows_after_the_old_ids(store: FeedbackStore, tmp_path):
    """Restoring: copy the backup over the live file (server stopped) and carry on."""
    store.add_many(ROWS)
    backup(store, tmp_path / "b.sqlite3")
    store.add(row(title="after the backup"))
    live = Path(store.sqlite_path)
    store.close()
    for leftover in (Path(f"{live}-wal"), Path(f"{live}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(tmp_path / "b.sqlite3", live)
    with FeedbackStore.from_url(f"sqlite:///{live}") as restored:
        assert [r["title"] for r in restored.rows()] == [r["title"] for r in ROWS]
        assert restored.add(row(title="new"))["id"] == 4  # AUTOINCREMENT state came along


def test_backup_of_a_live_store_while_a_thread_keeps_writing(store: FeedbackStore, tmp_path):
    # enough pages that a small step size takes many steps, with commits in between
    store.add_many([row(title=f"seed {i}", description="x" * 2000) for i in range(300)])
    stop, errors, written = threading.Event(), [], []

    def writer() -> None:
        try:
            while not stop.is_set():
                written.append(store.add(row(title=f"live {len(written)}", description="y" * 500)))
        except Exception as err:  # reported below
            errors.append(err)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        results = []
        for i in range(5):
            before = store.count()
            results.append(backup(store, tmp_path / f"b{i}.sqlite3", step_pages=4))
            assert results[-1].rows >= before
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join()
    assert not errors, errors
    source = store.rows()
    assert len(source) > 300 + len(results)  # the writer was never held up for long
    for result in results:
        assert _integrity(result.path) == "ok"
        rows, _ = _restored(result.path)
        assert len(rows) == result.rows  # the count of the snapshot it copied
        assert rows == source[: len(rows)]  # a consistent prefix: no torn or missing row
    assert len({r.rows for r in results}) > 1  # the copies did see the writes go on


def test_backup_refuses_to_overwrite_unless_forced(store: FeedbackStore, tmp_path: Path):
    store.add_many(ROWS)
    path = tmp_path / "backup.sqlite3"
    backup(store, path)
    before = path.read_bytes()
    store.add(row(title="one more"))
    with pytest.raises(StoreError) as err:
        backup(store, path)
    assert f"backup {path}: already exists" in str(err.value) and "--force" in str(err.value)
    assert path.read_bytes() == before
    assert backup(store, path, force=True).rows == 4
    assert _restored(path)[0] == store.rows()


def test_backup_refuses_paths_it_cannot_use(store: FeedbackStore, tmp_path: Path):
    with pytest.raises(StoreError, match=r"folder .*missing does not exist; create it"):
        backup(store, tmp_path / "missing" / "b.sqlite3")
    with pytest.raises(StoreError, match="is a folder; name the backup file"):
        backup(store, tmp_path)
    for live in (store.sqlite_path, f"{store.sqlite_path}-wal"):
        with pytest.raises(StoreError, match="is the live feedback database"):
            backup(store, live, force=True)
    assert store.count() == 0 and _integrity(Path(store.sqlite_path)) == "ok"


def test_backup_keeps_the_live_files_permissions(store: FeedbackStore, tmp_path: Path):
    Path(store.sqlite_path).chmod(0o640)
    result = backup(store, tmp_path / "b.sqlite3")
    assert result.path.stat().st_mode & 0o777 == 0o640


# --- PostgreSQL: pg_dump guidance -----------------------------------------------------------


def test_postgresql_backup_says_to_use_pg_dump_and_its_commands_work(
    pg_server: PostgresServer, tmp_path: Path
):
    url = pg_server.create_database()
    archive = tmp_path / "feedback dump.pgdump"  # a space: the command quotes it
    with FeedbackStore.from_url(url) as store:
        assert store.sqlite_path is None
        store.add_many(ROWS)
        with pytest.raises(StoreError) as err:
            backup(store, archive)
        message = str(err.value)
        database = url.rsplit("/", 1)[1]
        plain = f"postgresql://postgres@127.0.0.1:{pg_server.port}/{database}"
        assert "is PostgreSQL" in message and pg_server.password not in message
        assert f"pg_dump --format=custom --file '{archive}' {plain}" in message
        assert f"pg_restore --clean --if-exists --no-owner --dbname {plain} '{archive}'" in message
        if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
            pytest.skip("pg_dump/pg_restore not installed: the commands were not run")
        env = {"PGPASSWORD": pg_server.password, "PATH": "/usr/bin:/bin:/usr/local/bin"}
        dumped = store.rows()
        subprocess.run(pg_dump_command(store.url, archive), env=env, check=True)
        store.add(row(title="after the dump"))
        store.close()
    subprocess.run(pg_restore_command(url, archive), env=env, check=True, capture_output=True)
    with FeedbackStore.from_url(url) as restored:
        assert restored.rows() == dumped
        assert restored.schema_version() == SCHEMA_VERSION


def test_postgresql_guidance_keeps_connection_options_and_drops_the_password():
    url = "postgresql+psycopg://fb:***@db.example:6432/feedback?sslmode=require"
    assert pg_dump_command(url, "/b/f.dump") == [
        "pg_dump",
        "--format=custom",
        "--file",
        "/b/f.dump",
        "postgresql://fb@db.example:6432/feedback?sslmode=require",
    ]


# --- the command --------------------------------------------------------------------------


def test_command_backs_up_and_refuses_to_overwrite(store: FeedbackStore, tmp_path, capsys):
    store.add_many(ROWS)
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  path: {json.dumps(store.sqlite_path)}\n", encoding="utf-8")
    path = tmp_path / "backup.sqlite3"
    argv = ["feedback", "backup", str(path), "--config", str(config)]
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"backup: 3 rows, 0.0 MB → {path} in ")
    assert _restored(path)[0] == store.rows()
    assert cli.main(argv) == 2
    assert f"error: backup {path}: already exists" in capsys.readouterr().err
    store.add(row(title="one more"))
    assert cli.main([*argv, "--force"]) == 0
    assert capsys.readouterr().err.startswith(f"backup: 4 rows, 0.0 MB → {path} in ")


def test_command_on_postgresql_prints_the_pg_dump_command(pg_server: PostgresServer, capsys):
    url = pg_server.create_database()
    FeedbackStore.from_url(url).close()
    assert cli.main(["feedback", "backup", "/tmp/x.dump", "--set", f"storage.url={url}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: storage.url postgresql+psycopg://postgres:***@")
    assert "pg_dump --format=custom --file /tmp/x.dump postgresql://postgres@" in err
    assert pg_server.password not in err
