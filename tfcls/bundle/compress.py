"""Precompressed copies of what a browser downloads from a bundle, written once at export.

Beside each of ``model.json``, ``vocab.txt`` and the weight shards the export writes
``<file>.br`` (brotli) and ``<file>.gz`` (gzip); the server sends the one the client
accepts (``Content-Encoding``, ``Vary: Accept-Encoding``; :mod:`tfcls.serving.files`) and
never compresses per request. The files are byte-for-byte reproducible (no timestamps).
"""

from __future__ import annotations

import gzip
from pathlib import Path

# encoding → suffix of its precompressed copy, in the server's order of preference
ENCODINGS = {"br": ".br", "gzip": ".gz"}
BROTLI_QUALITY = 9  # 11 saves <1% more on weight shards and takes ~5x longer
GZIP_LEVEL = 9


def download_files(bundle: Path) -> list[Path]:
    """What a browser fetches from a bundle: model.json, vocab.txt and the weight shards."""
    files = [bundle / "model.json", bundle / "vocab.txt", *sorted(bundle.glob("*.bin"))]
    return [f for f in files if f.is_file()]


def encode(data: bytes, encoding: str) -> bytes:
    """``data`` as the server sends it with ``Content-Encoding: encoding``."""
    if encoding == "gzip":
        return gzip.compress(data, GZIP_LEVEL, mtime=0)
    import brotli

    return brotli.compress(data, quality=BROTLI_QUALITY)


def precompress(bundle: Path) -> dict[str, int]:
    """Write the ``.br`` and ``.gz`` copies of :func:`download_files`; return the bytes of
    each form (``bytes``, ``gzip_bytes``, ``brotli_bytes``): what a fresh visit transfers."""
    sizes = {"bytes": 0, "gzip_bytes": 0, "brotli_bytes": 0}
    for path in download_files(bundle):
        data = path.read_bytes()
        sizes["bytes"] += len(data)
        for encoding, suffix in ENCODINGS.items():
            packed = encode(data, encoding)
            path.with_name(path.name + suffix).write_bytes(packed)
            sizes["brotli_bytes" if encoding == "br" else "gzip_bytes"] += len(packed)
    return sizes
