"""Encoder adaptation: frozen lower states, trainable top layers that match the encoder
exactly before training, a saved module pair that computes what the adapter computed."""

from __future__ import annotations

import numpy as np
import pytest

from tfcls.encoders import load_encoder
from tfcls.errors import TfclsError
from tfcls.training.adapt import Adapter, AdaptSettings, lower_states, not_adaptable, save_encoder
from tfcls.training.head_fit import set_seed
from tfcls.training.model import build_head

TEXTS = [
    "set an alarm for six",
    "wake me up at seven",
    "alarm at noon please",
    "what is the weather",
    "will it rain today",
    "is it sunny outside",
    "play some music",
    "play my playlist",
    "put on a song",
]
Y = np.repeat(np.arange(3), 3)


@pytest.fixture(scope="module")
def tiny(tiny_pair, tmp_path_factory):
    return load_encoder(str(tiny_pair), cache_dir=tmp_path_factory.mktemp("c"), use_cache=False)


def test_lower_states_drop_padding_and_untrained_top_layers_reproduce_the_encoder(tiny):
    lower = lower_states(tiny.modules, TEXTS, layers=1)
    assert lower.first == lower.cfg.num_hidden_layers - 1
    tokens = tiny.modules.preprocessor(np.array(TEXTS))["input_mask"].numpy().sum(axis=1)
    assert [len(s) for s in lower.states] == list(tokens)
    head = build_head(3, tiny.dim)
    adapter = Adapter(lower, head, AdaptSettings(1, 1e-3, 4, 0.1, 0.0, 0))
    vectors = adapter.model.get_layer("adapted_layers")
    # before any training, the adapted encoder is the frozen one: same sentence vectors
    frozen = tiny.embed(TEXTS)
    for i, state in enumerate(lower.states):
        out = vectors(state[None], np.ones((1, len(state)), np.int32)).numpy()[0]
        np.testing.assert_allclose(out, frozen[i], atol=1e-5)


def test_adaptation_learns_and_the_saved_encoder_computes_what_it_learned(tiny, tmp_path):
    lower = lower_states(tiny.modules, TEXTS, layers=2)
    assert lower.first == 0  # every layer of the tiny encoder
    head = build_head(3, tiny.dim, units=16)
    adapter = Adapter(lower, head, AdaptSettings(30, 3e-3, 3, 0.1, 0.0, 0))
    rows = np.arange(len(TEXTS))
    seen = []
    losses = adapter.fit(rows, Y, np.ones(len(TEXTS), np.float32), on_epoch=seen.append)
    assert seen == list(range(30)) and losses[-1] < losses[0]
    proba = adapter.predict(rows)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    target = save_encoder(adapter, tiny.modules, tmp_path / "encoder")
    saved = load_encoder(str(target), cache_dir=tmp_path, use_cache=False)
    assert saved.dim == tiny.dim and saved.fingerprint != tiny.fingerprint
    assert np.abs(saved.embed(TEXTS) - tiny.embed(TEXTS)).max() > 1e-4  # weights changed
    # the saved module + head predict what the adapter predicted, for new texts too
    np.testing.assert_allclose(head.predict(saved.embed(TEXTS), verbose=0), proba, atol=1e-4)
    new = ["alarm for eight", "rain tomorrow"]
    np.testing.assert_allclose(
        adapter.predict_texts(tiny.modules, new),
        head.predict(saved.embed(new), verbose=0),
        atol=1e-4,
    )


def test_sample_weights_steer_the_adaptation(tiny):
    lower = lower_states(tiny.modules, TEXTS, layers=1)
    rows = np.arange(len(TEXTS))
    flipped = Y.copy()
    flipped[0] = 1  # one text labelled against its neighbours
    results = []
    for weight in (1.0, 50.0):
        w = np.ones(len(TEXTS), np.float32)
        w[0] = weight
        set_seed(0)  # the same starting head both times: only the weight differs
        head = build_head(3, tiny.dim, units=16)
        adapter = Adapter(lower, head, AdaptSettings(20, 3e-3, 3, 0.1, 0.0, 0))
        adapter.fit(rows, flipped, w)
        results.append(float(adapter.predict(rows[:1])[0, 1]))
    assert results[1] > results[0], results  # the heavy example pulls its prediction harder


def test_adaptation_needs_a_tfcls_bert_encoder(tiny_text_module, tiny, tmp_path):
    enc = load_encoder(str(tiny_text_module), cache_dir=tmp_path)
    assert not_adaptable(enc.modules) == "a string-input encoder"
    assert not_adaptable(tiny.modules) is None
    with pytest.raises(TfclsError, match=r"adapt\.layers"):
        lower_states(enc.modules, TEXTS, layers=1)


def test_adapt_layers_beyond_the_encoder_is_an_error(tiny):
    with pytest.raises(TfclsError, match=r"adapt\.layers must be 0\.\.2"):
        lower_states(tiny.modules, TEXTS, layers=3)
