"""The head, its hypermodel, and the full string-input model."""

from __future__ import annotations

import keras_tuner as kt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tfcls.config import ModelConfig, TunerConfig
from tfcls.training.model import HeadHyperModel, build_head, hparams_to_config, one_hot

HEAD = build_head(5, 8)


def test_default_head_is_dense128_dropout02_softmax():
    layers = {layer.name: layer for layer in HEAD.layers}
    assert layers["hidden"].units == 128 and layers["hidden"].activation.__name__ == "relu"
    assert layers["dropout"].rate == 0.2
    assert layers["probabilities"].units == 5
    assert layers["probabilities"].activation.__name__ == "softmax"


@settings(max_examples=30, deadline=None)
@given(arrays(np.float32, (4, 8), elements=st.floats(-10, 10, width=32)))
def test_probabilities_sum_to_one(x):
    p = HEAD.predict(x, verbose=0)
    assert (p >= 0).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


def test_hypermodel_defaults_are_the_model_config():
    hm = HeadHyperModel(3, 8, TunerConfig(), ModelConfig(units=96, dropout=0.3))
    hp = kt.HyperParameters()
    model = hm.build(hp)
    assert hp.values["units"] == 96 and abs(hp.values["dropout"] - 0.3) < 1e-9
    assert int(hm._shared.mask.numpy().sum()) == 96  # 96 of units_max units active
    assert hm.build(kt.HyperParameters()) is model  # one graph for every trial
    assert set(hp.values) == {"units", "dropout", "learning_rate", "l2", "label_smoothing"}


def test_hparams_to_config_and_one_hot():
    cfg = hparams_to_config(
        {"units": 256, "dropout": 0.5, "batch_size": 16, "learning_rate": 0.003, "tuner/epochs": 3},
        ModelConfig(),
    )
    assert (cfg.units, cfg.dropout, cfg.batch_size, cfg.learning_rate) == (256, 0.5, 16, 0.003)
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])


def test_search_head_computes_what_a_real_head_computes():
    """Same weights in a masked SearchHead and a Dense(units) head → same predictions."""
    from tfcls.training.model import SearchHead

    shared = SearchHead(3, 8, units_max=64)
    masked = shared.configure(
        units=16, dropout=0.3, learning_rate=0.01, l2=1e-4, label_smoothing=0.1
    )
    real = build_head(3, 8, units=16)
    real.get_layer("hidden").kernel.assign(shared.hidden.kernel.numpy()[:, :16])
    real.get_layer("hidden").bias.assign(shared.hidden.bias.numpy()[:16])
    real.get_layer("probabilities").kernel.assign(shared.out.kernel.numpy()[:16])
    real.get_layer("probabilities").bias.assign(shared.out.bias.numpy())
    x = np.random.default_rng(0).standard_normal((5, 8)).astype(np.float32)
    np.testing.assert_allclose(masked.predict(x, verbose=0), real.predict(x, verbose=0), atol=1e-6)
    # reconfiguring resets the optimizer and applies the new learning rate
    masked.fit(x, one_hot(np.array([0, 1, 2, 0, 1]), 3), epochs=2, verbose=0)
    shared.configure(units=32, dropout=0.0, learning_rate=0.002, l2=0.0, label_smoothing=0.0)
    assert int(masked.optimizer.iterations.numpy()) == 0
    assert float(masked.optimizer.learning_rate.numpy()) == pytest.approx(0.002)
    assert float(shared.mask.numpy().sum()) == 32
