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
import shutil
import threading
from collections.abc import Iterable
from pathlib import Path

from tfcls.atomic import write_replacing
from tfcls.bundle.metadata import BundleMetadata, MetadataError
from tfcls.errors import TfclsError

POINTER = "current.json"
HISTORY = 10  # earlier current versions current.json remembers (rollback targets)
METADATA = "metadata.json"


class RegistryError(TfclsError):
    """``exported/`` is unreadable (a broken ``current.json`` or ``metadata.json``): the
    server answers 503."""


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
        if "/" in version or version.startswith(".") or len(version) > 255:
            return None  # not a folder name this registry could have written
        try:
            if not path.is_file():
                return None
        except (OSError, ValueError):  # e.g. a NUL byte: no such version either
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

    def previous(self) -> list[str]:
        """Versions that were current before this one, most recent first (``current.json``
        keeps the last :data:`HISTORY`): what a rollback goes back to."""
        try:
            record = json.loads(self.pointer.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return []
        previous = record.get("previous") if isinstance(record, dict) else None
        return [v for v in previous if isinstance(v, str)] if isinstance(previous, list) else []

    def set_current(self, version: str) -> None:
        """Atomically point ``current.json`` at ``version`` (which must exist); the version
        it replaces heads :meth:`previous`."""
        from tfcls.training.runs import now

        if self.metadata(version) is None:
            raise TfclsError(f"{self.path(version)}: no such exported version")
        before = self.current()
        previous = [v for v in [before, *self.previous()] if v and v != version][:HISTORY]
        record = {"version": version, "updated_at": now(), "previous": previous}
        write_replacing(self.pointer, json.dumps(record, indent=2) + "\n")

    def live(self, ab: Iterable[str] = ()) -> dict[str, list[str]]:
        """Versions retention never deletes, with why: ``current``, ``rollback`` (the latest
        :meth:`previous`) and ``a/b`` (named in ``serving.ab``, given as ``ab``)."""
        roles: dict[str, list[str]] = {}
        current, previous = self.current(), self.previous()[:1]
        for role, versions in (("current", [current]), ("rollback", previous), ("a/b", ab)):
            for version in versions:
                if version:
                    roles.setdefault(version, []).append(role)
        return roles

    def prune(self, keep: int, ab: Iterable[str] = ()) -> list[str]:
        """Delete the oldest versions until at most ``keep`` remain, never a :meth:`live`
        one (so more may remain); return those deleted. Each is renamed away first, so the
        server never sees half a version."""
        if keep < 1:
            raise TfclsError(f"serving.keep_versions must be ≥ 1, got {keep}")
        versions, live = self.versions(), self.live(ab)
        excess = len(versions) - keep
        doomed = [v for v in versions if v not in live][: max(excess, 0)]
        for version in doomed:
            trash = self.root / f".deleted-{os.getpid()}-{version}"
            os.rename(self.path(version), trash)
            shutil.rmtree(trash)
            self._meta.pop(version, None)
        return doomed
