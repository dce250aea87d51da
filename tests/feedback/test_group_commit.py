"""Group commit (tfcls.feedback.writer) on real databases: concurrent adds share
transactions, a failed transaction fails its whole group, close() commits the queued rows,
a forked child writes through its own writer, a dead writer never leaves callers waiting.

Grouping is made certain, not hoped for, by holding the database's write lock from a
second connection while callers queue behind a first, blocked transaction.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import feedback_row as row
from pg import PostgresServer, server_fixture
from store_rows import refuse_boom

from tfcls.feedback.store import FeedbackStore, StoreError
from tfcls.feedback.writer import GroupWriter, process_queue

pg_server = server_fixture(scope="module")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def url(backend: str, request, tmp_path: Path) -> str:
    """A new, empty database of this backend."""
    if backend == "postgresql":
        server: PostgresServer = request.getfixturevalue("pg_server")
        return server.create_database()
    return f"sqlite:///{tmp_path / 'feedback.sqlite3'}"


@pytest.fixture
def store(url: str) -> Iterator[FeedbackStore]:
    s = FeedbackStore.from_url(url)
    yield s
    s.close()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Poll until ``condition()`` (a failure naming ``what`` if it never comes)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.01)


@contextlib.contextmanager
def write_lock_held(store: FeedbackStore) -> Iterator[None]:
    """Another connection holds the write lock: the store's writer blocks in its next
    transaction (SQLite: BEGIN IMMEDIATE waits; PostgreSQL: INSERT waits on the table lock)
    until the block ends."""
    engine = sa.create_engine(store._engine.url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            if store.sqlite_path is not None:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.begin()
                conn.exec_driver_sql("LOCK TABLE feedback IN SHARE MODE")
            try:
                yield
            finally:
                conn.rollback()
    finally:
        engine.dispose()


class Caller(threading.Thread):
    """``store.add_many(rows)`` in a thread; keeps the result or the StoreError."""

    def __init__(self, store: FeedbackStore, *rows: dict) -> None:
        super().__init__(daemon=True)
        self.store, self.rows = store, list(rows)
        self.result: list[dict] | None = None
        self.error: StoreError | None = None
        self.start()

    def run(self) -> None:
        try:
            self.result = self.store.add_many(self.rows)
        except StoreError as err:
            self.error = err

    def answer(self) -> list[dict] | None:
        self.join(120)
        assert not self.is_alive(), "a caller is still waiting"
        return self.result


def _block_writer(store: FeedbackStore) -> Caller:
    """A first caller whose transaction is taken and then waits on the held lock."""
    before = store._writer.groups
    first = Caller(store, row(title="first"))
    wait_until(lambda: store._writer.groups == before + 1, "the first group was taken")
    return first


def _queue(store: FeedbackStore, *rows: dict) -> list[Caller]:
    """Callers of ``rows`` (one each), all queued behind the blocked transaction."""
    callers = [Caller(store, r) for r in rows]
    wait_until(lambda: store._writer.queued == len(rows), f"{len(rows)} batches queued")
    return callers


def test_many_threads_adding_share_transactions(store: FeedbackStore):
    n_threads, per_thread = 16, 25
    commits: list[int] = []

    @sa.event.listens_for(store._engine, "commit")
    def _count(conn: sa.Connection) -> None:  # every real COMMIT of a write transaction
        if conn.get_execution_options().get("tfcls_write"):
            commits.append(1)

    barrier = threading.Barrier(n_threads)
    ids: list[list[int]] = [[] for _ in range(n_threads)]

    def writer(t: int) -> None:
        barrier.wait()
        for seq in range(per_thread):
            ids[t].append(store.add(row(client_id=f"t{t}", title=f"seq {seq}"))["id"])

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = store.rows()
    every_id = [i for per in ids for i in per]
    assert len(set(every_id)) == len(every_id) == n_threads * per_thread
    assert sorted(every_id) == [r["id"] for r in rows]
    by_id = {r["id"]: (r["client_id"], r["title"]) for r in rows}
    for t in range(n_threads):  # each caller's id is its own row
        assert [by_id[i] for i in ids[t]] == [(f"t{t}", f"seq {s}") for s in range(per_thread)]
    assert store.commits == len(commits) < len(rows)


def test_rows_queued_during_a_commit_share_the_next_transaction(store: FeedbackStore):
    with write_lock_held(store):
        first = _block_writer(store)
        queued = _queue(store, *(row(title=f"queued {i}") for i in range(8)))
    assert first.answer() is not None
    results = [c.answer() for c in queued]
    assert store.commits == 2  # the first transaction, then all 8 queued together
    assert len({r[0]["created_at"] for r in results}) == 1  # one group, one created_at
    ids = [r[0]["id"] for r in results]
    stored = {r["id"]: r["title"] for r in store.rows()}
    assert [stored[i] for i in ids] == [f"queued {i}" for i in range(8)]


def test_a_failed_transaction_fails_every_caller_of_its_group(store: FeedbackStore, backend):
    refuse_boom(store, backend)
    with write_lock_held(store):
        first = _block_writer(store)
        group = _queue(store, row(title="a"), row(title="boom"), row(title="c"))
    assert first.answer() is not None
    for caller in group:
        assert caller.answer() is None
        assert caller.error is not None and "boom refused" in str(caller.error)
        assert "nothing was stored" in str(caller.error)
    assert [r["title"] for r in store.rows()] == ["first"]
    assert store.add(row(title="after"))["id"] > 0  # the writer goes on


def test_a_bad_row_fails_only_its_own_call_before_queueing(store: FeedbackStore):
    with write_lock_held(store):
        first = _block_writer(store)
        with pytest.raises(StoreError, match="unknown action 'liked'"):
            store.add(row(action="liked"))  # checked here: never queued, never waits
        assert store._writer.queued == 0
    assert first.answer() is not None
    assert [r["title"] for r in store.rows()] == ["first"]


def test_close_while_callers_wait_commits_them(url: str):
    store = FeedbackStore.from_url(url)
    with write_lock_held(store):
        first = _block_writer(store)
        queued = _queue(store, *(row(title=f"waiting {i}") for i in range(5)))
        closer = threading.Thread(target=store.close)
        closer.start()
    closer.join(120)
    assert not closer.is_alive()
    answers = [first.answer(), *(c.answer() for c in queued)]
    assert all(a is not None for a in answers)
    with pytest.raises(StoreError, match="closed"):
        store.add(row())
    with FeedbackStore.from_url(url) as again:
        titles = {r["id"]: r["title"] for r in again.rows()}
    assert sorted(titles) == sorted(a[0]["id"] for a in answers)
    assert sorted(titles.values()) == ["first", *(f"waiting {i}" for i in range(5))]


def test_sqlite_writers_of_other_processes_queue_on_the_flock(tmp_path: Path):
    """Holding ``<file>-writer.lock`` (as another process's writer would) keeps the
    store's group from committing until it is let go."""
    with FeedbackStore.from_url(f"sqlite:///{tmp_path / 'f.sqlite3'}") as store:
        with process_queue(store.sqlite_path):
            caller = _block_writer(store)  # taken, waiting for the flock
            assert store.commits == 0 and caller.is_alive()
        assert caller.answer() is not None and store.commits == 1
        assert Path(f"{store.sqlite_path}-writer.lock").exists()


def test_a_forked_child_writes_through_its_own_writer(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'fork.sqlite3'}"
    store = FeedbackStore.from_url(url)
    parent_id = store.add(row(title="parent"))["id"]  # the parent's writer thread runs
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: the parent's thread is not here; add must start the child's own
        code = 1
        try:
            os.close(read)
            os.write(write, str(store.add(row(title="child"))["id"]).encode())
            store.close()
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        child_id = f.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0 and child_id.isdigit()
    assert store.add(row(title="parent again"))["id"] > int(child_id)  # parent's still works
    titles = {r["id"]: r["title"] for r in store.rows()}
    store.close()
    assert titles[parent_id] == "parent" and titles[int(child_id)] == "child"


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_writer_that_dies_fails_its_callers_and_the_next_call_restarts_it():
    threads: list[threading.Thread] = []

    def commit(batches: list[list[dict]]) -> list[list[dict]]:
        threads.append(threading.current_thread())
        if len(threads) == 1:
            raise SystemExit("the writer thread ends here")
        return [[{"id": i}] for i, _ in enumerate(batches)]

    writer = GroupWriter(commit, "test")
    with pytest.raises(StoreError, match="writer stopped during a commit"):
        writer.submit([{"title": "lost"}])
    threads[0].join()  # dead, its exception reported within this test
    assert writer.submit([{"title": "after"}]) == [{"id": 0}]  # a new thread
    writer.close()
    assert threads[1] is not threads[0] and not threads[1].is_alive()
    with pytest.raises(StoreError, match="closed"):
        writer.submit([{"title": "late"}])


def test_a_caller_gives_up_after_the_timeout():
    release = threading.Event()

    def commit(batches: list[list[dict]]) -> list[list[dict]]:
        release.wait(60)  # a transaction that does not end
        return [[{"id": 1}] for _ in batches]

    writer = GroupWriter(commit, "test", timeout=0.5)
    with pytest.raises(StoreError, match="may or may not have been stored"):
        writer.submit([{"title": "in the stuck transaction"}])
    with pytest.raises(StoreError, match="nothing stored"):
        writer.submit([{"title": "queued behind it"}])  # taken back: never committed
    release.set()
    writer.close()
    assert writer.commits == 1 and writer.groups == 1


def _idle_twice(path: Path) -> weakref.ref[FeedbackStore]:
    """Two adds, each followed by the writer thread ending idle; the store, never closed,
    as a weak reference."""
    store = FeedbackStore.from_url(f"sqlite:///{path}")
    writer = store._writer = GroupWriter(store._commit_group, store.url, idle=0.05)
    for n in (1, 2):  # the second add starts a new thread
        assert store.add(row(title=f"add {n}"))["id"] == n
        wait_until(lambda: writer._thread is None, "the idle thread ended")
    return weakref.ref(store)


def test_an_idle_writer_thread_ends_and_an_unclosed_store_can_be_collected(tmp_path: Path):
    gone = _idle_twice(tmp_path / "f.sqlite3")
    gc.collect()
    assert gone() is None  # no thread holds it: nothing left open by a store never closed
