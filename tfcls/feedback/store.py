"""The durable feedback store: what users said about predictions, kept for retraining.

One code path (SQLAlchemy Core) over two backends:

- **SQLite** (default, ``storage.path``): WAL journal, ``synchronous=FULL`` and a busy
  timeout on every connection, write transactions opened with ``BEGIN IMMEDIATE``, so
  several processes (gunicorn workers) and threads can write at once without "database is
  locked" errors; within one process, writers to a file also queue on a lock, and feedback
  writers of several processes on an flock. A row is on disk when
  :meth:`FeedbackStore.add` returns.
- **PostgreSQL** (``storage.url = postgresql+psycopg://user:pw@host:port/db``): an
  ordinary connection pool; a committed row is as durable as the server makes it.

Writes are group-committed (:mod:`tfcls.feedback.writer`): concurrent ``add``/``add_many``
calls of a process share one transaction (one fsync), each returning once it committed.

The schema is versioned: ``schema_migrations(version, applied_at)`` records the
migrations applied, in order, from :data:`MIGRATIONS`. :meth:`FeedbackStore.open`
applies the missing ones, one transaction each, under a lock (SQLite: ``BEGIN
IMMEDIATE``; PostgreSQL: a transaction-level advisory lock), so concurrent openers never
apply one twice. A database newer than this code is refused ("upgrade tfcls").

``feedback`` (schema version 3)::

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
    chosen_labels    TEXT NULL       v3: a multi-label verdict's chosen labels, JSON list
    predicted_labels TEXT NULL       v3: the labels the model selected, JSON list (may be [])
    -- index on created_at (v2)

Text fields may hold any Unicode except NUL (PostgreSQL cannot store it) and lone
surrogates (not encodable); :meth:`FeedbackStore.add` refuses those with an error naming
the field instead of storing something else. Label sets are read back as lists (None on
single-label rows and on rows stored before version 3); :meth:`FeedbackStore.stats`
counts single-label chosen labels only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from tfcls.config import StorageConfig
from tfcls.feedback.database import (
    BUSY_TIMEOUT_MS,
    MIGRATIONS,
    PG_CONNECT_TIMEOUT_S,
    PG_MIGRATION_LOCK,
    SCHEMA_VERSION,
    SQLITE_DRIVERS,
    StoreError,
    error_reason,
    feedback,
    install_sqlite_listeners,
    mask_url,
    now,
    open_engines,
    parse_url,
    prepare_sqlite_path,
    schema_migrations,
    sqlite_write_lock,
)
from tfcls.feedback.schema import ACTIONS, LABEL_SET_FIELDS, check_row
from tfcls.feedback.writer import Batch, GroupWriter, process_queue


def _check_row(row: Any, where: str) -> dict[str, Any]:
    """The row's values in ROW_FIELDS order, or StoreError naming the offending field
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
        self._writer = GroupWriter(self._commit_group, url)

    # -- opening ------------------------------------------------------------------------

    @classmethod
    def open(cls, storage: StorageConfig) -> FeedbackStore:
        """``storage.url`` if set, else the SQLite file ``storage.path`` (folders created)."""
        if storage.url:
            return _connect(storage.url, source="storage.url")
        if not storage.path:
            raise StoreError("storage.path is empty; name a SQLite file or set storage.url")
        path = prepare_sqlite_path(Path(storage.path), "storage.path")
        # A URL object, not a string: '?', '#' or '%' in a file name stay part of the name.
        return _connect(URL.create("sqlite", database=str(path)), source="storage.path")

    @classmethod
    def from_url(cls, url: str) -> FeedbackStore:
        """``sqlite:///abs/path.db`` or ``postgresql+psycopg://user:pw@host:port/db``."""
        return _connect(url, source="database URL")

    @property
    def sqlite_path(self) -> str | None:
        """The SQLite file this store writes (None on PostgreSQL): backups copy it."""
        return self._sqlite_path

    # -- writing ------------------------------------------------------------------------

    def add(self, row: dict) -> dict:
        """Store one row; returns ``{"id", "created_at"}`` once it is committed."""
        return self.add_many([row])[0]

    def add_many(self, rows: list[dict]) -> list[dict]:
        """Store rows in one transaction (shared with other callers'): all of them, or
        (StoreError) none. Rows are checked here, so a bad one fails only this call."""
        self._check_open()
        rows = list(rows)
        values = [
            _check_row(row, f"{self.url}: row {i}" if len(rows) > 1 else self.url)
            for i, row in enumerate(rows)
        ]
        if not values:
            return []
        return self._writer.submit(values)

    @property
    def commits(self) -> int:
        """Write transactions of :meth:`add_many` committed in this process (rows share them)."""
        return self._writer.commits

    def _commit_group(self, batches: list[Batch]) -> list[list[dict]]:
        """The writer thread's transaction: every batch's rows, one ``created_at``."""
        values = [value for batch in batches for value in batch]
        if all(v[name] is None for v in values for name in LABEL_SET_FIELDS):
            # single-label rows leave the label-set columns to their default (NULL), so
            # the insert is the same as before schema version 3 had them
            values = [
                {k: v for k, v in value.items() if k not in LABEL_SET_FIELDS} for value in values
            ]
        path = self._sqlite_path
        with process_queue(path) if path else nullcontext(), self._write("store feedback") as conn:
            created_at = now()  # inside the write lock: SQLite ids and times agree
            for value in values:
                value["created_at"] = created_at
            stmt = sa.insert(feedback).returning(feedback.c.id, sort_by_parameter_order=True)
            ids = iter(conn.execute(stmt, values).scalars().all())
        return [[{"id": int(next(ids)), "created_at": created_at} for _ in b] for b in batches]

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
        """Commit the rows queued, then close the pool's connections; the store cannot be
        used afterwards."""
        self._writer.close()  # refuses new rows first, so none is queued after the drain
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
                f"{self._source} {self.url}: could not {what}: {error_reason(err)}"
            ) from None

    @contextmanager
    def _write(self, what: str) -> Iterator[Connection]:
        self._check_open()
        lock = sqlite_write_lock(self._sqlite_path) if self._sqlite_path else None
        if lock is not None:
            lock.acquire()
        try:
            with self._engine.connect() as conn:
                conn.execution_options(tfcls_write=True)
                with conn.begin():
                    yield conn
        except sa.exc.SQLAlchemyError as err:
            why = error_reason(err)
            raise StoreError(
                f"{self._source} {self.url}: could not {what} (nothing was stored): {why}"
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
    parsed = parse_url(url, source)
    sqlite_path: str | None = None
    if parsed.drivername in SQLITE_DRIVERS:
        if not parsed.database or parsed.database == ":memory:" or parsed.query.get("mode"):
            raise StoreError(
                f"{source} {mask_url(parsed)!r}: an in-memory SQLite database keeps nothing; "
                "name a file, e.g. sqlite:////srv/tfcls/feedback.sqlite3"
            )
        path = prepare_sqlite_path(Path(parsed.database), source)
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
        install_sqlite_listeners(engine, sqlite_path)
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
    store = FeedbackStore(engine, mask_url(parsed), source, sqlite_path)
    try:
        _check_connection(store, parsed, sqlite_path)
        _migrate(store, upto)
    except BaseException:
        engine.dispose()
        raise
    open_engines.add(engine)
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
        reason = error_reason(err)
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
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(PG_MIGRATION_LOCK)))
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
                    f"version {current} to {current + 1} failed: {error_reason(err)}"
                ) from None
            conn.execute(sa.insert(schema_migrations).values(version=current + 1, applied_at=now()))
