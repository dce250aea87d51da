"""Group commit: one writer thread per store and process commits the rows of every caller
waiting at that moment in one transaction, so concurrent POSTs share one fsync.

Why: on SQLite with ``synchronous=FULL`` each commit is an fsync, and a request that
commits on its own waits for its fsync and for everyone's before it. Here a caller queues
its (already validated) batch and waits; the writer takes every batch queued so far (up
to :data:`MAX_GROUP_ROWS` rows), runs the store's commit function once for all of them
(one transaction: ``BEGIN IMMEDIATE`` … ``COMMIT`` on SQLite, one transaction on
PostgreSQL) and wakes each caller with its own results. While it commits, the next group
gathers, so the more load, the larger the groups.

Guarantees:

- :meth:`GroupWriter.submit` returns only after the transaction holding its rows has
  committed: what it acknowledges is on disk.
- A failed transaction raises :class:`StoreError` in every caller of its group, and none of
  their rows is stored (the transaction is rolled back as a whole).
- Nobody waits forever: a writer thread that dies fails every queued caller, the next
  :meth:`~GroupWriter.submit` starts a new one, and a caller gives up after ``timeout``
  seconds (its rows may then still be committed, but were never acknowledged).
- The thread is started by the first :meth:`~GroupWriter.submit`, not at construction,
  and ends after :data:`IDLE_S` idle (an unclosed store stays collectable); in
  a forked child (gunicorn ``--preload``) every writer starts over with an empty queue and
  no thread, the next submit starting the child's own.
- :meth:`~GroupWriter.close` refuses new batches, commits the queued ones, stops the thread.

Across processes (gunicorn workers on one SQLite file) the writers take turns through
:func:`process_queue`, an flock: a waiting writer is woken as soon as the file is free,
where SQLite's busy handler would sleep 1, 2, 5 … 100 ms between tries; meanwhile its
own queue grows, so its next group is larger. Correctness never rests on it (SQLite's
``BEGIN IMMEDIATE`` still excludes), only the latency of the wait.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tfcls.feedback.database import StoreError

MAX_GROUP_ROWS = 1000  # rows per transaction at most: bounded transactions under a flood
WAIT_TIMEOUT_S = 60.0  # a caller's longest wait (busy_timeout is 10 s per BEGIN IMMEDIATE)
IDLE_S = 10.0  # a writer thread with nothing to do for this long ends
_POLL_S = 0.5  # how often a waiting caller checks that the writer thread is alive

Batch = list[dict[str, Any]]
# The store's side: commit these batches in one transaction; each batch's results, in order
# (raises StoreError and stores nothing when the transaction fails).
CommitGroup = Callable[[list[Batch]], list[list[dict[str, Any]]]]


class _Pending:
    """One caller's batch, waiting for the transaction that stores it."""

    __slots__ = ("_lock", "done", "error", "result", "rows")

    def __init__(self, rows: Batch) -> None:
        self.rows = rows
        self.done = threading.Event()
        self.result: list[dict[str, Any]] | None = None
        self.error: str | None = None
        self._lock = threading.Lock()

    def finish(self, result: list[dict[str, Any]] | None, error: str | None) -> None:
        """The answer (results or an error message); the first one given stands."""
        with self._lock:
            if not self.done.is_set():
                self.result, self.error = result, error
                self.done.set()


class GroupWriter:
    """Commits concurrent callers' batches together (see the module docstring).

    In this process, ``groups`` counts the groups taken into a transaction and
    ``commits`` the transactions committed (compare them with the rows stored).
    """

    def __init__(
        self,
        commit: CommitGroup,
        name: str,
        *,
        max_rows: int = MAX_GROUP_ROWS,
        timeout: float = WAIT_TIMEOUT_S,
        idle: float = IDLE_S,
    ) -> None:
        self._commit = commit
        self._name = name  # the store's URL, for messages
        self._max_rows = max_rows
        self._timeout = timeout
        self._idle = idle
        self._closed = False
        self._start_over()
        _writers.add(self)

    def _start_over(self) -> None:
        """No queue, no thread: at construction and in a forked child."""
        self._cond = threading.Condition()
        self._queue: deque[_Pending] = deque()
        self._thread: threading.Thread | None = None
        self.groups = 0
        self.commits = 0

    @property
    def queued(self) -> int:
        """Batches waiting to be taken into a transaction (not counting the one running)."""
        with self._cond:
            return len(self._queue)

    def submit(self, rows: Batch) -> list[dict[str, Any]]:
        """Store ``rows`` in the next group's transaction; their results once committed.

        Raises StoreError when the store is closed, the transaction failed (nothing of
        its group stored), the writer stopped, or no answer came within ``timeout``.
        """
        pending = _Pending(rows)
        with self._cond:
            if self._closed:
                raise StoreError(f"{self._name}: the feedback store is closed")
            thread = self._thread
            if thread is None or not thread.is_alive():
                thread = self._thread = threading.Thread(
                    target=self._run, name=f"tfcls-feedback-writer-{os.getpid()}", daemon=True
                )
                thread.start()
            self._queue.append(pending)
            self._cond.notify()
        self._wait(pending, thread)
        if pending.error is not None:
            raise StoreError(pending.error)
        assert pending.result is not None
        return pending.result

    def _wait(self, pending: _Pending, thread: threading.Thread) -> None:
        """Until ``pending`` is answered; a batch still queued when its writer thread is
        gone or the timeout passes is taken back (never stored) and fails."""
        deadline = time.monotonic() + self._timeout
        while not pending.done.wait(_POLL_S):
            gone, late = not thread.is_alive(), time.monotonic() > deadline
            if not (gone or late):
                continue
            with self._cond:
                queued = pending in self._queue
                if queued:
                    self._queue.remove(pending)
            if queued:
                why = "stopped" if gone else f"took nothing for {self._timeout:g} s"
                pending.finish(None, f"{self._name}: the feedback writer {why} (nothing stored)")
            elif late:  # in a transaction that has not ended: it may yet commit
                pending.finish(
                    None,
                    f"{self._name}: no commit within {self._timeout:g} s; the feedback "
                    "may or may not have been stored",
                )

    def close(self) -> None:
        """Refuse new batches, commit those queued, stop the thread (waits for it)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self._timeout)

    # -- the writer thread --------------------------------------------------------------

    def _run(self) -> None:
        group: list[_Pending] | None = None
        try:
            while (group := self._take()) is not None:
                self._commit_group(group)
        finally:  # whatever stopped the thread, nobody is left waiting (answered: no-op)
            left: list[_Pending] = []
            with self._cond:  # from here on, submit() starts a new thread
                if self._thread is threading.current_thread():  # not an idle exit
                    left, self._queue = list(self._queue), deque()
                    self._thread = None
            for pending in group or ():
                pending.finish(
                    None,
                    f"{self._name}: the feedback writer stopped during a commit; the "
                    "feedback may or may not have been stored",
                )
            for pending in left:
                pending.finish(None, f"{self._name}: the feedback writer stopped (nothing stored)")

    def _take(self) -> list[_Pending] | None:
        """The batches queued now (≤ max_rows rows, at least one); None once closed and
        drained, or after ``idle`` seconds without any (the thread ends, so an unclosed
        store can be collected; the next submit starts a new one)."""
        with self._cond:
            while not self._queue and not self._closed:
                if not self._cond.wait(self._idle) and not self._queue:
                    self._thread = None  # under the lock: submit() sees it at once
                    return None
            if not self._queue:
                return None
            group = [self._queue.popleft()]
            rows = len(group[0].rows)
            while self._queue and rows + len(self._queue[0].rows) <= self._max_rows:
                rows += len(self._queue[0].rows)
                group.append(self._queue.popleft())
            self.groups += 1
            return group

    def _commit_group(self, group: list[_Pending]) -> None:
        """One transaction for the group; every caller gets its results or the error."""
        try:
            results = self._commit([pending.rows for pending in group])
        except StoreError as err:
            for pending in group:
                pending.finish(None, str(err))
            return
        except Exception as err:  # a bug, not the database: fail the group, keep serving
            for pending in group:
                pending.finish(None, f"{self._name}: could not store feedback: {err!r}")
            return
        self.commits += 1
        for pending, result in zip(group, results, strict=True):
            pending.finish(result, None)


_writers: weakref.WeakSet[GroupWriter] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """The parent's writer threads do not exist in a forked child, nor its callers: every
    writer starts over (its lock may have been held by a parent thread at the fork)."""
    for writer in list(_writers):
        writer._start_over()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@contextmanager
def process_queue(sqlite_path: str) -> Iterator[None]:
    """Hold the flock of ``<sqlite_path>-writer.lock`` (waiting for other processes'
    writers). Opened per transaction, so a forked child never shares its parent's lock."""
    try:
        fd = os.open(f"{sqlite_path}-writer.lock", os.O_RDONLY | os.O_CREAT, 0o666)
    except OSError as err:
        raise StoreError(
            f"{sqlite_path}-writer.lock: cannot open the writers' lock file ({err.strerror}); "
            "the feedback folder must be writable"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock
