"""The graph a bundle holds: :class:`NumericModel` (token ids → probabilities and
similarity), which :mod:`tfcls.bundle.export` saves and converts for TF.js. Python runs
the converted bundle itself (:mod:`tfcls.bundle.runtime`), not a copy of this module.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from tfcls.decision.calibration import LOG_EPS
from tfcls.decision.label_thresholds import EPS as PLATT_EPS


class NumericModel(tf.Module):
    """Token ids → calibrated probabilities and nearest-training-text similarity.

    The encoder is the run's TF Hub module (or its per-channel copy,
    :mod:`tfcls.bundle.quantize`) and the head is the run's own Keras model, called in the
    graph, so the graph is what ``model.keras`` computes minus the string tokenizer, for
    any head. The temperature is applied the way :func:`tfcls.decision.calibration.
    apply_temperature` does (``softmax(log p / T)``); the reference embeddings are a
    constant of this module.
    """

    def __init__(
        self,
        encoder: Any,
        head: Any,
        temperature: float,
        references: np.ndarray | None,
        platt: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        super().__init__(name="tfcls_numeric")
        self.encoder = encoder
        self.head = head
        self.temperature = tf.Variable(float(temperature), trainable=False, name="temperature")
        # a multi-label head: per-label Platt (a, b) on its sigmoids instead of a temperature
        self.platt = None
        if platt is not None:
            self.platt = [
                tf.Variable(np.asarray(v, np.float32), trainable=False, name=name)
                for v, name in zip(platt, ("platt_a", "platt_b"), strict=True)
            ]
        dim = int(head.inputs[0].shape[-1])
        refs = np.zeros((1, dim), np.float32) if references is None else references
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
        proba = self.head(vectors, training=False)
        if self.platt is not None:  # tfcls.decision.label_thresholds.LabelDecision.calibrate
            p = tf.clip_by_value(proba, PLATT_EPS, 1.0 - PLATT_EPS)
            z = tf.math.log(p) - tf.math.log(1.0 - p)
            proba = tf.math.sigmoid(z * self.platt[0] + self.platt[1])
        else:
            logits = tf.math.log(tf.clip_by_value(proba, LOG_EPS, 1.0))
            proba = tf.nn.softmax(logits / self.temperature, axis=-1)
        similarity = tf.reduce_max(tf.matmul(vectors, self.references, transpose_b=True), axis=-1)
        return {"probabilities": proba, "similarity": similarity}
