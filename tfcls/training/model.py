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
# Several training steps per graph call: for a head this small the per-call overhead
# costs more than the step (measured: trials ~30% faster than one step per call).
STEPS_PER_EXECUTION = 16
LABEL_SMOOTHING_CHOICES = [0.0, 0.05, 0.1]


def head_loss(
    loss: str = "crossentropy",
    focal_gamma: float = 2.0,
    label_smoothing: float = 0.0,
    multi_label: bool = False,
) -> keras.losses.Loss:
    """The loss of every head and of encoder adaptation (``model.loss``): categorical
    cross-entropy on one-hot targets (binary on 0/1 label sets for a ``multi_label``
    sigmoid head), or its focal form, which scales each text's loss by ``(1 − p)^γ`` so
    texts the head already gets right weigh less and rare, hard classes more (Lin et al.
    2017). Focal loss uses no α factor: with γ = 0 it is exactly the cross-entropy."""
    if multi_label:
        if loss == "focal":
            return keras.losses.BinaryFocalCrossentropy(gamma=focal_gamma)
        return keras.losses.BinaryCrossentropy()
    if loss == "focal":
        return keras.losses.CategoricalFocalCrossentropy(
            alpha=1.0, gamma=focal_gamma, label_smoothing=label_smoothing
        )
    return keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)


def build_head(
    n_classes: int,
    dim: int,
    units: int = 128,
    dropout: float = 0.2,
    learning_rate: float = 1e-3,
    l2: float = 0.0,
    label_smoothing: float = 0.0,
    loss: str = "crossentropy",
    focal_gamma: float = 2.0,
) -> keras.Model:
    """A compiled head: embeddings [batch, dim] → class probabilities [batch, n_classes].

    Targets are one-hot (label smoothing needs them); the loss is :func:`head_loss`'s, the
    metric ``accuracy``, weighted by the texts' sample weights when a fit has them (Keras'
    plain ``metrics`` ignore sample weights; ``weighted_metrics`` use them, so the tuner's
    ``val_accuracy`` counts each validation text by its weight, as its loss does).
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
        loss=head_loss(loss, focal_gamma, label_smoothing),
        weighted_metrics=["accuracy"],  # weighted by the texts' weights, when given
        steps_per_execution=STEPS_PER_EXECUTION,
    )
    return model


def head_from_config(n_classes: int, dim: int, cfg: ModelConfig) -> keras.Model:
    """The default (untuned) head described by the ``model`` config section."""
    return build_head(
        n_classes,
        dim,
        cfg.units,
        cfg.dropout,
        cfg.learning_rate,
        cfg.l2,
        cfg.label_smoothing,
        cfg.loss,
        cfg.focal_gamma,
    )


class _RateDropout(keras.layers.Layer):
    """Dropout whose rate is a variable, so changing it needs no new graph."""

    def __init__(self, seed: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = self.add_weight(shape=(), initializer="zeros", trainable=False, name="rate")
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x: tf.Tensor, training: bool = False) -> tf.Tensor:
        if not training:
            return x
        keep = keras.random.uniform(tf.shape(x), seed=self.seed_generator) >= self.rate
        return tf.where(keep, x / (1.0 - self.rate), tf.zeros_like(x))


class SearchHead:
    """One compiled model that stands in for every head the tuner tries.

    Building and tracing a new Keras model costs ~1.3 s per trial on 2 cores, more than
    training it. So the hidden layer is built once at ``units_max`` width and the
    hyperparameters become variables: a 0/1 mask keeps the first ``units`` units (the
    rest output exactly 0, so it computes the same function as ``Dense(units)``), and
    dropout rate, L2 factor, label smoothing and learning rate are assigned, not rebuilt.
    ``configure`` re-initialises the weights (Glorot for the real width) and the optimizer.
    """

    def __init__(
        self,
        n_classes: int,
        dim: int,
        units_max: int,
        seed: int = 0,
        focal_gamma: float | None = None,
    ) -> None:
        self.n_classes, self.dim, self.units_max = n_classes, dim, units_max
        self.focal_gamma = focal_gamma  # model.loss focal (None: cross-entropy)
        self.rng = np.random.default_rng(seed)
        self.mask = keras.Variable(np.ones(units_max, np.float32), trainable=False, name="mask")
        self.l2 = keras.Variable(0.0, trainable=False, name="l2")
        self.smoothing = keras.Variable(0.0, trainable=False, name="smoothing")
        inputs = keras.Input((dim,), name="embedding")
        self.hidden = keras.layers.Dense(
            units_max, activation="relu", name="hidden", kernel_regularizer=self._l2_penalty
        )
        self.dropout = _RateDropout(seed=seed, name="dropout")
        self.out = keras.layers.Dense(n_classes, activation="softmax", name="probabilities")
        x = self.dropout(self.hidden(inputs) * self.mask)
        self.model = keras.Model(inputs, self.out(x), name="search_head")
        self.model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss=self._loss,
            weighted_metrics=["accuracy"],  # weighted by the texts' weights, when given
            steps_per_execution=STEPS_PER_EXECUTION,
        )
        self.model.optimizer.build(self.model.trainable_variables)

    def _l2_penalty(self, kernel: tf.Tensor) -> tf.Tensor:
        # only the active units count, as in a Dense(units) layer
        return self.l2 * tf.reduce_sum(tf.square(kernel) * self.mask)

    def _loss(self, y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
        smoothed = y_true * (1.0 - self.smoothing) + self.smoothing / self.n_classes
        if self.focal_gamma is None:
            return keras.losses.categorical_crossentropy(smoothed, y_pred)
        return keras.losses.categorical_focal_crossentropy(
            smoothed, y_pred, alpha=1.0, gamma=self.focal_gamma
        )

    def _glorot(self, fan_in: int, fan_out: int, shape: tuple[int, ...]) -> np.ndarray:
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return self.rng.uniform(-limit, limit, shape).astype(np.float32)

    def configure(
        self, units: int, dropout: float, learning_rate: float, l2: float, label_smoothing: float
    ) -> keras.Model:
        """Reset weights and optimizer, set the hyperparameters; return the model."""
        mask = np.zeros(self.units_max, np.float32)
        mask[:units] = 1.0
        self.mask.assign(mask)
        self.l2.assign(l2)
        self.smoothing.assign(label_smoothing)
        self.dropout.rate.assign(dropout)
        self.hidden.kernel.assign(self._glorot(self.dim, units, (self.dim, self.units_max)))
        self.hidden.bias.assign(np.zeros(self.units_max, np.float32))
        self.out.kernel.assign(
            self._glorot(units, self.n_classes, (self.units_max, self.n_classes))
        )
        self.out.bias.assign(np.zeros(self.n_classes, np.float32))
        for var in self.model.optimizer.variables:
            var.assign(np.zeros(var.shape, var.dtype))
        self.model.optimizer.learning_rate.assign(learning_rate)
        return self.model


class HeadHyperModel(kt.HyperModel):
    """Search space over the head (units, dropout, learning rate, batch size, L2, smoothing).

    Defaults of every hyperparameter are the ``model`` config section, so the best
    hyperparameters always name a complete head.
    """

    def __init__(self, n_classes: int, dim: int, tuner: TunerConfig, defaults: ModelConfig) -> None:
        super().__init__(name="head")
        self.n_classes, self.dim = n_classes, dim
        self.tuner, self.defaults = tuner, defaults
        self._shared: SearchHead | None = None

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
        if self._shared is None:
            gamma = d.focal_gamma if d.loss == "focal" else None
            self._shared = SearchHead(self.n_classes, self.dim, self.tuner.units_max, 0, gamma)
        return self._shared.configure(units, dropout, lr, l2, smoothing)

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
        w_train, w_val = kwargs.pop("sample_weights", None) or (None, None)
        return model.fit(
            make_dataset(x, y, batch_size, seed=seed, weights=w_train),
            validation_data=make_dataset(*validation_data, 1024, weights=w_val),
            shuffle=False,  # make_dataset reshuffles every epoch itself
            **kwargs,
        )


def hparams_to_config(values: dict[str, Any], defaults: ModelConfig) -> ModelConfig:
    """Best tuner values → a ModelConfig (unsearched fields keep their defaults)."""
    fields = {
        k: values[k]
        for k in ("units", "dropout", "learning_rate", "batch_size", "l2", "label_smoothing")
        if k in values
    }
    typed = {k: (int(v) if k in ("units", "batch_size") else float(v)) for k, v in fields.items()}
    return ModelConfig(**{**vars(defaults), **typed})


def make_dataset(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    seed: int | None = None,
    weights: np.ndarray | None = None,
) -> tf.data.Dataset:
    """Batches of (embedding, one-hot[, sample weight]), reshuffled each epoch when
    ``seed`` is given.

    A tf.data pipeline is ~2.8× faster than handing numpy arrays to ``fit`` for a head
    this small (Keras' numpy adapter costs more than the training step).
    """
    parts = (x, y) if weights is None else (x, y, np.asarray(weights, np.float32))
    ds = tf.data.Dataset.from_tensor_slices(parts).cache()
    if seed is not None:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def one_hot(y: np.ndarray, n_classes: int) -> np.ndarray:
    """int class ids → float32 one-hot rows."""
    return np.eye(n_classes, dtype=np.float32)[np.asarray(y, dtype=np.int64)]


@keras.saving.register_keras_serializable(package="tfcls")
class Temperature(keras.layers.Layer):
    """Calibrates probabilities: softmax(log(p) / T), T fitted on validation data.

    Softmax is shift-invariant, so log-probabilities stand in for the logits.
    """

    def __init__(self, temperature: float = 1.0, **kwargs: Any) -> None:
        kwargs["trainable"] = False
        super().__init__(**kwargs)
        self.temperature = float(temperature)

    def call(self, proba: tf.Tensor) -> tf.Tensor:
        return tf.nn.softmax(tf.math.log(tf.maximum(proba, 1e-12)) / self.temperature, axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "temperature": self.temperature}


@keras.saving.register_keras_serializable(package="tfcls")
class NearestSimilarity(keras.layers.Layer):
    """Cosine similarity of each embedding to its nearest training embedding.

    The unknown-category score (see ``tfcls.decision.unknown``); the references are stored in the
    model as a constant weight so every runtime (Python, TF.js) computes the same score.
    """

    def __init__(self, n_references: int, dim: int, **kwargs: Any) -> None:
        kwargs["trainable"] = False
        super().__init__(**kwargs)
        self.n_references, self.dim = int(n_references), int(dim)
        self.references = self.add_weight(
            shape=(self.n_references, self.dim),
            initializer="zeros",
            trainable=False,
            name="references",
        )

    def call(self, vectors: tf.Tensor) -> tf.Tensor:
        return tf.reduce_max(tf.matmul(vectors, self.references, transpose_b=True), axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n_references": self.n_references, "dim": self.dim}


def full_model(
    encoder_layer: keras.layers.Layer,
    head: keras.Model,
    temperature: float = 1.0,
    references: np.ndarray | None = None,
) -> keras.Model:
    """strings [batch] → encoder → head → calibrated probabilities: the end-to-end model.

    With ``references`` (training embeddings) the model outputs a dict:
    ``probabilities`` and ``similarity`` (to the nearest reference, for unknown detection).
    """
    texts = keras.Input(shape=(), dtype="string", name="text")
    vectors = encoder_layer(texts)
    proba = Temperature(temperature, name="calibration")(head(vectors))
    if references is None:
        return keras.Model(texts, proba, name="classifier")
    nearest = NearestSimilarity(*references.shape, name="similarity")
    similarity = nearest(vectors)
    nearest.references.assign(references.astype(np.float32))
    return keras.Model(texts, {"probabilities": proba, "similarity": similarity}, name="classifier")


def load_model(path: str | Path) -> keras.Model:
    """Load a saved head or full model (registers tfcls's custom layers first).

    A full model re-resolves its encoder by handle, from ``$TFCLS_CACHE`` (building the
    registered encoder there if needed).
    """
    import tfcls.encoders.keras_layer  # noqa: F401  (registers SentenceEncoderLayer)

    return keras.models.load_model(path)
