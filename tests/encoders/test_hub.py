"""Handles: registered names, module pairs, TF Hub BERT-style and string-input modules."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from tfcls.encoders import EncoderError, load_encoder, registry
from tfcls.encoders.hub import BERT, TEXT, resolve


def test_unknown_handle_lists_registered_names():
    with pytest.raises(EncoderError) as err:
        load_encoder("no-such-encoder")
    assert "unknown encoder 'no-such-encoder'" in str(err.value)
    assert "all-MiniLM-L6-v2" in str(err.value)


def test_missing_directory_is_named(tmp_path):
    with pytest.raises(EncoderError, match="no such directory"):
        load_encoder(str(tmp_path / "absent"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(EncoderError, match=r"no saved_model\.pb"):
        load_encoder(str(tmp_path / "empty"))


def test_registered_name_is_not_built_when_build_is_off(tmp_path):
    with pytest.raises(EncoderError, match=r"python -m tfcls\.encoders build all-MiniLM-L6-v2"):
        resolve("all-MiniLM-L6-v2", cache_dir=tmp_path, build=False)


def test_registered_tiny_encoder_builds_on_first_use(tiny_spec, tmp_path, monkeypatch):
    monkeypatch.setitem(registry.REGISTRY, "tiny-bert", tiny_spec)
    enc = load_encoder("tiny-bert", cache_dir=tmp_path)
    assert enc.kind == BERT and enc.dim == 16
    assert enc.fingerprint == tiny_spec.fingerprint
    assert registry.is_built(tiny_spec, tmp_path)


def test_module_pair_directory_loads_by_path(tiny_pair, tmp_path):
    enc = load_encoder(str(tiny_pair), cache_dir=tmp_path)
    assert enc.kind == BERT and enc.dim == 16
    spec = enc.tokenizer_spec
    assert spec.lower_case is True and spec.max_seq_len == 16
    assert spec.vocab_path.endswith("vocab.txt") and "fix" in Path(spec.vocab_path).read_text()
    v = enc.embed(["fix the login bug", "weekly team sync"])
    assert v.shape == (2, 16)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)


def test_bert_style_encoder_needs_its_preprocessor(tiny_pair, tmp_path):
    with pytest.raises(EncoderError, match=r"BERT-style encoder.*preprocessor"):
        load_encoder(str(tiny_pair / "encoder"), cache_dir=tmp_path)
    enc = load_encoder(
        str(tiny_pair / "encoder"), preprocessor=str(tiny_pair / "preprocessor"), cache_dir=tmp_path
    )
    pair = load_encoder(str(tiny_pair), cache_dir=tmp_path)
    assert enc.fingerprint == pair.fingerprint  # same files, same identity
    np.testing.assert_allclose(
        enc.embed(["plan the sprint"]), pair.embed(["plan the sprint"]), atol=1e-6
    )


def test_string_input_encoder_loads_by_path(tiny_text_module, tmp_path):
    enc = load_encoder(str(tiny_text_module), cache_dir=tmp_path)
    assert enc.kind == TEXT and enc.dim == 12 and enc.tokenizer_spec is None
    v = enc.embed(["Fix login bug", "fix LOGIN bug", "design review"])
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(v[0], v[1], atol=1e-6)  # the module lower-cases
    with pytest.raises(EncoderError, match="needs no preprocessor"):
        load_encoder(str(tiny_text_module), preprocessor="x", cache_dir=tmp_path)


def test_url_handle_resolves_through_the_tfhub_cache(tiny_text_module, tmp_path, monkeypatch):
    """A URL handle loads the way tensorflow_hub resolves it: from TFHUB_CACHE_DIR."""
    url = "https://tfhub.dev/tfcls-tests/tiny-text-encoder/1"
    hub_cache = tmp_path / "hub"
    shutil.copytree(tiny_text_module, hub_cache / hashlib.sha1(url.encode()).hexdigest())
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(hub_cache))
    enc = load_encoder(url, cache_dir=tmp_path)
    by_path = load_encoder(str(tiny_text_module), cache_dir=tmp_path)
    assert enc.handle == url and enc.kind == TEXT
    assert enc.fingerprint == by_path.fingerprint
    np.testing.assert_allclose(enc.embed(["hello"]), by_path.embed(["hello"]), atol=1e-6)


def test_non_encoder_saved_model_is_rejected(tmp_path):
    import tensorflow as tf

    class Adder(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def __call__(self, x):
            return x + 1.0

    tf.saved_model.save(Adder(), str(tmp_path / "adder"))
    with pytest.raises(EncoderError, match="not a usable encoder"):
        load_encoder(str(tmp_path / "adder"), cache_dir=tmp_path)
