"""The classification head, its KerasTuner hypermodel, and the full string-input model.

The head takes sentence embeddings: Dense(units, relu) → Dropout → Dense(n, softmax).
It is tuned and trained on cached embeddings (seconds per trial); the full model wraps
the encoder layer around it for inference and export.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np
import tensorflow as tf

from tfcls.config import ModelConfig, TunerConfig

L2_CHOICES = [0.0, 1e-5, 1e-4, 1e-3]
LABEL_SMOOTHING_CHOICES = [0.0, 0.05, 0.1]


def build_head(
    n_classes: int,
    dim: int,
    units: int = 128,
    dropout: float = 0.2,
    learning_rate: float = 1e-3,
    l2: float = 0.0,
    label_smoothing: float = 0.0,
) -> keras.Model:
    """A compiled head: embeddings [batch, dim] → class probabilities [batch, n_classes].

    Targets are one-hot (label smoothing needs them); the metric is ``accuracy``.
    """
    regularizer = keras.regularizers.L2(l2) if l2 > 0 else None
    inputs = keras.Input((dim,), name="embedding")
    x = keras.layers.Dense(units, activation="relu", kernel_regularizer=regularizer, name="hidden")(
        inputs
    )
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name="head")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=["accuracy"],
    )
    return model


def head_from_config(n_classes: int, dim: int, cfg: ModelConfig) -> keras.Model:
    """The default (untuned) head described by the ``model`` config section."""
    return build_head(
        n_classes, dim, cfg.units, cfg.dropout, cfg.learning_rate, cfg.l2, cfg.label_smoothing
    )


class HeadHyperModel(kt.HyperModel):
    """Search space over the head (units, dropout, learning rate, batch size, L2, smoothing).

    Defaults of every hyperparameter are the ``model`` config section, so the best
    hyperparameters always name a complete head.
    """

    def __init__(self, n_classes: int, dim: int, tuner: TunerConfig, defaults: ModelConfig) -> None:
        super().__init__(name="head")
        self.n_classes, self.dim = n_classes, dim
        self.tuner, self.defaults = tuner, defaults

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        t, d = self.tuner, self.defaults
        units = hp.Int(
            "units",
            t.units_min,
            t.units_max,
            step=32,
            default=min(max(d.units, t.units_min), t.units_max),
        )
        dropout = hp.Float(
            "dropout", 0.0, t.dropout_max, step=0.05, default=min(d.dropout, t.dropout_max)
        )
        lr = hp.Float(
            "learning_rate",
            t.learning_rate_min,
            t.learning_rate_max,
            sampling="log",
            default=min(max(d.learning_rate, t.learning_rate_min), t.learning_rate_max),
        )
        l2 = hp.Choice("l2", L2_CHOICES, default=0.0) if t.search_l2 else d.l2
        smoothing = (
            hp.Choice("label_smoothing", LABEL_SMOOTHING_CHOICES, default=0.0)
            if t.search_label_smoothing
            else d.label_smoothing
        )
        return build_head(self.n_classes, self.dim, units, dropout, lr, l2, smoothing)

    def fit(
        self,
        hp: kt.HyperParameters,
        model: keras.Model,
        x: np.ndarray,
        y: np.ndarray,
        validation_data: tuple[np.ndarray, np.ndarray],
        seed: int = 0,
        **kwargs: Any,
    ) -> keras.callbacks.History:
        default_batch = (
            self.defaults.batch_size
            if self.defaults.batch_size in self.tuner.batch_sizes
            else self.tuner.batch_sizes[0]
        )
        batch_size = hp.Choice("batch_size", self.tuner.batch_sizes, default=default_batch)
        return model.fit(
            make_dataset(x, y, batch_size, seed=seed),
            validation_data=make_dataset(*validation_data, 1024),
            **kwargs,
        )


def hparams_to_config(values: dict[str, Any], defaults: ModelConfig) -> ModelConfig:
    """Best tuner values → a ModelConfig (unsearched fields keep their defaults)."""
    fields = {
        k: values[k]
        for k in ("units", "dropout", "learning_rate", "batch_size", "l2", "label_smoothing")
        if k in values
    }
    merged = {**vars(defaults), **fields}
    return ModelConfig(
        **{k: (int(v) if k in ("units", "batch_size") else float(v)) for k, v in merged.items()}
    )


def make_dataset(
    x: np.ndarray, y: np.ndarray, batch_size: int, seed: int | None = None
) -> tf.data.Dataset:
    """Batches of (embedding, one-hot) pairs, reshuffled each epoch when ``seed`` is given.

    A tf.data pipeline is ~2.8× faster than handing numpy arrays to ``fit`` for a head
    this small (Keras' numpy adapter costs more than the training step).
    """
    ds = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if seed is not None:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def one_hot(y: np.ndarray, n_classes: int) -> np.ndarray:
    """int class ids → float32 one-hot rows."""
    return np.eye(n_classes, dtype=np.float32)[np.asarray(y, dtype=np.int64)]


def full_model(encoder_layer: keras.layers.Layer, head: keras.Model) -> keras.Model:
    """strings [batch] → encoder layer → head → probabilities: the end-to-end model."""
    texts = keras.Input(shape=(), dtype="string", name="text")
    return keras.Model(texts, head(encoder_layer(texts)), name="classifier")


def load_model(path: str | Path) -> keras.Model:
    """Load a saved head or full model (registers tfcls's custom layers first).

    A full model re-resolves its encoder by handle, from ``$TFCLS_CACHE`` (building the
    registered encoder there if needed).
    """
    import tfcls.encoders.keras_layer  # noqa: F401  (registers SentenceEncoderLayer)

    return keras.models.load_model(path)
