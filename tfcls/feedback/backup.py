"""Back up the feedback store: a consistent, verified copy of its SQLite file, taken live.

:func:`backup` copies ``store.sqlite_path`` with SQLite's online backup API
(:meth:`sqlite3.Connection.backup`), :data:`STEP_PAGES` pages per step, inside one read
transaction on the source: the copy is the database as it was at one instant, with
exactly the rows counted at that instant, and the server goes on writing meanwhile (in WAL
mode, which the store always uses, a reader never blocks writers, and a held snapshot
keeps the copy from restarting when they commit). The copy is written to a temp file next
to PATH, checked (``PRAGMA integrity_check`` is ok, its row count is the snapshot's),
fsynced and renamed into place: PATH is never half a backup. An existing PATH is kept
unless ``force`` (``--force``).

**Restoring**: a backup IS a feedback database (a SQLite file, in WAL mode like the live
one). Point ``storage.path`` at it (``--set storage.path=PATH``), or stop the server,
delete the old file's ``-wal`` and ``-shm`` files if any are left, and copy the backup over
the old file.

**PostgreSQL** has no file to copy: :func:`backup` raises :class:`StoreError` with the
``pg_dump`` command for the configured database (:func:`pg_dump_command`) and the
``pg_restore`` one that puts it back (:func:`pg_restore_command`).
"""

from __future__ import annotations

import os
import shlex
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from tfcls.atomic import replacing
from tfcls.feedback.database import BUSY_TIMEOUT_MS, StoreError
from tfcls.feedback.store import FeedbackStore

STEP_PAGES = 1024  # pages copied per backup step (4 MiB with SQLite's default page size)


@dataclass(frozen=True)
class BackupResult:
    """A finished backup: where it is, the rows it holds, its size and how long it took."""

    path: Path
    rows: int
    bytes: int
    seconds: float


def backup(
    store: FeedbackStore, path: str | Path, *, force: bool = False, step_pages: int = STEP_PAGES
) -> BackupResult:
    """Copy the store's SQLite database to ``path`` (a new file, or any file with ``force``).

    Raises StoreError naming the path and what to do when it cannot (it exists, its folder
    does not, it is the live database …) and, on PostgreSQL, with the pg_dump command to
    run instead."""
    if store.sqlite_path is None:
        raise StoreError(pg_guidance(store.url, path))
    if step_pages < 1:
        raise ValueError(f"step_pages must be ≥ 1, got {step_pages}")
    start = time.perf_counter()
    source = Path(store.sqlite_path)
    target = _target(path, source, force)
    try:
        with replacing(target) as tmp:
            try:
                os.chmod(tmp, source.stat().st_mode & 0o777)  # readable by whom the live is
                rows = _copy(source, tmp, step_pages, target)
                _verify(tmp, rows, target)
            finally:
                for name in (f"{tmp}{s}" for s in ("-wal", "-shm", "-journal")):
                    Path(name).unlink(missing_ok=True)
            if target.exists() and not force:  # appeared while we copied
                raise StoreError(_exists_message(target))
    except OSError as err:
        raise StoreError(
            f"backup {target}: cannot write a file in {target.parent} ({err.strerror}); "
            "choose a folder this user can write, with room to spare"
        ) from None
    return BackupResult(target, rows, target.stat().st_size, time.perf_counter() - start)


def _exists_message(target: Path) -> str:
    return (
        f"backup {target}: already exists; choose a new path, or pass --force to replace it "
        "(it is replaced only once the new copy is complete and verified)"
    )


def _target(path: str | Path, source: Path, force: bool) -> Path:
    """``path`` made absolute, if a backup may be written there."""
    target = Path(path).expanduser().absolute()
    if target.is_dir():
        raise StoreError(
            f"backup {target}: is a folder; name the backup file, e.g. "
            f"{target / 'feedback-backup.sqlite3'}"
        )
    if not target.parent.is_dir():
        raise StoreError(
            f"backup {target}: folder {target.parent} does not exist; create it or choose "
            "another path"
        )
    live = {source.resolve(), *(Path(f"{source}{s}").resolve() for s in ("-wal", "-shm"))}
    if target.resolve() in live:
        raise StoreError(
            f"backup {target}: is the live feedback database (storage.path) or one of its "
            "files; back up to another file"
        )
    if target.exists() and not force:
        raise StoreError(_exists_message(target))
    return target


def _copy(source: Path, tmp: Path, step_pages: int, target: Path) -> int:
    """Back up ``source`` into ``tmp`` from one read snapshot; the rows it holds."""
    try:
        src = sqlite3.connect(source, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as err:
        raise StoreError(f"backup of {source}: cannot open it ({err})") from None
    try:
        src.execute("BEGIN")  # a read transaction: the snapshot starts at the first read
        rows = int(src.execute("SELECT count(*) FROM feedback").fetchone()[0])
        dst = sqlite3.connect(tmp, isolation_level=None)
        try:
            src.backup(dst, pages=step_pages, sleep=0.01)
        finally:
            dst.close()
        src.execute("COMMIT")
    except sqlite3.Error as err:
        raise StoreError(
            f"backup of {source} to {target} failed ({err}); nothing was written to {target}"
        ) from None
    finally:
        src.close()
    return rows


def _verify(copy: Path, rows: int, target: Path) -> None:
    """The copy is a sound database holding the snapshot's ``rows`` rows."""
    problem = None
    try:
        conn = sqlite3.connect(copy, isolation_level=None)
        try:
            check = [r[0] for r in conn.execute("PRAGMA integrity_check")]
            copied = int(conn.execute("SELECT count(*) FROM feedback").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error as err:
        problem = f"cannot read it back ({err})"
    else:
        if check != ["ok"]:
            problem = f"integrity_check says {'; '.join(map(str, check[:3]))}"
        elif copied != rows:
            problem = f"it holds {copied} rows, the source held {rows}"
    if problem is not None:
        raise StoreError(
            f"backup to {target}: the copy failed verification ({problem}); nothing was "
            f"written to {target}; check the disk and the source with PRAGMA integrity_check"
        )


# --- PostgreSQL ---------------------------------------------------------------------------


def _libpq_url(url: str) -> str:
    """The store's (masked) SQLAlchemy URL as libpq takes it: no driver, no password."""
    parsed = make_url(url)
    plain = URL.create(
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )
    return plain.render_as_string(hide_password=False)


def pg_dump_command(url: str, path: str | Path) -> list[str]:
    """``pg_dump`` of the database ``url`` into the custom-format archive ``path``."""
    return ["pg_dump", "--format=custom", "--file", str(path), _libpq_url(url)]


def pg_restore_command(url: str, path: str | Path) -> list[str]:
    """``pg_restore`` of the archive ``path`` into ``url``, replacing the tables there."""
    return [
        "pg_restore",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--dbname",
        _libpq_url(url),
        str(path),
    ]


def pg_guidance(url: str, path: str | Path) -> str:
    """Why ``backup`` does not copy a PostgreSQL store, and the commands that do."""
    return (
        f"storage.url {url} is PostgreSQL; tfcls backs up SQLite files only. Back it up with "
        f"pg_dump: {shlex.join(pg_dump_command(url, path))} (the password from PGPASSWORD or "
        f"~/.pgpass); restore it with: {shlex.join(pg_restore_command(url, path))} (into an "
        "empty database, or over the feedback tables there)"
    )
