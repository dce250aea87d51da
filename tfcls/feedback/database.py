"""The feedback database underneath the store: tables, migrations, URLs, SQLite plumbing.

:data:`MIGRATIONS` are applied in order by :class:`tfcls.feedback.store.FeedbackStore`
(``schema_migrations`` records them); the SQLite listeners give every connection WAL,
``synchronous=FULL`` and a busy timeout, and queue a process's writers to one file on a
lock; URLs are parsed and masked here so every message names the database the same way.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url

from tfcls.errors import TfclsError

BUSY_TIMEOUT_MS = 10_000  # SQLite: how long a writer waits for another's lock
PG_CONNECT_TIMEOUT_S = 10
PG_MIGRATION_LOCK = 0x7466636C73  # "tfcls": pg_advisory_xact_lock key for migrations


class StoreError(TfclsError):
    """The feedback store cannot be opened, migrated, written or read (says which, and why)."""


# --- schema -------------------------------------------------------------------------------


class LabelSet(sa.types.TypeDecorator):
    """A list of labels kept as JSON text (``["bug", "ui"]``; NULL: no set), so SQLite and
    PostgreSQL store it alike and a query reads it back as a Python list."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else json.dumps(list(value), ensure_ascii=False)

    def process_result_value(self, value: Any, dialect: Any) -> list[str] | None:
        if value is None:
            return None
        try:
            labels = json.loads(value)
        except ValueError:
            labels = None
        if not isinstance(labels, list):
            raise StoreError(f"a stored label set is not a JSON list: {value[:80]!r}")
        return labels


_meta = sa.MetaData()

schema_migrations = sa.Table(
    "schema_migrations",
    _meta,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", sa.Text, nullable=False),
)

# The latest shape of ``feedback``, for queries. Migrations build their own tables and
# never use this one, so that version N always creates exactly what it did when written.
feedback = sa.Table(
    "feedback",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("predicted_label", sa.Text, nullable=True),
    sa.Column("confidence", sa.Float, nullable=True),
    sa.Column("chosen_label", sa.Text, nullable=True),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("model_version", sa.Text, nullable=False),
    sa.Column("client_id", sa.Text, nullable=False),
    sa.Column("chosen_labels", LabelSet, nullable=True),
    sa.Column("predicted_labels", LabelSet, nullable=True),
    sqlite_autoincrement=True,
)


def _v1_create_feedback(conn: Connection) -> None:
    """Version 1: the ``feedback`` table."""
    meta = sa.MetaData()
    table = sa.Table(
        "feedback",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("predicted_label", sa.Text, nullable=True),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("chosen_label", sa.Text, nullable=True),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("model_version", sa.Text, nullable=False),
        sa.Column("client_id", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    table.create(conn)


def _v2_index_version_and_time(conn: Connection) -> None:
    """Version 2: indexes for per-model-version stats and time-range exports."""
    meta = sa.MetaData()
    table = sa.Table(
        "feedback",
        meta,
        sa.Column("model_version", sa.Text),
        sa.Column("created_at", sa.Text),
    )
    sa.Index("ix_feedback_model_version", table.c.model_version).create(conn)
    sa.Index("ix_feedback_created_at", table.c.created_at).create(conn)


def _v3_label_sets(conn: Connection) -> None:
    """Version 3: multi-label verdicts' label sets, as JSON text (NULL on older rows and
    on single-label verdicts). ``ADD COLUMN`` keeps every row and works on both backends."""
    for column in ("chosen_labels", "predicted_labels"):
        conn.exec_driver_sql(f"ALTER TABLE feedback ADD COLUMN {column} TEXT NULL")


# Applied in order: MIGRATIONS[i] takes a database from version i to version i + 1.
# Append only; never edit or reorder a migration that has been released.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (
    _v1_create_feedback,
    _v2_index_version_and_time,
    _v3_label_sets,
)
SCHEMA_VERSION: int = len(MIGRATIONS)


# --- SQLite plumbing ----------------------------------------------------------------------

# Writers to one SQLite file within this process queue here (fairly, without polling)
# before asking SQLite for its write lock; other processes wait in SQLite's busy handler.
_sqlite_write_locks: dict[str, threading.Lock] = {}
_sqlite_write_locks_guard = threading.Lock()
open_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


def sqlite_write_lock(path: str) -> threading.Lock:
    with _sqlite_write_locks_guard:
        return _sqlite_write_locks.setdefault(path, threading.Lock())


def _after_fork_in_child() -> None:
    """A forked child (gunicorn --preload) must not reuse its parent's connections/locks."""
    global _sqlite_write_locks_guard
    _sqlite_write_locks_guard = threading.Lock()
    for path in list(_sqlite_write_locks):
        _sqlite_write_locks[path] = threading.Lock()
    for engine in list(open_engines):
        engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _journal_mode_wal(cursor: Any) -> str:
    """``PRAGMA journal_mode = WAL``, retried while another connection holds the lock: on
    a new file SQLite answers "database is locked" at once, without its busy handler, when
    openers race (seen with 8 threads opening one new store on a loaded machine)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def install_sqlite_listeners(engine: Engine, path: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module: BEGIN is ours (below).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = _journal_mode_wal(cursor)
            if str(mode).lower() != "wal":
                raise StoreError(
                    f"{path}: SQLite refused WAL mode (journal_mode is {mode!r}); put storage.path "
                    "on a local file system"
                )
            cursor.execute("PRAGMA synchronous = FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("tfcls_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


# --- URLs and errors ----------------------------------------------------------------------

SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite"}
_PG_DRIVERS = {"postgresql", "postgresql+psycopg", "postgres"}
_URL_HELP = "use sqlite:///ABSOLUTE/PATH.sqlite3 or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB"


def mask_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def parse_url(url: str | URL, source: str) -> URL:
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except Exception as err:  # ArgumentError, ValueError (bad port) …
        raise StoreError(f"{source}: not a database URL ({err}); {_URL_HELP}") from None
    if parsed.drivername in _PG_DRIVERS:
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername not in SQLITE_DRIVERS:
        raise StoreError(
            f"{source} {mask_url(parsed)!r}: unsupported database type {parsed.drivername!r}; "
            f"{_URL_HELP}"
        )
    return parsed


def error_reason(err: BaseException) -> str:
    """The driver's message without SQLAlchemy's statement/background lines."""
    orig = getattr(err, "orig", None) or err
    return " ".join(str(orig).split()) or type(orig).__name__


def prepare_sqlite_path(path: Path, source: str) -> Path:
    """Create the parent folders; refuse what SQLite could not use, saying why."""
    path = path.expanduser().absolute()
    try:
        return _check_sqlite_path(path, source)
    except OSError as err:  # e.g. a parent folder that cannot be searched
        raise StoreError(
            f"{source} {path}: cannot use this path ({err.strerror or err}: "
            f"{err.filename or path}); choose a storage.path this user can write"
        ) from None


def _check_sqlite_path(path: Path, source: str) -> Path:
    if path.is_dir():
        raise StoreError(
            f"{source} {path}: is a directory; storage.path must name a SQLite file, "
            f"e.g. {path / 'feedback.sqlite3'}"
        )
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StoreError(
            f"{source} {path}: cannot create folder {err.filename or parent} "
            f"({err.strerror or err}); choose a writable storage.path or create the folder"
        ) from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise StoreError(
            f"{source} {path}: folder {parent} is not writable (SQLite needs to create the "
            "database and its -wal/-shm files there); fix its permissions or choose "
            "another storage.path"
        )
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise StoreError(
            f"{source} {path}: file is not readable and writable; fix its permissions "
            "or choose another storage.path"
        )
    return path


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
