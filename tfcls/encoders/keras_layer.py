"""A Keras 3 layer around TF Hub encoder modules.

``hub.KerasLayer`` is a tf_keras layer and fails inside a Keras 3 model, so the modules are
loaded with ``hub.load()`` and wrapped in this thin layer. It is frozen (the encoder's
weights are not Keras variables); the layer's config stores the handle, not a path, so a
saved model reloads on any machine that can resolve the handle.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from tfcls.encoders.hub import HubModules, resolve


@keras.saving.register_keras_serializable(package="tfcls")
class SentenceEncoderLayer(keras.layers.Layer):
    """strings [batch] (or [batch, 1]) → L2-normalised float32 embeddings [batch, dim]."""

    def __init__(
        self,
        handle: str = "all-MiniLM-L6-v2",
        preprocessor: str | None = None,
        _modules: HubModules | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs["trainable"] = False
        super().__init__(**kwargs)
        self.handle = handle
        self.preprocessor = preprocessor
        self._hub = _modules if _modules is not None else HubModules(resolve(handle, preprocessor))
        self.dim = int(self._hub.embed_strings(tf.constant([""])).shape[-1])

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        texts = tf.reshape(tf.convert_to_tensor(inputs, tf.string), [-1])
        return self._hub.embed_strings(texts)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], self.dim)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(handle=self.handle, preprocessor=self.preprocessor)
        return config
