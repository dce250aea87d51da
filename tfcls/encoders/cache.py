"""On-disk embedding cache keyed by (encoder fingerprint, exact input text).

Embedding is the expensive step (the head trains in seconds), so every embedding is
kept. Layout: ``<cache>/embeddings/<fingerprint>/*.emb``, append-only shard files.

* Writers never modify a file: each ``store`` writes a new shard to a temporary name and
  renames it into place, so concurrent processes can't corrupt each other and readers
  only ever see complete shards.
* Each shard carries a sha256 of its payload. A shard that is truncated, has a bad
  checksum or the wrong dimension is reported, deleted and its texts re-embedded.
* Many small shards are merged (under a file lock) into one, which is also atomic.

Shard format (little-endian): magic ``TFCLSEMB``, u16 version, u32 dim, u64 count,
32-byte sha256 of the payload; payload = count sha256 text keys (32 bytes each) followed by
count × dim float32 vectors.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tfcls.atomic import write_replacing

log = logging.getLogger(__name__)

MAGIC = b"TFCLSEMB"
VERSION = 1
_HEADER = struct.Struct("<8sHIQ32s")
SUFFIX = ".emb"


class CorruptShardError(ValueError):
    """A shard file failed validation."""


def text_key(text: str) -> bytes:
    """Cache key of one text: sha256 of its exact UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).digest()


def write_shard(path: Path, keys: np.ndarray, vectors: np.ndarray) -> None:
    """Write a shard atomically (temp file in the same directory, fsync, rename)."""
    keys = np.ascontiguousarray(keys, dtype=np.uint8).reshape(-1, 32)
    vectors = np.ascontiguousarray(vectors, dtype="<f4")
    payload = keys.tobytes() + vectors.tobytes()
    header = _HEADER.pack(
        MAGIC, VERSION, vectors.shape[1], len(keys), hashlib.sha256(payload).digest()
    )
    write_replacing(path, header + payload)


def read_shard(path: Path, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Read and validate a shard; raise CorruptShardError with the reason."""
    data = path.read_bytes()
    if len(data) < _HEADER.size:
        raise CorruptShardError(f"{path}: truncated header ({len(data)} bytes)")
    magic, version, file_dim, count, checksum = _HEADER.unpack_from(data)
    if magic != MAGIC or version != VERSION:
        raise CorruptShardError(f"{path}: not a tfcls embedding shard (v{VERSION})")
    if file_dim != dim:
        raise CorruptShardError(f"{path}: dimension {file_dim}, expected {dim}")
    payload = memoryview(data)[_HEADER.size :]
    if len(payload) != count * (32 + 4 * dim):
        raise CorruptShardError(
            f"{path}: {len(payload)} payload bytes, expected "
            f"{count * (32 + 4 * dim)} for {count} vectors"
        )
    if hashlib.sha256(payload).digest() != checksum:
        raise CorruptShardError(f"{path}: checksum mismatch")
    keys = np.frombuffer(payload[: 32 * count], np.uint8).reshape(count, 32)
    vectors = np.frombuffer(payload[32 * count :], "<f4").reshape(count, dim)
    return keys, vectors.astype(np.float32)


@dataclass
class CacheStats:
    """Counters of one cache object (texts looked up, shards dropped)."""

    hits: int = 0
    misses: int = 0
    stored: int = 0
    corrupt_shards: int = 0


class EmbeddingCache:
    """Persistent map from exact text to embedding, for one encoder fingerprint."""

    def __init__(
        self, root: str | os.PathLike, fingerprint: str, dim: int, compact_after: int = 64
    ) -> None:
        self.dir = Path(root) / "embeddings" / fingerprint
        self.dim = dim
        self.compact_after = compact_after
        self.stats = CacheStats()
        self._index: dict[bytes, np.ndarray] = {}
        self._seen: set[str] = set()

    def __len__(self) -> int:
        self._refresh()
        return len(self._index)

    def _shards(self) -> list[Path]:
        if not self.dir.is_dir():
            return []
        return sorted(self.dir.glob("*" + SUFFIX))

    def _refresh(self) -> None:
        """Load shards written since the last look (by this or another process)."""
        for path in self._shards():
            if path.name in self._seen:
                continue
            try:
                keys, vectors = read_shard(path, self.dim)
            except FileNotFoundError:  # merged away by a concurrent compaction
                continue
            except CorruptShardError as err:
                log.warning(
                    "embedding cache: dropping corrupt shard (%s); its texts will be re-embedded",
                    err,
                )
                self.stats.corrupt_shards += 1
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                continue
            self._seen.add(path.name)
            for key, vec in zip(map(bytes, keys), vectors, strict=True):
                self._index[key] = vec

    def lookup(self, texts: Iterable[str]) -> dict[str, np.ndarray]:
        """Vectors of the texts that are cached; counts a hit or miss per distinct text."""
        self._refresh()
        found: dict[str, np.ndarray] = {}
        for text in dict.fromkeys(texts):
            vec = self._index.get(text_key(text))
            if vec is None:
                self.stats.misses += 1
            else:
                self.stats.hits += 1
                found[text] = vec
        return found

    def store(self, texts: list[str], vectors: np.ndarray) -> None:
        """Persist vectors for texts (one new shard), then compact if shards piled up."""
        if not texts:
            return
        vectors = np.asarray(vectors, np.float32)
        if vectors.shape != (len(texts), self.dim):
            raise ValueError(
                f"vectors have shape {vectors.shape}, expected ({len(texts)}, {self.dim})"
            )
        keys = np.frombuffer(b"".join(text_key(t) for t in texts), np.uint8).reshape(-1, 32)
        self.dir.mkdir(parents=True, exist_ok=True)
        name = f"{os.getpid()}-{os.urandom(8).hex()}{SUFFIX}"
        write_shard(self.dir / name, keys, vectors)
        self._seen.add(name)
        for key, vec in zip(map(bytes, keys), vectors, strict=True):
            self._index[key] = vec
        self.stats.stored += len(texts)
        if len(self._shards()) > self.compact_after:
            self.compact()

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with (self.dir / ".lock").open("a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def compact(self) -> None:
        """Merge all shards into one (atomic; concurrent readers stay correct)."""
        with self._lock():
            self._refresh()
            old = [p for p in self._shards() if p.name in self._seen]
            if len(old) <= 1:
                return
            keys = np.frombuffer(b"".join(self._index), np.uint8).reshape(-1, 32)
            vectors = (
                np.stack(list(self._index.values()))
                if self._index
                else np.zeros((0, self.dim), np.float32)
            )
            name = f"merged-{os.getpid()}-{os.urandom(8).hex()}{SUFFIX}"
            write_shard(self.dir / name, keys, vectors)
            self._seen.add(name)
            for path in old:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
