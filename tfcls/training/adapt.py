"""Encoder adaptation: fine-tune the top transformer layers of the encoder with the head.

A frozen sentence encoder is the ceiling of a head trained on its embeddings (DESIGN.md:
end-to-end fine-tuning lifted test accuracy 0.78 → 0.89 on the bundled data), but full
fine-tuning costs a forward and backward pass of all six layers per text and epoch: too
slow for a ≤ 3-minute default on two CPU cores, let alone once per cross-fitting fold.

So tfcls adapts only the top ``train.adapt.layers`` layers. The token states entering
them depend on frozen weights only, so they are computed once per text
(``LowerStates``) and shared by every fold; an epoch then costs the top layers' forward
and backward pass (with 4 of 6 layers, about two frozen embedding passes). The head found
on frozen embeddings starts from where it was (warm start), and encoder layers and head
train together with a linear warm-up then cosine decay of the learning rate.

The adapted encoder keeps the architecture (same weights shapes, same exported graph and
bundle size); ``save_encoder`` writes it as a TF Hub module pair. Adaptation needs the
built-in BERT encoder (``tfcls.encoders.bert``), whose weights it can read.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
import tensorflow_hub as hub

from tfcls.encoders import bert
from tfcls.encoders.hub import HubModules
from tfcls.errors import TfclsError
from tfcls.progress import Progress
from tfcls.training.model import head_loss, one_hot

_STATE_BATCH = 64


@dataclass
class LowerStates:
    """Token states entering the first adapted layer, for every text (frozen below it)."""

    cfg: bert.BertConfig
    weights: dict[str, np.ndarray]  # every encoder weight, [in, out] layout (frozen copy)
    first: int  # index of the first adapted layer
    states: list[np.ndarray]  # per text [T_i, H], T_i its token count (padding dropped)

    def top_weights(self) -> dict[str, np.ndarray]:
        """The frozen starting values of the adapted layers' weights."""
        prefixes = tuple(
            f"encoder.layer.{i}." for i in range(self.first, self.cfg.num_hidden_layers)
        )
        return {k: v for k, v in self.weights.items() if k.startswith(prefixes)}


def not_adaptable(modules: HubModules | None) -> str | None:
    """Why this encoder cannot be adapted (None when it can): only tfcls-built BERT
    encoders expose weights that adaptation can read."""
    if modules is None or modules.preprocessor is None:
        return "a string-input encoder"
    if bert.module_config(modules.encoder) is None:
        return f"{modules.resolved.handle} is not a tfcls-built BERT encoder"
    return None


def encoder_depth(modules: HubModules) -> int:
    """The number of transformer layers of an adaptable encoder (see ``not_adaptable``)."""
    cfg = bert.module_config(modules.encoder)
    if cfg is None:
        raise TfclsError(f"{modules.resolved.handle} is not a tfcls-built BERT encoder")
    return cfg.num_hidden_layers


def lower_states(modules: HubModules, texts: list[str], layers: int) -> LowerStates:
    """Run the frozen part of the encoder once: states of every text before the top
    ``layers`` layers. Batches are sorted by length and padded to their own longest."""
    found = bert.module_weights(modules.encoder)
    if found is None or modules.preprocessor is None:
        raise TfclsError(
            f"train.adapt.layers: {modules.resolved.handle} is not a tfcls-built BERT "
            "encoder, whose weights adaptation can read; set train.adapt.layers=0 "
            "(frozen encoder)"
        )
    cfg, weights = found
    if not 1 <= layers <= cfg.num_hidden_layers:
        raise TfclsError(f"train.adapt.layers must be 0..{cfg.num_hidden_layers}, got {layers}")
    first = cfg.num_hidden_layers - layers
    frozen = dict(zip(bert.weight_names(cfg), modules.encoder.variables, strict=True))

    inputs = {k: v.numpy() for k, v in modules.preprocessor(tf.constant(texts)).items()}
    # one traced graph for every batch width
    signature = [tf.TensorSpec([None, None], tf.as_dtype(inputs[k].dtype)) for k in _INPUT_KEYS]

    @tf.function(input_signature=signature)
    def run(ids: tf.Tensor, mask: tf.Tensor, types: tf.Tensor) -> tf.Tensor:
        x = bert.embed_tokens(frozen, cfg, ids, types)
        bias = bert.attention_bias(mask)
        for i in range(first):
            x = bert.transformer_layer(frozen, cfg, x, bias, i)
        return x

    lengths = inputs["input_mask"].sum(axis=1)
    order = np.argsort(lengths, kind="stable")
    states: list[np.ndarray] = [np.zeros((0, cfg.hidden_size), np.float32)] * len(texts)
    for start in range(0, len(texts), _STATE_BATCH):
        idx = order[start : start + _STATE_BATCH]
        width = max(int(lengths[idx].max()), 1)
        out = run(*(tf.constant(inputs[k][idx, :width]) for k in _INPUT_KEYS)).numpy()
        for row, i in enumerate(idx):
            states[i] = out[row, : lengths[i]]
    return LowerStates(cfg, weights, first, states)


_INPUT_KEYS = ("input_word_ids", "input_mask", "input_type_ids")


class TopLayers(keras.layers.Layer):
    """The adapted transformer layers and pooling: (states, mask) → sentence vector."""

    def __init__(self, lower: LowerStates, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cfg, self._first = lower.cfg, lower.first
        self._w = {
            name: self.add_weight(
                shape=value.shape,
                initializer=keras.initializers.Constant(value),
                name=name.replace(".", "_"),
            )
            for name, value in lower.top_weights().items()
        }

    def call(self, states: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        bias = bert.attention_bias(mask)
        x = states
        for i in range(self._first, self._cfg.num_hidden_layers):
            x = bert.transformer_layer(self._w, self._cfg, x, bias, i)
        return bert.pool(self._cfg, x, mask)

    def adapted_weights(self) -> dict[str, np.ndarray]:
        return {name: np.asarray(v.numpy()) for name, v in self._w.items()}


def _batches(
    lower: LowerStates,
    rows: np.ndarray,
    targets: np.ndarray | None,
    weights: np.ndarray | None,
    batch_size: int,
    rng: np.random.Generator | None,
) -> Callable[[], Any]:
    """Batches of similar length (little padding), ``(states, mask)`` for prediction or
    ``((states, mask), targets, weights)`` for training; shuffled when ``rng`` is given."""
    lengths = np.array([len(lower.states[i]) for i in rows])

    def generate() -> Any:
        # sort by length plus up to 4 tokens of noise: batches of similar length, new each epoch
        noise = rng.random(len(rows)) * 4 if rng is not None else np.zeros(len(rows))
        order = np.argsort(lengths + noise, kind="stable")
        chunks = [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
        if rng is not None:
            rng.shuffle(chunks)
        for chunk in chunks:
            width = int(lengths[chunk].max())
            x = np.zeros((len(chunk), width, lower.cfg.hidden_size), np.float32)
            mask = np.zeros((len(chunk), width), np.int32)
            for j, c in enumerate(chunk):
                x[j, : lengths[c]] = lower.states[rows[c]]
                mask[j, : lengths[c]] = 1
            if targets is None:  # prediction
                yield x, mask
            else:
                yield (x, mask), targets[chunk], weights[chunk]

    return generate


def _dataset(
    lower: LowerStates,
    rows: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    n_classes: int,
    batch_size: int,
    seed: int,
) -> tf.data.Dataset:
    """Shuffled training batches ((states, mask), targets, sample weights): one-hot class
    ids, or ``y`` itself when it already holds 0/1 label sets [n, labels] (multi-label)."""
    h = lower.cfg.hidden_size
    spec = (
        (tf.TensorSpec([None, None, h], tf.float32), tf.TensorSpec([None, None], tf.int32)),
        tf.TensorSpec([None, n_classes], tf.float32),
        tf.TensorSpec([None], tf.float32),
    )
    rng = np.random.default_rng(seed)
    targets = y.astype(np.float32) if y.ndim == 2 else one_hot(y, n_classes)
    gen = _batches(lower, rows, targets, w, batch_size, rng)
    n_batches = int(np.ceil(len(rows) / batch_size))
    data = tf.data.Dataset.from_generator(gen, output_signature=spec)
    return data.apply(tf.data.experimental.assert_cardinality(n_batches)).prefetch(2)


def adaptable_lower(
    modules: HubModules | None, texts: list[str], layers: int, report: dict[str, Any]
) -> LowerStates | None:
    """The frozen lower states for adapting ``layers`` layers, or None: no adaptation asked
    for, or an encoder that cannot be adapted (then the encoder stays frozen, said on
    stderr and in ``report["adapt_skipped"]``, rather than failing a run on a foreign TF
    Hub encoder). More layers than the encoder has adapt all of them
    (``report["adapt_clamped"]``): the default (4) names MiniLM's top layers."""
    if layers == 0:
        return None
    reason = not_adaptable(modules)
    if reason is not None:
        report["adapt_skipped"] = f"{reason}: the encoder stays frozen (train.adapt.layers)"
        print(f"note: {report['adapt_skipped']}", file=sys.stderr)
        return None
    depth = encoder_depth(modules)
    if layers > depth:
        report["adapt_clamped"] = (
            f"train.adapt.layers={layers} exceeds the encoder's {depth} layers: all {depth} adapted"
        )
        print(f"note: {report['adapt_clamped']}", file=sys.stderr)
        layers = depth
    return lower_states(modules, texts, layers)


@dataclass
class AdaptSettings:
    """How one adaptation runs (from ``train.adapt`` and the head's hyperparameters)."""

    epochs: int
    learning_rate: float
    batch_size: int
    warmup: float  # share of steps with a linear warm-up
    label_smoothing: float
    seed: int
    focal_gamma: float | None = None  # the head's focal loss (model.loss: focal); None: CE

    @classmethod
    def of(cls, adapt: Any, seed: int, hp: Any = None, multi_label: bool = False) -> AdaptSettings:
        """From ``train.adapt`` (an AdaptConfig), a seed and the head's hyperparameters
        ``hp`` (a ModelConfig: its loss and label smoothing; a sigmoid multi-label head
        takes no smoothing), so that the head trains on with the loss it was fitted with."""
        a = adapt
        smoothing = 0.0 if hp is None or multi_label else hp.label_smoothing
        focal = hp.focal_gamma if hp is not None and hp.loss == "focal" else None
        return cls(a.epochs, a.learning_rate, a.batch_size, a.warmup, smoothing, seed, focal)

    def loss(self, multi_label: bool) -> keras.losses.Loss:
        """The head's loss (:func:`tfcls.training.model.head_loss`): binary for 0/1 label
        sets (``multi_label``), categorical otherwise, focal when the head's is."""
        loss = "focal" if self.focal_gamma is not None else "crossentropy"
        return head_loss(loss, self.focal_gamma or 0.0, self.label_smoothing, multi_label)


class Adapter:
    """One adaptation: top layers + a warm-started head, trained epoch by epoch."""

    def __init__(self, lower: LowerStates, head: keras.Model, settings: AdaptSettings) -> None:
        self.lower, self.head, self.settings = lower, head, settings
        self.top = TopLayers(lower, name="adapted_layers")
        h = lower.cfg.hidden_size
        states = keras.Input((None, h), name="states")
        mask = keras.Input((None,), dtype="int32", name="mask")
        self.model = keras.Model([states, mask], head(self.top(states, mask)))
        # one traced graph for every batch width (Keras' predict re-traces per shape)
        self._forward = tf.function(
            lambda s, m: self.model([s, m], training=False),
            input_signature=[
                tf.TensorSpec([None, None, h], tf.float32),
                tf.TensorSpec([None, None], tf.int32),
            ],
        )

    def fit(
        self,
        rows: np.ndarray,
        y: np.ndarray,
        w: np.ndarray,
        on_epoch: Callable[[int], None] | None = None,
        epochs: int | None = None,
    ) -> list[float]:
        """Train on ``rows`` (targets ``y``: class ids, or 0/1 label sets for a multi-label
        head) for ``epochs`` (default: all) of the scheduled epochs; call
        ``on_epoch(epoch)`` after each. Returns the training loss per epoch."""
        s = self.settings
        steps = int(np.ceil(len(rows) / s.batch_size)) * s.epochs
        warm = max(1, round(s.warmup * steps))
        schedule = keras.optimizers.schedules.CosineDecay(
            0.0, max(steps - warm, 1), alpha=0.0, warmup_target=s.learning_rate, warmup_steps=warm
        )
        loss = s.loss(multi_label=y.ndim == 2)  # 0/1 label sets: a sigmoid head
        self.model.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss)
        n_classes = self.head.output_shape[-1]
        data = _dataset(self.lower, rows, y, w, n_classes, s.batch_size, s.seed)
        losses = []
        todo = epochs or s.epochs
        label = f"adapting {self.lower.cfg.num_hidden_layers - self.lower.first} layer(s)"
        bar = Progress(label, todo * len(rows), "texts")
        for epoch in range(todo):
            h = self.model.fit(
                data, epochs=epoch + 1, initial_epoch=epoch, verbose=0, shuffle=False
            )
            losses.append(float(h.history["loss"][-1]))
            bar.update(len(rows))
            if on_epoch is not None:
                on_epoch(epoch)
        bar.close()
        return losses

    def predict(self, rows: np.ndarray, lower: LowerStates | None = None) -> np.ndarray:
        """Probabilities [len(rows), n] in the order of ``rows`` of ``lower`` (default:
        the training texts' states)."""
        lower = self.lower if lower is None else lower
        n = self.head.output_shape[-1]
        lengths = np.array([len(lower.states[i]) for i in rows])
        order = np.argsort(lengths, kind="stable")
        batches = _batches(lower, rows[order], None, None, 256, None)()
        proba = np.zeros((len(rows), n), np.float32)
        if len(rows):
            parts = [self._forward(states, mask).numpy() for states, mask in batches]
            proba[order] = np.concatenate(parts)
        return proba

    def predict_texts(self, modules: HubModules, texts: list[str]) -> np.ndarray:
        """Probabilities of new texts (their frozen lower states are computed here)."""
        other = lower_states(modules, texts, self.lower.cfg.num_hidden_layers - self.lower.first)
        return self.predict(np.arange(len(texts)), other)

    def encoder_weights(self) -> dict[str, np.ndarray]:
        """Every encoder weight ([in, out] layout): frozen below, adapted on top."""
        return {**self.lower.weights, **self.top.adapted_weights()}


def save_encoder(adapter: Adapter, modules: HubModules, target: Path) -> Path:
    """Write the adapted encoder and a copy of its preprocessor as a TF Hub module pair
    (``target/{encoder,preprocessor}``, what ``tfcls.encoders.load_encoder`` reads)."""
    module = bert.BertEncoderModule(adapter.encoder_weights(), adapter.lower.cfg, hf_layout=False)
    if target.exists():
        shutil.rmtree(target)
    bert.save_module(module, target / "encoder")
    shutil.copytree(hub.resolve(modules.resolved.preprocessor), target / "preprocessor")
    return target
