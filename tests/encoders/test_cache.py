"""The embedding cache: hits and misses, corruption recovery, concurrent writers."""

from __future__ import annotations

import hashlib
import multiprocessing as mp

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tfcls.encoders.cache import EmbeddingCache, read_shard, text_key

DIM = 8


def vec(text: str) -> np.ndarray:
    """A deterministic vector per text, so any process can check any entry."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)


def test_lookup_counts_hits_and_misses(tmp_path):
    cache = EmbeddingCache(tmp_path, "fp", DIM)
    assert cache.lookup(["a", "b", "a"]) == {}
    assert (cache.stats.hits, cache.stats.misses) == (0, 2)  # distinct texts
    cache.store(["a", "b"], np.stack([vec("a"), vec("b")]))
    found = cache.lookup(["a", "b", "c"])
    assert set(found) == {"a", "b"}
    assert (cache.stats.hits, cache.stats.misses) == (2, 3)
    np.testing.assert_array_equal(found["b"], vec("b"))


def test_entries_persist_across_instances_and_are_per_fingerprint(tmp_path):
    EmbeddingCache(tmp_path, "fp1", DIM).store(["x"], vec("x")[None])
    assert set(EmbeddingCache(tmp_path, "fp1", DIM).lookup(["x"])) == {"x"}
    assert EmbeddingCache(tmp_path, "fp2", DIM).lookup(["x"]) == {}


def test_store_rejects_wrong_shape(tmp_path):
    with pytest.raises(ValueError, match=r"shape \(1, 3\)"):
        EmbeddingCache(tmp_path, "fp", DIM).store(["x"], np.zeros((1, 3)))


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "dimension"])
def test_corrupt_shard_is_detected_dropped_and_rebuilt(tmp_path, damage):
    cache = EmbeddingCache(tmp_path, "fp", DIM)
    cache.store(["good"], vec("good")[None])
    cache.store(["bad"], vec("bad")[None])
    shard = next(
        p for p in cache.dir.glob("*.emb") if bytes(read_shard(p, DIM)[0][0]) == text_key("bad")
    )
    data = bytearray(shard.read_bytes())
    if damage == "truncate":
        data = data[:-5]
    elif damage == "flip":
        data[-3] ^= 0x40
    elif damage == "garbage":
        data = bytearray(b"not a shard at all")
    else:
        data[10:14] = (DIM + 1).to_bytes(4, "little")
    shard.write_bytes(bytes(data))

    fresh = EmbeddingCache(tmp_path, "fp", DIM)
    found = fresh.lookup(["good", "bad"])
    assert set(found) == {"good"}  # the damaged entry is not trusted
    assert fresh.stats.corrupt_shards == 1 and not shard.exists()
    fresh.store(["bad"], vec("bad")[None])  # re-embedded by the caller
    np.testing.assert_array_equal(
        EmbeddingCache(tmp_path, "fp", DIM).lookup(["bad"])["bad"], vec("bad")
    )


def test_compaction_merges_shards_without_losing_entries(tmp_path):
    cache = EmbeddingCache(tmp_path, "fp", DIM, compact_after=3)
    texts = [f"t{i}" for i in range(10)]
    for t in texts:
        cache.store([t], vec(t)[None])
    assert len(list(cache.dir.glob("*.emb"))) <= 3
    found = EmbeddingCache(tmp_path, "fp", DIM).lookup(texts)
    assert set(found) == set(texts)
    for t in texts:
        np.testing.assert_array_equal(found[t], vec(t))


def _writer(root, worker, texts, queue):
    cache = EmbeddingCache(root, "fp", DIM, compact_after=4)
    for i in range(0, len(texts), 7):
        batch = texts[i : i + 7]
        cache.store(batch, np.stack([vec(t) for t in batch]))
        cache.lookup(texts[:i])
    queue.put((worker, cache.stats.corrupt_shards))


def test_concurrent_processes_do_not_corrupt_the_cache(tmp_path):
    texts = [f"text number {i}" for i in range(300)]
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    # Four writers with overlapping slices, each compacting as it goes.
    slices = [texts[0:200], texts[100:300], texts[50:250], texts[::2]]
    procs = [
        ctx.Process(target=_writer, args=(tmp_path, i, s, queue)) for i, s in enumerate(slices)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    results = [queue.get(timeout=5) for _ in procs]
    assert all(corrupt == 0 for _, corrupt in results)
    reader = EmbeddingCache(tmp_path, "fp", DIM)
    found = reader.lookup(texts)
    assert set(found) == set(texts) and reader.stats.corrupt_shards == 0
    for t in texts:
        np.testing.assert_array_equal(found[t], vec(t))
    assert not list(reader.dir.glob("*.tmp")) and not list(reader.dir.glob(".*.tmp"))


@settings(max_examples=50, deadline=None)
@given(texts=st.lists(st.text(max_size=30), min_size=1, max_size=10, unique=True))
def test_keys_are_exact_texts(tmp_path_factory, texts):
    root = tmp_path_factory.mktemp("prop")
    cache = EmbeddingCache(root, "fp", DIM)
    cache.store(texts[:1], vec(texts[0])[None])
    found = EmbeddingCache(root, "fp", DIM).lookup(texts)
    assert set(found) == {texts[0]}  # no other text (e.g. differing in whitespace) hits
