"""The head, its hypermodel, and the full string-input model."""

from __future__ import annotations

import keras_tuner as kt
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tfcls.config import ModelConfig, TunerConfig
from tfcls.model import HeadHyperModel, build_head, hparams_to_config, one_hot

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
    assert model.get_layer("hidden").units == 96
    assert set(hp.values) == {"units", "dropout", "learning_rate", "l2", "label_smoothing"}


def test_hparams_to_config_and_one_hot():
    cfg = hparams_to_config(
        {"units": 256, "dropout": 0.5, "batch_size": 16, "learning_rate": 0.003, "tuner/epochs": 3},
        ModelConfig(),
    )
    assert (cfg.units, cfg.dropout, cfg.batch_size, cfg.learning_rate) == (256, 0.5, 16, 0.003)
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
