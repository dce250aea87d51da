"""tfcls.feedback.store on real databases: SQLite files and a throwaway PostgreSQL server
(tests/pg.py).

Tests taking the ``store``/``new_url`` fixtures run once per backend; the PostgreSQL ones
are skipped, with the reason shown by ``pytest -ra``, where no server can be started.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import feedback_row as row
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pg import PostgresServer, server_fixture
from store_rows import refuse_boom, text, valid_rows

from tfcls.config import StorageConfig
from tfcls.feedback import store as store_mod
from tfcls.feedback.schema import ACTIONS, FIELDS, ROW_FIELDS
from tfcls.feedback.store import SCHEMA_VERSION, FeedbackStore, StoreError

REPO = Path(__file__).resolve().parents[2]

pg_server = server_fixture(scope="module")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def new_url(backend: str, request, tmp_path: Path):
    """A callable returning the URL of a new, empty database of this backend."""
    if backend == "postgresql":
        server: PostgresServer = request.getfixturevalue("pg_server")
        return server.create_database
    counter = iter(range(1_000_000))
    return lambda: f"sqlite:///{tmp_path / f'db{next(counter)}.sqlite3'}"


@pytest.fixture
def store(new_url):
    s = FeedbackStore.from_url(new_url())
    yield s
    s.close()


def _engine(url: str) -> sa.Engine:
    """A plain engine beside the store, to look at / tamper with the database directly."""
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


# --- round trip ---------------------------------------------------------------------------

ROWS = [
    row(),
    row(title="Plan sprint", action="corrected", chosen_label="planning", confidence=0.4),
    row(title="Weekly sync", action="accepted", chosen_label="meeting", model_version="v2"),
    row(title="Réunion ☕", description="d\nline 2", action="rejected", chosen_label=None),
    row(title="New thing", action="new_category", chosen_label="research", model_version="v2"),
    row(title="No prediction", predicted_label=None, confidence=None, chosen_label="bug"),
]


def test_round_trip_and_stats(store: FeedbackStore):
    before = dt.datetime.now(dt.UTC)
    results = [store.add(r) for r in ROWS[:3]] + store.add_many(ROWS[3:])
    after = dt.datetime.now(dt.UTC)

    ids = [r["id"] for r in results]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for result in results:
        created = dt.datetime.fromisoformat(result["created_at"])
        assert created.utcoffset() == dt.timedelta(0)
        assert before - dt.timedelta(seconds=1) <= created <= after + dt.timedelta(seconds=1)

    stored = store.rows()
    assert [r["id"] for r in stored] == ids
    for got, want, result in zip(stored, ROWS, results, strict=True):
        assert set(got) == {"id", "created_at", *ROW_FIELDS}
        assert {k: got[k] for k in FIELDS} == want
        assert got["chosen_labels"] is None and got["predicted_labels"] is None
        assert got["created_at"] == result["created_at"]

    assert store.count() == 6
    assert [r["id"] for r in store.rows(since_id=ids[1])] == ids[2:]
    assert [r["id"] for r in store.rows(since_id=ids[1], limit=2)] == ids[2:4]
    assert store.rows(since_id=ids[-1]) == []
    zero = dict.fromkeys(ACTIONS, 0)
    assert store.stats() == {
        "total": 6,
        "by_action": {"accepted": 3, "rejected": 1, "corrected": 1, "new_category": 1},
        "by_model_version": {
            "v1": {
                "total": 4,
                "by_action": {**zero, "accepted": 2, "corrected": 1, "rejected": 1},
            },
            "v2": {"total": 2, "by_action": {**zero, "accepted": 1, "new_category": 1}},
        },
        "by_chosen_label": {"bug": 2, "planning": 1, "meeting": 1, "research": 1},
        "schema_version": SCHEMA_VERSION,
    }


MULTI = row(
    title="Crash on the settings button",
    predicted_label="bug",
    chosen_label=None,
    action="corrected",
    chosen_labels=["bug", "ui"],
    predicted_labels=["bug"],
)


def test_label_sets_round_trip_and_stats_count_single_labels_only(store: FeedbackStore):
    rows_in = [
        MULTI,
        {**MULTI, "action": "accepted", "chosen_labels": ["bug"]},
        {**MULTI, "action": "rejected", "chosen_labels": None, "predicted_labels": []},
        {**MULTI, "chosen_labels": ["café ☕", 'a "quoted" [label]'], "predicted_labels": []},
        row(),  # a single-label verdict beside them
    ]
    store.add_many(rows_in)
    got = store.rows()
    assert [r["chosen_labels"] for r in got] == [r.get("chosen_labels") for r in rows_in]
    assert [r["predicted_labels"] for r in got] == [r.get("predicted_labels") for r in rows_in]
    stats = store.stats()
    assert stats["total"] == 5 and stats["by_chosen_label"] == {"bug": 1}
    assert stats["by_action"] == {"accepted": 2, "rejected": 1, "corrected": 2, "new_category": 0}


def test_label_sets_are_json_text_in_the_database(new_url):
    """Plain TEXT holding a JSON list: any SQL client (or a later tfcls) can read it."""
    url = new_url()
    with FeedbackStore.from_url(url) as s:
        s.add(MULTI)
    engine = _engine(url)
    with engine.connect() as conn:
        cells = conn.exec_driver_sql("SELECT chosen_labels, predicted_labels FROM feedback").one()
    engine.dispose()
    assert tuple(cells) == ('["bug", "ui"]', '["bug"]')


def test_empty_store(store: FeedbackStore):
    assert store.count() == 0
    assert store.rows() == []
    assert store.add_many([]) == []
    assert store.stats() == {
        "total": 0,
        "by_action": dict.fromkeys(ACTIONS, 0),
        "by_model_version": {},
        "by_chosen_label": {},
        "schema_version": SCHEMA_VERSION,
    }


def test_add_many_is_atomic(store: FeedbackStore):
    with pytest.raises(StoreError, match=r"row 2: unknown action 'liked'"):
        store.add_many([row(), row(), row(action="liked"), row()])
    assert store.count() == 0


def test_add_many_rolls_back_when_the_database_fails_midway(store: FeedbackStore, backend):
    """A row the database itself refuses (a trigger) undoes the rows before it."""
    refuse_boom(store, backend)
    store.add(row(title="kept"))
    with pytest.raises(StoreError, match=r"nothing was stored.*boom refused"):
        store.add_many([row(title="a"), row(title="b"), row(title="boom"), row(title="c")])
    assert [r["title"] for r in store.rows()] == ["kept"]
    assert store.add(row(title="after"))["id"] > 0  # the store still works


BAD_ROWS = [
    ({k: v for k, v in row().items() if k != "client_id"}, "missing field(s) client_id"),
    (row(action="liked"), "unknown action 'liked'"),
    (row(action=None), "action must be a string"),
    ({**row(), "extra": 1}, "unknown field(s) extra"),
    (row(title=""), "title must not be empty"),
    (row(title="a\x00b"), "title contains a NUL character"),
    (row(description="\x00"), "description contains a NUL character"),
    (row(chosen_label="x\x00"), "chosen_label contains a NUL character"),
    (row(client_id=7), "client_id must be a string, got int"),
    (row(predicted_label=3), "predicted_label must be a string or null"),
    (row(title="\ud800"), "title is not valid Unicode text"),
    (row(confidence=float("nan")), "confidence must be finite"),
    (row(confidence=10**400), "confidence must be finite"),
    (row(confidence="0.9"), "confidence must be a number or null, got str"),
    (row(confidence=True), "confidence must be a number or null, got bool"),
    ("not a dict", "must be a dict"),
]


@pytest.mark.parametrize(("bad", "message"), BAD_ROWS, ids=[m for _, m in BAD_ROWS])
def test_add_refuses_bad_rows(tmp_path: Path, bad, message: str):
    with FeedbackStore.from_url(f"sqlite:///{tmp_path / 'f.db'}") as s:
        with pytest.raises(StoreError) as err:
            s.add(bad)
        assert message in str(err.value)
        assert s.count() == 0


def test_closed_store_says_so(tmp_path: Path):
    s = FeedbackStore.from_url(f"sqlite:///{tmp_path / 'f.db'}")
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.add(row())


# --- migrations ---------------------------------------------------------------------------


def _applied(url: str) -> list[int]:
    engine = _engine(url)
    with engine.connect() as conn:
        versions = conn.exec_driver_sql("SELECT version FROM schema_migrations ORDER BY 1")
        out = [v for (v,) in versions]
    engine.dispose()
    return out


def test_v1_database_is_migrated_keeping_rows(new_url):
    url = new_url()
    old = store_mod._connect(url, source="test", upto=1)
    assert old.schema_version() == 1
    added = old.add_many([row(), row(title="second", model_version="v0")])
    old.close()
    engine = _engine(url)
    assert sa.inspect(engine).get_indexes("feedback") == []
    engine.dispose()

    new = FeedbackStore.from_url(url)
    assert new.schema_version() == SCHEMA_VERSION == 3
    assert _applied(url) == [1, 2, 3]
    assert [(r["id"], r["title"], r["chosen_labels"]) for r in new.rows()] == [
        (added[0]["id"], "Fix login redirect", None),
        (added[1]["id"], "second", None),
    ]
    engine = _engine(url)
    indexes = {ix["name"]: ix["column_names"] for ix in sa.inspect(engine).get_indexes("feedback")}
    engine.dispose()
    assert indexes == {
        "ix_feedback_model_version": ["model_version"],
        "ix_feedback_created_at": ["created_at"],
    }
    assert new.stats()["by_model_version"]["v0"]["total"] == 1
    new.close()


def test_v2_database_gets_label_sets_and_old_rows_read_null(new_url):
    url = new_url()
    old = store_mod._connect(url, source="test", upto=2)
    old.add(row(title="before v3"))
    old.close()
    new = FeedbackStore.from_url(url)
    assert _applied(url) == [1, 2, 3]
    new.add(MULTI)
    before, after = new.rows()
    assert before["chosen_labels"] is None and before["predicted_labels"] is None
    assert after["chosen_labels"] == ["bug", "ui"] and after["predicted_labels"] == ["bug"]
    new.close()


def test_newer_database_is_refused(new_url):
    url = new_url()
    FeedbackStore.from_url(url).close()
    engine = _engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (99, 'later')"
        )
    engine.dispose()
    with pytest.raises(StoreError) as err:
        FeedbackStore.from_url(url)
    message = str(err.value)
    assert "schema version 99" in message
    assert f"version {SCHEMA_VERSION}" in message
    assert "upgrade tfcls" in message
    assert make_masked(url) in message


def make_masked(url: str) -> str:
    return sa.make_url(url).render_as_string(hide_password=True)


def test_open_twice_is_idempotent(new_url):
    url = new_url()
    first = FeedbackStore.from_url(url)
    first.add(row())
    second = FeedbackStore.from_url(url)  # while the first is still open
    assert second.count() == 1
    second.add(row(title="via second"))
    first.close()
    second.close()
    third = FeedbackStore.from_url(url)
    assert third.count() == 2
    assert third.schema_version() == SCHEMA_VERSION
    assert _applied(url) == [1, 2, 3]
    third.close()


def test_concurrent_openers_apply_each_migration_once(new_url):
    url = new_url()
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []
    stores: list[FeedbackStore] = []

    def opener() -> None:
        barrier.wait()
        try:
            stores.append(FeedbackStore.from_url(url))
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=opener) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _applied(url) == [1, 2, 3]
    for s in stores:
        assert s.schema_version() == SCHEMA_VERSION
        s.close()


# --- concurrency and durability -----------------------------------------------------------


def test_20_threads_x_100_adds(store: FeedbackStore):
    n_threads, per_thread = 20, 100
    barrier = threading.Barrier(n_threads)
    returned: list[int] = []
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        barrier.wait()
        try:
            for seq in range(per_thread):
                out = store.add(row(client_id=f"thread-{t}", title=f"seq {seq}"))
                returned.append(out["id"])
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = store.rows()
    assert store.count() == len(rows) == n_threads * per_thread
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids) and sorted(returned) == ids
    pairs = Counter((r["client_id"], r["title"]) for r in rows)
    expected = {(f"thread-{t}", f"seq {s}") for t in range(n_threads) for s in range(per_thread)}
    assert set(pairs) == expected and set(pairs.values()) == {1}


def _process_writer(url: str, worker: int, n: int) -> list[int]:
    s = FeedbackStore.from_url(url)
    try:
        return [s.add(row(client_id=f"proc-{worker}", title=f"seq {i}"))["id"] for i in range(n)]
    finally:
        s.close()


def test_4_processes_x_100_adds_on_one_sqlite_file(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"  # each process migrates (or not) itself
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter, like a gunicorn worker
    with ctx.Pool(4) as pool:
        # a worker that cannot start makes the pool respawn it forever: fail, don't hang
        jobs = pool.starmap_async(_process_writer, [(url, w, 100) for w in range(4)])
        results = jobs.get(timeout=300)
    with FeedbackStore.from_url(url) as s:
        rows = s.rows()
    assert len(rows) == 400
    assert sorted(i for ids in results for i in ids) == [r["id"] for r in rows]
    pairs = Counter((r["client_id"], r["title"]) for r in rows)
    assert set(pairs) == {(f"proc-{w}", f"seq {i}") for w in range(4) for i in range(100)}
    assert _applied(url) == [1, 2, 3]


CHILD = """
import sys, time
from tfcls.feedback.store import FeedbackStore
s = FeedbackStore.from_url(sys.argv[1])
out = s.add({"title": "survives", "description": "kill -9", "predicted_label": None,
             "confidence": None, "chosen_label": "x", "action": "new_category",
             "model_version": "v1", "client_id": "child"})
print(out["id"], flush=True)
time.sleep(60)
"""


def test_added_row_survives_sigkill(tmp_path: Path):
    path = tmp_path / "durable.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, f"sqlite:///{path}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        line = proc.stdout.readline()
        os.kill(proc.pid, signal.SIGKILL)  # no close(), no checkpoint, no atexit
    finally:
        proc.kill()
        _, stderr = proc.communicate(timeout=30)
    assert line.strip().isdigit(), stderr
    assert proc.returncode == -signal.SIGKILL
    assert Path(f"{path}-wal").stat().st_size > 0  # the row was only in the WAL
    with FeedbackStore.from_url(f"sqlite:///{path}") as s:
        rows = s.rows()
    assert [(r["id"], r["title"], r["client_id"]) for r in rows] == [
        (int(line), "survives", "child")
    ]


def test_every_sqlite_connection_is_wal_synchronous_full_with_busy_timeout(tmp_path: Path):
    with FeedbackStore.from_url(f"sqlite:///{tmp_path / 'f.db'}") as s:
        conns = [s._engine.connect() for _ in range(3)]  # three pooled connections at once
        try:
            for conn in conns:
                settings_ = [
                    conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                    for name in ("journal_mode", "synchronous", "busy_timeout")
                ]
                assert settings_ == ["wal", 2, store_mod.BUSY_TIMEOUT_MS]  # 2 = FULL
        finally:
            for conn in conns:
                conn.close()


# --- configuration errors -----------------------------------------------------------------


def test_open_uses_path_and_creates_folders(tmp_path: Path):
    path = tmp_path / "a" / "b" / "feedback.sqlite3"
    with FeedbackStore.open(StorageConfig(path=str(path))) as s:
        s.add(row())
        assert s.url == f"sqlite:///{path}"
    assert path.is_file()
    engine = _engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_open_path_with_url_special_characters(tmp_path: Path):
    path = tmp_path / "a b#c?d%20" / "feed?back.sqlite3"
    with FeedbackStore.open(StorageConfig(path=str(path))) as s:
        s.add(row())
        url = s.url
    assert path.is_file()
    with FeedbackStore.from_url(url) as s:  # .url is a working URL of the same file
        assert s.count() == 1


def test_open_prefers_url(tmp_path: Path):
    target = tmp_path / "by-url.sqlite3"
    storage = StorageConfig(path=str(tmp_path / "unused.sqlite3"), url=f"sqlite:///{target}")
    with FeedbackStore.open(storage) as s:
        assert s.url == f"sqlite:///{target}"
    assert target.is_file() and not (tmp_path / "unused.sqlite3").exists()


def test_path_that_is_a_directory(tmp_path: Path):
    with pytest.raises(StoreError) as err:
        FeedbackStore.open(StorageConfig(path=str(tmp_path)))
    assert str(err.value).startswith(f"storage.path {tmp_path}: is a directory;")
    assert "must name a SQLite file" in str(err.value)


def test_file_that_is_not_sqlite(tmp_path: Path):
    path = tmp_path / "notes.txt"
    path.write_text("these are not the rows you are looking for\n" * 10)
    with pytest.raises(StoreError) as err:
        FeedbackStore.open(StorageConfig(path=str(path)))
    message = str(err.value)
    assert message.startswith(f"storage.path {path}: not a SQLite database (")
    assert "file is not a database" in message and "move this file away" in message
    assert path.read_text().startswith("these are not")  # untouched


def test_parent_that_is_a_file(tmp_path: Path):
    (tmp_path / "var").write_text("a file, not a folder")
    path = tmp_path / "var" / "feedback.sqlite3"
    with pytest.raises(StoreError) as err:
        FeedbackStore.open(StorageConfig(path=str(path)))
    message = str(err.value)
    assert message.startswith(f"storage.path {path}: cannot create folder")
    assert "choose a writable storage.path" in message


def _open_error_without_privileges(path: Path) -> str:
    """StoreError text of opening ``path`` as an unprivileged user (nobody, if root)."""
    if os.geteuid() != 0:
        with pytest.raises(StoreError) as err:
            FeedbackStore.open(StorageConfig(path=str(path)))
        return str(err.value)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: drop root, try, report through the pipe, exit at once
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            FeedbackStore.open(StorageConfig(path=str(path))).close()
            message = "OPENED WITHOUT ERROR"
        except StoreError as err:
            message = str(err)
        except BaseException as err:
            message = f"child failed: {err!r}"
        finally:
            os.write(write, message.encode())
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        data = f.read().decode()
    os.waitpid(pid, 0)
    return data


def test_unwritable_folder():
    base = Path(tempfile.mkdtemp(prefix="tfcls-store-"))  # /tmp: reachable by nobody
    try:
        base.chmod(0o755)
        ro = base / "ro"
        ro.mkdir(mode=0o555)
        ro.chmod(0o555)
        message = _open_error_without_privileges(ro / "feedback.sqlite3")
        assert message.startswith(f"storage.path {ro / 'feedback.sqlite3'}: folder {ro}")
        assert "is not writable" in message and "choose another storage.path" in message
        message = _open_error_without_privileges(ro / "sub" / "feedback.sqlite3")
        assert "cannot create folder" in message and "Permission denied" in message
    finally:
        (base / "ro").chmod(0o755)
        for p in sorted(base.rglob("*"), reverse=True):
            p.rmdir() if p.is_dir() else p.unlink()
        base.rmdir()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://me:s3cret@db.example/fb", "unsupported database type 'mysql'"),
        ("not a url", "not a database URL"),
        ("sqlite://", "in-memory SQLite database keeps nothing"),
        ("sqlite:///:memory:", "in-memory SQLite database keeps nothing"),
    ],
)
def test_bad_urls(url: str, message: str):
    with pytest.raises(StoreError) as err:
        FeedbackStore.open(StorageConfig(url=url))
    assert str(err.value).startswith("storage.url")
    assert message in str(err.value)
    assert "s3cret" not in str(err.value)


def test_postgresql_unreachable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # a port nothing listens on (bound, not listening)
        port = sock.getsockname()[1]
        url = f"postgresql+psycopg://fb:s3cret@127.0.0.1:{port}/feedback"
        with pytest.raises(StoreError) as err:
            FeedbackStore.open(StorageConfig(url=url))
    message = str(err.value)
    assert f"cannot connect to PostgreSQL at 127.0.0.1:{port}" in message
    assert "database 'feedback', user 'fb'" in message
    assert "is the server running" in message
    assert "s3cret" not in message and "***" in message


def test_postgresql_url_password_is_masked(pg_server: PostgresServer):
    url = pg_server.create_database()
    with FeedbackStore.from_url(url) as s:
        assert pg_server.password not in s.url and "***" in s.url
        assert s.url.startswith("postgresql+psycopg://postgres:***@127.0.0.1:")
    # plain postgresql:// means psycopg 3 too (SQLAlchemy's default would be psycopg2)
    with FeedbackStore.from_url(url.replace("postgresql+psycopg", "postgresql")) as s:
        assert s.count() == 0


def test_postgresql_wrong_password(pg_server: PostgresServer):
    url = pg_server.url().replace(pg_server.password, "wrong-pw")
    with pytest.raises(StoreError) as err:
        FeedbackStore.from_url(url)
    message = str(err.value)
    assert f"127.0.0.1:{pg_server.port}" in message and "password authentication failed" in message
    assert "wrong-pw" not in message


# --- property: any valid row round-trips exactly ------------------------------------------


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(valid_rows)
def test_any_valid_row_round_trips(store: FeedbackStore, value: dict):
    added = store.add(value)
    (got,) = store.rows(since_id=added["id"] - 1, limit=1)
    assert got == {**value, **added}


@given(st.sampled_from([f for f in FIELDS if f != "confidence" and f != "action"]), text, text)
@settings(max_examples=30, deadline=None)
def test_nul_in_any_text_field_is_refused(field: str, before: str, after: str):
    with pytest.raises(StoreError, match=f"{field} contains a NUL character"):
        store_mod._check_row(row(**{field: before + "\x00" + after}), "test")
