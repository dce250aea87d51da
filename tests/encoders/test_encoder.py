"""SentenceEncoder.embed: order, duplicates, caching, bucketing, input checks."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from tfcls.encoders import load_encoder


@pytest.fixture(scope="module")
def tiny(tiny_pair, tmp_path_factory):
    return load_encoder(str(tiny_pair), cache_dir=tmp_path_factory.mktemp("enc-cache"))


def test_second_call_embeds_only_unseen_texts(tiny_pair, tmp_path):
    enc = load_encoder(str(tiny_pair), cache_dir=tmp_path)
    first = enc.embed(["fix bug", "plan sprint", "fix bug"])
    assert (enc.cache_stats.hits, enc.cache_stats.misses, enc.cache_stats.stored) == (0, 2, 2)
    second = enc.embed(["plan sprint", "design page", "fix bug"])
    assert (enc.cache_stats.hits, enc.cache_stats.misses, enc.cache_stats.stored) == (2, 3, 3)
    np.testing.assert_array_equal(second[0], first[1])
    np.testing.assert_array_equal(second[2], first[0])
    # a new process (new encoder object) reads the same cache from disk
    again = load_encoder(str(tiny_pair), cache_dir=tmp_path)
    np.testing.assert_array_equal(again.embed(["design page"])[0], second[1])
    assert again.cache_stats.hits == 1 and again.cache_stats.misses == 0


def test_bucketed_embedding_equals_plain_graph(minilm):
    """Sorting by length and padding per batch changes nothing but speed."""
    texts = [
        "standup",
        "Fix login redirect bug after the SSO change on mobile Safari",
        "",
        "Design review",
        "plan " * 60,
        "Interview five users",
    ]
    bucketed = minilm.embed(texts, batch_size=2)
    plain = minilm.modules.embed_strings(tf.constant(texts)).numpy()
    assert np.abs(bucketed - plain).max() < 1e-5


def test_batch_size_does_not_change_results(tiny):
    texts = [f"meeting {'a ' * i}" for i in range(9)]
    enc_nocache = load_encoder(tiny.handle, use_cache=False)
    a = enc_nocache.embed(texts, batch_size=1)
    b = enc_nocache.embed(texts, batch_size=64)
    assert np.abs(a - b).max() < 1e-5


def test_empty_input_and_bad_input(tiny):
    assert tiny.embed([]).shape == (0, 16)
    with pytest.raises(TypeError, match="single string"):
        tiny.embed("fix bug")
    with pytest.raises(TypeError, match=r"texts\[1\] is int"):
        tiny.embed(["ok", 3])
    with pytest.raises(ValueError, match=r"texts\[0\] is not valid Unicode"):
        tiny.embed(["bad \ud800 surrogate"])
    with pytest.raises(ValueError, match="batch_size"):
        tiny.embed(["x"], batch_size=0)


@settings(max_examples=40, deadline=None)
@given(texts=st.lists(st.text(max_size=60), min_size=1, max_size=5))
def test_embeddings_are_unit_length_and_deterministic(tiny, texts):
    texts = [t.encode("utf-8", "replace").decode("utf-8") for t in texts]
    v = tiny.embed(texts)
    assert v.dtype == np.float32 and v.shape == (len(texts), tiny.dim)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(tiny.embed(texts), v)


def test_similar_titles_are_closer_than_unrelated_ones(minilm):
    v = minilm.embed(
        ["Fix login redirect bug", "Login page redirects to 404", "Book a dentist appointment"]
    )
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2
