"""The bundle registry: ``exported/``, its versions and which one is served.

``exported/<version>/`` holds one bundle (``metadata.json`` and the TF.js files; versions
are never overwritten) and ``exported/current.json`` names the served version. This is
the one place that reads or writes them: the export publishes, rollback and retraining
switch ``current.json`` atomically, and the server re-reads it when it changes.
Metadata comes typed (:class:`tfcls.bundle.metadata.BundleMetadata`).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from tfcls.bundle.metadata import BundleMetadata, MetadataError
from tfcls.errors import TfclsError

POINTER = "current.json"
METADATA = "metadata.json"


class RegistryError(TfclsError):
    """``exported/`` is unreadable (a broken ``current.json`` or ``metadata.json``): the
    server answers 503."""


def _fsync_write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


class Registry:
    """Versions under ``root`` and the current one; :meth:`current` is cheap to call per
    request (one ``stat``; the file is re-read only when it changed)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._current: str | None = None
        self._meta: dict[str, BundleMetadata] = {}

    def __repr__(self) -> str:
        return f"Registry({str(self.root)!r})"

    @property
    def pointer(self) -> Path:
        return self.root / POINTER

    def path(self, version: str) -> Path:
        return self.root / version

    def current(self) -> str | None:
        """The served version, or None before the first export."""
        try:
            st = self.pointer.stat()
        except FileNotFoundError:
            return None
        stamp = (st.st_mtime_ns, st.st_ino)
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._current = json.loads(self.pointer.read_text())["version"]
                except (json.JSONDecodeError, KeyError, TypeError):
                    raise RegistryError(
                        f"{self.pointer}: not a version pointer; export again or roll back "
                        "with `python -m tfcls.export --rollback VERSION`"
                    ) from None
                self._stamp = stamp
            return self._current

    def require_current(self) -> str:
        """The served version, or an error saying how to get one."""
        version = self.current()
        if version is None:
            raise TfclsError(
                f"{self.pointer}: nothing exported yet; run `python -m tfcls.train` then "
                "`python -m tfcls.export`"
            )
        return version

    def metadata(self, version: str) -> BundleMetadata | None:
        """A version's metadata.json, typed (cached: versions never change); None if there
        is no such version. A broken file is a :class:`RegistryError` naming it."""
        if version in self._meta:
            return self._meta[version]
        path = self.root / version / METADATA
        if "/" in version or version.startswith(".") or not path.is_file():
            return None
        try:
            meta = BundleMetadata.from_record(json.loads(path.read_text(encoding="utf-8")), path)
        except json.JSONDecodeError as err:
            raise RegistryError(f"{path}: not valid JSON ({err})") from None
        except MetadataError as err:
            raise RegistryError(str(err)) from None
        self._meta[version] = meta
        return meta

    def require_metadata(self, version: str | None = None) -> tuple[str, BundleMetadata]:
        """(version, metadata) of ``version`` (default: the current one), or an error."""
        version = version or self.require_current()
        meta = self.metadata(version)
        if meta is None:
            raise TfclsError(f"{self.path(version)}: not an exported bundle")
        return version, meta

    def versions(self) -> list[str]:
        """Every exported version, oldest first (names start with their time)."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / METADATA).is_file())

    def set_current(self, version: str) -> None:
        """Atomically point ``current.json`` at ``version`` (which must exist)."""
        from tfcls.training.runs import now

        if self.metadata(version) is None:
            raise TfclsError(f"{self.path(version)}: no such exported version")
        tmp = self.root / f".current-{os.getpid()}.json"
        _fsync_write(tmp, json.dumps({"version": version, "updated_at": now()}, indent=2) + "\n")
        os.replace(tmp, self.pointer)
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
