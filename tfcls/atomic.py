"""Files replaced in one step: a reader (or a crash) sees the old file or the whole new one.

The one way tfcls writes a file that something else may read meanwhile (run records,
``runs/LATEST``, ``exported/current.json``, embedding-cache shards, compressed vendor
files, feedback exports and backups, label suggestions): the new content goes to a temp
file next to the target, is fsynced, renamed over the target (``os.replace``, atomic on
one filesystem), and the folder is fsynced so the rename itself survives a power cut. A
failure anywhere removes the temp file and leaves the target as it was.

    with open_replacing(path) as f:        # text ("w", UTF-8) or mode="wb"
        f.write(...)
    write_replacing(path, "text or bytes")
    with replacing(path) as tmp:           # a path another writer fills (SQLite's backup)
        ...
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def fsync_path(path: str | Path) -> None:
    """Flush a file, or a folder's entries, to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """Yield a new, empty temp file next to ``path`` for the block to fill; when the block
    succeeds it is fsynced and renamed over ``path``, when it fails it is removed.

    The temp file is created with the umask's permissions (as ``open`` would create
    ``path``), its name hidden (``.<name>.<random>.tmp``). Raises OSError when the folder
    cannot hold it (callers name their option and what to do)."""
    target = Path(path)
    tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        yield tmp
        fsync_path(tmp)
        os.replace(tmp, target)
        fsync_path(target.parent)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def open_replacing(path: str | Path, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """:func:`replacing`, opened: ``mode`` "w" (UTF-8 unless ``encoding`` is given; other
    ``open`` keywords such as ``newline`` pass through) or "wb"."""
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    if mode == "w":
        kwargs.setdefault("encoding", "utf-8")
    with replacing(path) as tmp, open(tmp, mode, **kwargs) as f:
        yield f


def write_replacing(path: str | Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` (UTF-8 text or bytes) in one step."""
    with open_replacing(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
