"""The durable feedback store: what users said about predictions, kept for retraining.

One code path (SQLAlchemy Core) over two backends:

- **SQLite** (default, ``storage.path``): WAL journal, ``synchronous=FULL`` and a busy
  timeout on every connection, write transactions opened with ``BEGIN IMMEDIATE``, so
  several processes (gunicorn workers) and threads can write at once without "database is
  locked" errors; within one process, writers to a file also queue on a lock. A row is on
  disk when :meth:`FeedbackStore.add` returns.
- **PostgreSQL** (``storage.url = postgresql+psycopg://user:pw@host:port/db``): an
  ordinary connection pool; a committed row is as durable as the server makes it.

The schema is versioned: ``schema_migrations(version, applied_at)`` records the
migrations applied, in order, from :data:`MIGRATIONS`. :meth:`FeedbackStore.open`
applies the missing ones, one transaction each, under a lock (SQLite: ``BEGIN
IMMEDIATE``; PostgreSQL: a transaction-level advisory lock), so concurrent openers never
apply one twice. A database newer than this code is refused ("upgrade tfcls").

``feedback`` (schema version 2)::

    id               INTEGER PRIMARY KEY (autoincrement; SQLite AUTOINCREMENT: never reused)
    created_at       TEXT NOT NULL   ISO-8601 UTC, e.g. 2026-01-31T12:00:00.123456+00:00
    title            TEXT NOT NULL   non-empty
    description      TEXT NOT NULL   may be ''
    predicted_label  TEXT NULL
    confidence       FLOAT NULL      finite
    chosen_label     TEXT NULL
    action           TEXT NOT NULL   one of ACTIONS
    model_version    TEXT NOT NULL   indexed (v2)
    client_id        TEXT NOT NULL
    -- index on created_at (v2)

Text fields may hold any Unicode except NUL (PostgreSQL cannot store it) and lone
surrogates (not encodable); :meth:`FeedbackStore.add` refuses those with an error naming
the field instead of storing something else.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url

from tfcls.config import StorageConfig
from tfcls.errors import TfclsError
from tfcls.feedback.schema import ACTIONS, check_row

BUSY_TIMEOUT_MS = 10_000  # SQLite: how long a writer waits for another's lock
PG_CONNECT_TIMEOUT_S = 10
_PG_MIGRATION_LOCK = 0x7466636C73  # "tfcls": pg_advisory_xact_lock key for migrations


class StoreError(TfclsError):
    """The feedback store cannot be opened, migrated, written or read (says which, and why)."""


# --- schema -------------------------------------------------------------------------------

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


# Applied in order: MIGRATIONS[i] takes a database from version i to version i + 1.
# Append only; never edit or reorder a migration that has been released.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (
    _v1_create_feedback,
    _v2_index_version_and_time,
)
SCHEMA_VERSION: int = len(MIGRATIONS)


# --- SQLite plumbing ----------------------------------------------------------------------

# Writers to one SQLite file within this process queue here (fairly, without polling)
# before asking SQLite for its write lock; other processes wait in SQLite's busy handler.
_sqlite_write_locks: dict[str, threading.Lock] = {}
_sqlite_write_locks_guard = threading.Lock()
_open_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


def _sqlite_write_lock(path: str) -> threading.Lock:
    with _sqlite_write_locks_guard:
        return _sqlite_write_locks.setdefault(path, threading.Lock())


def _after_fork_in_child() -> None:
    """A forked child (gunicorn --preload) must not reuse its parent's connections/locks."""
    global _sqlite_write_locks_guard
    _sqlite_write_locks_guard = threading.Lock()
    for path in list(_sqlite_write_locks):
        _sqlite_write_locks[path] = threading.Lock()
    for engine in list(_open_engines):
        engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _install_sqlite_listeners(engine: Engine, path: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module: BEGIN is ours (below).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]
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

_SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite"}
_PG_DRIVERS = {"postgresql", "postgresql+psycopg", "postgres"}
_URL_HELP = "use sqlite:///ABSOLUTE/PATH.sqlite3 or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB"


def _mask(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _parse_url(url: str | URL, source: str) -> URL:
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except Exception as err:  # ArgumentError, ValueError (bad port) …
        raise StoreError(f"{source}: not a database URL ({err}); {_URL_HELP}") from None
    if parsed.drivername in _PG_DRIVERS:
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername not in _SQLITE_DRIVERS:
        raise StoreError(
            f"{source} {_mask(parsed)!r}: unsupported database type {parsed.drivername!r}; "
            f"{_URL_HELP}"
        )
    return parsed


def _reason(err: BaseException) -> str:
    """The driver's message without SQLAlchemy's statement/background lines."""
    orig = getattr(err, "orig", None) or err
    return " ".join(str(orig).split()) or type(orig).__name__


def _prepare_sqlite_path(path: Path, source: str) -> Path:
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


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _check_row(row: Any, where: str) -> dict[str, Any]:
    """The row's values in FIELDS order, or StoreError naming the offending field
    (the rules are :func:`tfcls.feedback.schema.check_row`)."""
    checked, problem = check_row(row)
    if checked is None:
        raise StoreError(f"{where}: {problem}")
    return checked


# --- the store ----------------------------------------------------------------------------


class FeedbackStore:
    """Feedback rows in SQLite or PostgreSQL; safe to share between threads.

    Open with :meth:`open` (from ``config.storage``) or :meth:`from_url`; both migrate
    the database to :data:`SCHEMA_VERSION`. ``url`` is what it is connected to, with
    the password masked.
    """

    def __init__(self, engine: Engine, url: str, source: str, sqlite_path: str | None) -> None:
        self._engine = engine
        self.url = url
        self._source = source  # e.g. "storage.path /srv/feedback.sqlite3", for messages
        self._sqlite_path = sqlite_path
        self._is_sqlite = sqlite_path is not None
        self._closed = False

    # -- opening ------------------------------------------------------------------------

    @classmethod
    def open(cls, storage: StorageConfig) -> FeedbackStore:
        """``storage.url`` if set, else the SQLite file ``storage.path`` (folders created)."""
        if storage.url:
            return _connect(storage.url, source="storage.url")
        if not storage.path:
            raise StoreError("storage.path is empty; name a SQLite file or set storage.url")
        path = _prepare_sqlite_path(Path(storage.path), "storage.path")
        # A URL object, not a string: '?', '#' or '%' in a file name stay part of the name.
        return _connect(URL.create("sqlite", database=str(path)), source="storage.path")

    @classmethod
    def from_url(cls, url: str) -> FeedbackStore:
        """``sqlite:///abs/path.db`` or ``postgresql+psycopg://user:pw@host:port/db``."""
        return _connect(url, source="database URL")

    # -- writing ------------------------------------------------------------------------

    def add(self, row: dict) -> dict:
        """Store one row; returns ``{"id", "created_at"}`` once it is committed."""
        return self.add_many([row])[0]

    def add_many(self, rows: list[dict]) -> list[dict]:
        """Store rows in one transaction: all of them, or (StoreError) none."""
        rows = list(rows)
        values = [
            _check_row(row, f"{self.url}: row {i}" if len(rows) > 1 else self.url)
            for i, row in enumerate(rows)
        ]
        if not values:
            return []
        with self._write("store feedback") as conn:
            created_at = _now()  # inside the write lock: SQLite ids and times agree
            for value in values:
                value["created_at"] = created_at
            stmt = sa.insert(feedback).returning(feedback.c.id, sort_by_parameter_order=True)
            ids = conn.execute(stmt, values).scalars().all()
        return [{"id": int(i), "created_at": created_at} for i in ids]

    # -- reading ------------------------------------------------------------------------

    def rows(self, since_id: int = 0, limit: int | None = None) -> list[dict]:
        """Rows with ``id > since_id`` in id order (at most ``limit``): every column."""
        if limit is not None and limit < 0:
            raise StoreError(f"{self.url}: limit must be ≥ 0, got {limit}")
        stmt = sa.select(feedback).where(feedback.c.id > since_id).order_by(feedback.c.id)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._read("read feedback") as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def count(self) -> int:
        """Number of stored rows."""
        with self._read("count feedback") as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(feedback)).scalar())

    def stats(self) -> dict:
        """Counts: total, by action, by model version (total + by action), by chosen label.

        Every ``by_action`` lists all :data:`ACTIONS` (zeros included); ``by_chosen_label``
        counts rows whose chosen_label is set.
        """
        groups = sa.select(
            feedback.c.model_version,
            feedback.c.action,
            feedback.c.chosen_label,
            sa.func.count().label("n"),
        ).group_by(feedback.c.model_version, feedback.c.action, feedback.c.chosen_label)
        with self._read("read feedback stats") as conn:  # one statement: one snapshot
            result = conn.execute(groups).all()
            version = _current_version(conn)
        out: dict[str, Any] = {
            "total": 0,
            "by_action": dict.fromkeys(ACTIONS, 0),
            "by_model_version": {},
            "by_chosen_label": {},
            "schema_version": version,
        }
        for model_version, action, chosen_label, n in result:
            out["total"] += n
            out["by_action"][action] = out["by_action"].get(action, 0) + n
            per = out["by_model_version"].setdefault(
                model_version, {"total": 0, "by_action": dict.fromkeys(ACTIONS, 0)}
            )
            per["total"] += n
            per["by_action"][action] = per["by_action"].get(action, 0) + n
            if chosen_label is not None:
                labels = out["by_chosen_label"]
                labels[chosen_label] = labels.get(chosen_label, 0) + n
        return out

    def schema_version(self) -> int:
        """The version recorded in the database's ``schema_migrations``."""
        with self._read("read schema version") as conn:
            return _current_version(conn)

    def close(self) -> None:
        """Close the pool's connections; the store cannot be used afterwards."""
        self._closed = True
        self._engine.dispose()

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FeedbackStore({self.url!r})"

    # -- transactions -------------------------------------------------------------------

    @contextmanager
    def _read(self, what: str) -> Iterator[Connection]:
        self._check_open()
        try:
            with self._engine.connect() as conn, conn.begin():
                yield conn
        except sa.exc.SQLAlchemyError as err:
            raise StoreError(
                f"{self._source} {self.url}: could not {what}: {_reason(err)}"
            ) from None

    @contextmanager
    def _write(self, what: str) -> Iterator[Connection]:
        self._check_open()
        lock = _sqlite_write_lock(self._sqlite_path) if self._sqlite_path else None
        if lock is not None:
            lock.acquire()
        try:
            with self._engine.connect() as conn:
                conn.execution_options(tfcls_write=True)
                with conn.begin():
                    yield conn
        except sa.exc.SQLAlchemyError as err:
            raise StoreError(
                f"{self._source} {self.url}: could not {what} (nothing was stored): {_reason(err)}"
            ) from None
        finally:
            if lock is not None:
                lock.release()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"{self.url}: the feedback store is closed")


# --- opening and migrating ----------------------------------------------------------------


def _current_version(conn: Connection) -> int:
    if not sa.inspect(conn).has_table("schema_migrations"):
        return 0
    version = conn.execute(sa.select(sa.func.max(schema_migrations.c.version))).scalar()
    return int(version or 0)


def _connect(url: str | URL, *, source: str, upto: int = SCHEMA_VERSION) -> FeedbackStore:
    """Open ``url`` and migrate it to version ``upto`` (tests pass an older one)."""
    parsed = _parse_url(url, source)
    sqlite_path: str | None = None
    if parsed.drivername in _SQLITE_DRIVERS:
        if not parsed.database or parsed.database == ":memory:" or parsed.query.get("mode"):
            raise StoreError(
                f"{source} {_mask(parsed)!r}: an in-memory SQLite database keeps nothing; "
                "name a file, e.g. sqlite:////srv/tfcls/feedback.sqlite3"
            )
        path = _prepare_sqlite_path(Path(parsed.database), source)
        sqlite_path = str(path)
        parsed = parsed.set(database=sqlite_path)
        engine = sa.create_engine(
            parsed,
            poolclass=sa.pool.QueuePool,  # thread-safe; connections are cheap to keep
            pool_size=5,
            max_overflow=15,
            pool_timeout=60,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        )
        _install_sqlite_listeners(engine, sqlite_path)
    else:
        connect_args = {}
        if "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
        engine = sa.create_engine(
            parsed,
            pool_size=5,  # SQLAlchemy's defaults: ≤ 15 connections per process
            max_overflow=10,
            pool_timeout=60,
            pool_pre_ping=True,  # survive server restarts
            connect_args=connect_args,
        )
    store = FeedbackStore(engine, _mask(parsed), source, sqlite_path)
    try:
        _check_connection(store, parsed, sqlite_path)
        _migrate(store, upto)
    except BaseException:
        engine.dispose()
        raise
    _open_engines.add(engine)
    return store


def _check_connection(store: FeedbackStore, url: URL, sqlite_path: str | None) -> None:
    """Connect once, turning the driver's complaint into what to do about it."""
    try:
        with store._engine.connect() as conn:
            if sqlite_path is None:
                encoding = conn.exec_driver_sql("SHOW server_encoding").scalar()
                if str(encoding).upper() not in ("UTF8", "UTF-8"):
                    raise StoreError(
                        f"{store._source} {store.url}: database encoding is {encoding}, "
                        "feedback needs UTF8; create the database with ENCODING 'UTF8'"
                    )
            else:
                conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
    except sa.exc.SQLAlchemyError as err:
        reason = _reason(err)
        if sqlite_path is not None:
            if "not a database" in reason or "malformed" in reason or "encrypted" in reason:
                raise StoreError(
                    f"{store._source} {sqlite_path}: not a SQLite database ({reason}); point "
                    "storage.path at a new file or an existing feedback database, or move "
                    "this file away"
                ) from None
            raise StoreError(
                f"{store._source} {sqlite_path}: cannot open SQLite database ({reason})"
            ) from None
        where = f"{url.host or 'localhost (unix socket)'}:{url.port or 5432}"
        raise StoreError(
            f"{store._source} {store.url}: cannot connect to PostgreSQL at {where} "
            f"(database {url.database!r}, user {url.username!r}): {reason}; is the server "
            "running and the URL right?"
        ) from None


def _migrate(store: FeedbackStore, upto: int) -> None:
    """Apply MIGRATIONS[current:upto], one locked transaction each."""
    if not 0 <= upto <= SCHEMA_VERSION:
        raise ValueError(f"upto must be in 0..{SCHEMA_VERSION}, got {upto}")
    while True:
        with store._write("migrate the feedback schema") as conn:
            if not store._is_sqlite:
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
            schema_migrations.create(conn, checkfirst=True)
            current = _current_version(conn)
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"{store._source} {store.url}: the feedback database is at schema "
                    f"version {current}, newer than this tfcls knows (version "
                    f"{SCHEMA_VERSION}); upgrade tfcls"
                )
            if current >= upto:
                return
            try:
                MIGRATIONS[current](conn)
            except sa.exc.SQLAlchemyError as err:
                raise StoreError(
                    f"{store._source} {store.url}: migrating the feedback schema from "
                    f"version {current} to {current + 1} failed: {_reason(err)}"
                ) from None
            conn.execute(
                sa.insert(schema_migrations).values(version=current + 1, applied_at=_now())
            )
