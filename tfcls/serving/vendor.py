"""Precompressed copies of the vendored TF.js files the page loads, written once.

The bundles' ``.br``/``.gz`` copies are written at export (:mod:`tfcls.bundle.compress`); the
vendored TF.js (``/vendor/…``: npm-installed, read-only in a wheel) gets its copies here,
when the app starts: ``<cache>/vendor/<package>/<name>.<key>.br`` (and ``.gz``), where the
key is the source file's size and mtime, so a changed pin writes new copies and a copy never
stands for bytes it was not made from. A request only ever picks an existing copy
(:mod:`tfcls.serving.files`); nothing is compressed per request.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from tfcls import resources
from tfcls.atomic import write_replacing
from tfcls.bundle.compress import ENCODINGS, encode

log = logging.getLogger(__name__)

# what the page downloads from /vendor/: the two ES2017 builds and the wasm binaries
PATTERNS = ("*.es2017.min.js", "*.wasm")


def _key(path: Path) -> str:
    st = path.stat()
    return hashlib.sha1(f"{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:16]


class VendorCopies:
    """The precompressed copies of the vendored files under ``root`` (a cache folder)."""

    def __init__(self, packages: dict[str, Path], root: Path) -> None:
        self.packages = packages
        self.root = root

    @classmethod
    def default(cls, packages: dict[str, Path]) -> VendorCopies:
        """Copies kept under ``$TFCLS_CACHE/vendor`` (``~/.cache/tfcls/vendor``)."""
        return cls(packages, resources.cache_root() / "vendor")

    def sources(self) -> list[tuple[str, Path]]:
        """(package, file) of every vendored file that gets precompressed copies."""
        out = []
        for package, folder in self.packages.items():
            if folder.is_dir():
                for pattern in PATTERNS:
                    out += [(package, path) for path in sorted(folder.glob(pattern))]
        return out

    def copy_path(self, package: str, source: Path, encoding: str) -> Path:
        """Where the ``encoding`` copy of ``source`` (as it is now) lives."""
        return self.root / package / f"{source.name}.{_key(source)}{ENCODINGS[encoding]}"

    def prepare(self) -> int:
        """Write every missing copy (atomically); return how many were written. A folder
        that cannot be written leaves the files served uncompressed, with a warning."""
        written = 0
        for package, source in self.sources():
            for encoding in ENCODINGS:
                target = self.copy_path(package, source, encoding)
                if target.is_file():
                    continue
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    write_replacing(target, encode(source.read_bytes(), encoding))
                except OSError as err:
                    log.warning("vendor files are sent uncompressed: %s: %s", target, err)
                    return written
                written += 1
        return written
