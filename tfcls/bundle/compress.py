"""Precompressed copies of what a browser downloads from a bundle, written once at export.

Beside each of ``model.json``, ``vocab.txt`` and the weight shards the export writes
``<file>.gz`` (gzip) and, where brotli pays, ``<file>.br``; the server sends the best one
the client accepts (``Content-Encoding``, ``Vary: Accept-Encoding``;
:mod:`tfcls.serving.files`) and never compresses per request. The files are
byte-for-byte reproducible (no timestamps).
"""

from __future__ import annotations

import gzip
from pathlib import Path

# encoding → suffix of its precompressed copy, in the server's order of preference
ENCODINGS = {"br": ".br", "gzip": ".gz"}
BROTLI_QUALITY = 9  # 11 saves <1% more on weight shards and takes ~5x longer
GZIP_LEVEL = 9
BROTLI_MIN_SAVING = 0.05  # a .br copy is written only where it is this much smaller than .gz


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
    """Write the ``.gz`` copy of each of :func:`download_files`, and its ``.br`` copy where
    brotli saves at least :data:`BROTLI_MIN_SAVING` over gzip (text files: ~20%; 8-bit
    weight shards: ~1.5%, not worth a third copy of the bundle on disk: a brotli client
    is sent the gzip copy). Returns the bytes each kind of client transfers (``bytes``,
    ``gzip_bytes``, ``brotli_bytes``): what a fresh visit downloads."""
    sizes = {"bytes": 0, "gzip_bytes": 0, "brotli_bytes": 0}
    for path in download_files(bundle):
        data = path.read_bytes()
        gz, br = encode(data, "gzip"), encode(data, "br")
        path.with_name(path.name + ENCODINGS["gzip"]).write_bytes(gz)
        pays = len(br) <= (1 - BROTLI_MIN_SAVING) * len(gz)
        if pays:
            path.with_name(path.name + ENCODINGS["br"]).write_bytes(br)
        sizes["bytes"] += len(data)
        sizes["gzip_bytes"] += len(gz)
        sizes["brotli_bytes"] += len(br) if pays else len(gz)
    return sizes
