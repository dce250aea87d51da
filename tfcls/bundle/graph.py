"""The graphs a bundle holds: :class:`NumericModel` (token ids → probabilities and
similarity; what TF.js runs) and :class:`StringModel` (cleaned strings → the same; the
bundle's ``saved_model/`` for Python). :mod:`tfcls.bundle.export` builds and saves them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf


class NumericModel(tf.Module):
    """Token ids → calibrated probabilities and nearest-training-text similarity.

    The encoder is the run's TF Hub module; the head's two Dense layers, the temperature
    and the reference embeddings are constants of this module, so the graph is what
    ``model.keras`` computes minus the string tokenizer.
    """

    def __init__(
        self,
        encoder: Any,
        head_weights: list[np.ndarray],
        temperature: float,
        references: np.ndarray | None,
    ) -> None:
        super().__init__(name="tfcls_numeric")
        self.encoder = encoder
        w1, b1, w2, b2 = (np.asarray(w, np.float32) for w in head_weights)
        self.hidden_kernel = tf.Variable(w1, trainable=False, name="hidden_kernel")
        self.hidden_bias = tf.Variable(b1, trainable=False, name="hidden_bias")
        self.output_kernel = tf.Variable(w2, trainable=False, name="output_kernel")
        self.output_bias = tf.Variable(b2, trainable=False, name="output_bias")
        self.temperature = tf.Variable(float(temperature), trainable=False, name="temperature")
        refs = np.zeros((1, w1.shape[0]), np.float32) if references is None else references
        self.references = tf.Variable(refs.astype(np.float32), trainable=False, name="references")

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None], tf.int32, name="input_word_ids"),
            tf.TensorSpec([None, None], tf.int32, name="input_mask"),
        ]
    )
    def __call__(self, input_word_ids: tf.Tensor, input_mask: tf.Tensor) -> dict[str, tf.Tensor]:
        out = self.encoder(
            {
                "input_word_ids": input_word_ids,
                "input_mask": input_mask,
                "input_type_ids": tf.zeros_like(input_word_ids),
            }
        )
        vectors = tf.math.l2_normalize(out["default"], axis=-1)
        hidden = tf.nn.relu(tf.matmul(vectors, self.hidden_kernel) + self.hidden_bias)
        logits = tf.matmul(hidden, self.output_kernel) + self.output_bias
        # Temperature(softmax(z)) = softmax(log softmax(z) / T) = softmax(z / T)
        proba = tf.nn.softmax(logits / self.temperature, axis=-1)
        similarity = tf.reduce_max(tf.matmul(vectors, self.references, transpose_b=True), axis=-1)
        return {"probabilities": proba, "similarity": similarity}


class StringModel(tf.Module):
    """The Python bundle: cleaned strings → the numeric model's outputs."""

    def __init__(self, preprocessor: Any, numeric: NumericModel) -> None:
        super().__init__(name="tfcls_strings")
        self.preprocessor = preprocessor
        self.numeric = numeric

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    def __call__(self, texts: tf.Tensor) -> dict[str, tf.Tensor]:
        inputs = self.preprocessor(texts)
        return self.numeric(inputs["input_word_ids"], inputs["input_mask"])
