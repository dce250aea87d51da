"""The encoder as a frozen Keras 3 layer: trains a head, saves and reloads."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfcls.encoders import load_encoder
from tfcls.encoders.keras_layer import SentenceEncoderLayer


def _model(layer) -> keras.Model:
    inputs = keras.Input(shape=(), dtype="string")
    outputs = keras.layers.Dense(2, activation="softmax")(layer(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def test_layer_trains_a_head_saves_and_reloads(tiny_pair, tmp_path):
    enc = load_encoder(str(tiny_pair), use_cache=False)
    layer = enc.keras_layer()
    assert not layer.trainable and layer.dim == 16
    model = _model(layer)
    x = tf.constant(["fix login bug", "weekly team meeting", "fix the page", "plan meeting"])
    y = np.array([0, 1, 0, 1])
    model.fit(x, y, epochs=2, verbose=0)
    assert len(model.trainable_weights) == 2  # only the head: the encoder is frozen
    before = model.predict(x, verbose=0)
    np.testing.assert_allclose(before.sum(axis=1), 1.0, rtol=1e-5)
    # the layer embeds exactly like SentenceEncoder.embed
    np.testing.assert_allclose(
        layer(x).numpy(), enc.embed(x.numpy().astype(str).tolist()), atol=1e-5
    )
    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(tmp_path / "model.keras")
    assert isinstance(reloaded.layers[1], SentenceEncoderLayer)
    assert reloaded.layers[1].handle == str(tiny_pair)
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), before, atol=1e-6)


def test_layer_with_string_input_encoder_and_rank2_inputs(tiny_text_module):
    layer = SentenceEncoderLayer(str(tiny_text_module))
    out = layer(tf.constant([["a b"], ["c"]]))
    assert out.shape == (2, 12)
