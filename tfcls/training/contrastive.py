"""SetFit-style contrastive tuning of the encoder (``train.contrastive.enabled: true``).

``contrastive_fine_tune`` is the SetFit recipe (Tunstall et al. 2022): before any head
exists, the encoder alone is trained on pairs of training texts to give same-label pairs
cosine similarity 1 and different-label pairs 0, which pulls each class together in
embedding space. The tuned encoder is saved as a TF Hub module pair, so prediction and
export use it like any other encoder. (Adapting the encoder together with the head, the
default, is ``tfcls.training.adapt``.)
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
import tensorflow_hub as hub

from tfcls.config import Config
from tfcls.encoders.hub import BERT, HubModules
from tfcls.errors import TfclsError
from tfcls.training.model import one_hot


class TrainableSavedModelLayer(keras.layers.TFSMLayer):
    """TFSMLayer whose weights get Keras-legal names.

    Restored variable names contain '/' and ':' ("encoder/layer_0/kernel:0"); Keras 3
    optimizers use weight names as scope names and reject ':'. The Keras variables wrap
    the SavedModel's own variables, so training updates what the module computes with.
    """

    def _add_existing_weight(self, weight: tf.Variable) -> None:
        self._track_variable(
            keras.Variable(
                initializer=weight,
                trainable=weight.trainable,
                dtype=weight.dtype,
                shape=weight.shape,
                name=weight.name.replace("/", "_").replace(":", "_"),
            )
        )


class _Preprocess(keras.layers.Layer):
    """The frozen text preprocessor: strings → BERT input dict."""

    def __init__(self, module: Any, **kwargs: Any) -> None:
        super().__init__(trainable=False, **kwargs)
        self._module = module

    def call(self, texts: tf.Tensor) -> dict[str, tf.Tensor]:
        return self._module(tf.reshape(texts, [-1]))


class _Pool(keras.layers.Layer):
    """Encoder output dict → L2-normalised sentence vector (as SentenceEncoder.embed)."""

    def call(self, outputs: Any) -> tf.Tensor:
        if isinstance(outputs, dict):
            outputs = outputs.get("default", outputs.get("pooled_output"))
        return tf.math.l2_normalize(outputs, axis=-1)


def _texts_dataset(
    texts: list[str], y: np.ndarray, n_classes: int, batch_size: int, seed: int | None
) -> tf.data.Dataset:
    ds = tf.data.Dataset.from_tensor_slices((tf.constant(texts), one_hot(y, n_classes)))
    if seed is not None:
        ds = ds.shuffle(len(texts), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _check_bert(modules: HubModules, key: str, what: str) -> None:
    if modules.kind != BERT:
        raise TfclsError(
            f"{key}: {modules.resolved.handle} is a string-input "
            f"encoder; {what} needs a BERT-style encoder with a preprocessor"
        )


def _devices() -> list[str]:
    return [d.name for d in tf.config.list_logical_devices("GPU")] or ["CPU"]


def _save_encoder(encoder: TrainableSavedModelLayer, modules: HubModules, target: Path) -> Path:
    """Save a trained encoder layer and a copy of its preprocessor as a module pair.

    ``target/{encoder,preprocessor}`` is what ``tfcls.encoders.load_encoder(target)`` loads.
    """
    tf.saved_model.save(encoder._reloaded_obj, str(target / "encoder"))
    shutil.copytree(hub.resolve(modules.resolved.preprocessor), target / "preprocessor")
    return target


def contrastive_pairs(
    y: np.ndarray, iterations: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SetFit pair generation: indices ``a``, ``b`` and pair labels (1.0 same, 0.0 different).

    In each of ``iterations`` rounds every example gets one positive partner (another
    example of its label; none when its label has a single example) and one negative
    partner (an example of another label), drawn uniformly with a numpy Generator seeded
    by ``seed``, so the same labels and seed give the same pairs. Per round the pairs are
    the positives of all examples in order, then their negatives.
    """
    y = np.asarray(y).reshape(-1)
    if iterations < 1:
        raise ValueError(f"iterations must be ≥ 1, got {iterations}")
    classes, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    if len(classes) < 2:
        raise TfclsError(
            "train.contrastive needs examples of at least 2 labels to make negative pairs, "
            f"got {len(classes)}"
        )
    if counts.max() < 2:
        raise TfclsError(
            "train.contrastive needs a label with at least 2 examples to make positive pairs; "
            "every label has a single example"
        )
    n = len(y)
    order = np.argsort(codes, kind="stable")  # examples grouped by label
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - starts[codes[order]]  # position within its label's group
    start, count = starts[codes], counts[codes]
    has_positive = count >= 2
    rng = np.random.default_rng(seed)
    a, b, labels = [], [], []
    anchors = np.arange(n)
    for _ in range(iterations):
        # positive: one of the count - 1 others of the group (skip over the example itself)
        k = np.floor(rng.random(n) * (count - 1)).astype(np.int64)
        k = np.minimum(k, np.maximum(count - 2, 0))  # guard against rounding to the top
        k += k >= rank
        positive = order[np.minimum(start + k, n - 1)]
        # negative: one of the n - count examples outside the group (skip over the group)
        k = np.floor(rng.random(n) * (n - count)).astype(np.int64)
        k = np.minimum(k, n - count - 1)
        k += np.where(k >= start, count, 0)
        negative = order[k]
        a += [anchors[has_positive], anchors]
        b += [positive[has_positive], negative]
        labels += [np.ones(int(has_positive.sum()), np.float32), np.zeros(n, np.float32)]
    return np.concatenate(a), np.concatenate(b), np.concatenate(labels)


class _Cosine(keras.layers.Layer):
    """Cosine similarity of two batches of L2-normalised vectors, shape [B, 1]."""

    def call(self, a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
        return keras.ops.sum(a * b, axis=-1, keepdims=True)


def _separation(
    embed: keras.Model, texts: list[str], a: np.ndarray, b: np.ndarray, labels: np.ndarray
) -> float:
    """Mean cosine of positive pairs minus mean cosine of negative pairs."""
    used = np.unique(np.concatenate([a, b]))
    vectors = embed.predict(tf.constant([texts[i] for i in used]), batch_size=64, verbose=0)
    where = np.searchsorted(used, np.arange(len(texts)))  # example index → row (when used)
    return pair_separation(vectors[where], a, b, labels)


def pair_separation(vectors: np.ndarray, a: np.ndarray, b: np.ndarray, labels: np.ndarray) -> float:
    """Mean cosine of the positive pairs (``labels`` 1) minus that of the negative ones."""
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)
    cos = np.sum(unit[a] * unit[b], axis=-1)
    return float(cos[labels == 1].mean() - cos[labels == 0].mean())


def label_separation(vectors: np.ndarray, y: np.ndarray, seed: int, size: int = 2000) -> float:
    """``pair_separation`` of up to ``size`` SetFit pairs drawn among ``vectors`` (half
    same-label): measured on texts the encoder was not tuned on, it tells whether
    contrastive tuning generalises or only pulls its own training texts together."""
    a, b, labels = contrastive_pairs(y, 1, seed)
    sample = _separation_sample(labels, np.random.default_rng(seed), size)
    return pair_separation(vectors, a[sample], b[sample], labels[sample])


def _separation_sample(labels: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """Indices of up to ``size`` pairs: up to half positives, the rest negatives."""
    pos, neg = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    n_pos = min(len(pos), size // 2)
    n_neg = min(len(neg), size - n_pos)
    n_pos = min(len(pos), size - n_neg)  # fill up with positives if negatives ran short
    picked = [rng.choice(pos, n_pos, replace=False), rng.choice(neg, n_neg, replace=False)]
    return np.sort(np.concatenate(picked))


def contrastive_fine_tune(
    modules: HubModules,
    texts: list[str],
    y: np.ndarray,
    config: Config,
    out_dir: Path,
    strategy: tf.distribute.Strategy | None = None,
) -> dict[str, Any]:
    """SetFit-style contrastive training of the encoder on pairs of training texts.

    A siamese model (one shared, trainable encoder) learns to give same-label pairs
    cosine similarity 1 and different-label pairs 0 (MSE on the cosine: SetFit's
    CosineSimilarityLoss), so a head trained afterwards on its embeddings separates
    the labels more easily, which matters most with few examples per label. The tuned
    encoder is saved as a module pair in ``out_dir / "encoder"``; the settings are
    ``train.contrastive`` (and ``train.seed``).

    Returns a JSON-able report: pairs, epochs, per-epoch loss, seconds (the whole stage),
    devices, the encoder path, and separation before/after: the mean cosine of positive
    minus that of negative pairs, on a fixed sample of up to 2,000 of the pairs.
    """
    _check_bert(modules, "train.contrastive", "contrastive fine-tuning")
    cfg, seed = config.train.contrastive, config.train.seed
    t0 = time.perf_counter()
    a, b, labels = contrastive_pairs(y, cfg.iterations, seed)
    sample = _separation_sample(labels, np.random.default_rng(seed), 2000)
    devices = _devices()
    where = ", ".join(devices)
    print(
        f"contrastive fine-tuning on {len(labels)} pairs, {where} ...", file=sys.stderr, flush=True
    )
    encoder, model, embed = _siamese(modules, cfg.learning_rate, strategy)
    sample_args = (texts, a[sample], b[sample], labels[sample])
    before = _separation(embed, *sample_args)
    history = model.fit(
        _pairs_dataset(texts, a, b, labels, cfg.batch_size, seed),
        epochs=cfg.epochs,
        shuffle=False,  # the dataset reshuffles itself
        verbose=0,
    )
    after = _separation(embed, *sample_args)
    target = _save_encoder(encoder, modules, out_dir / "encoder")
    report: dict[str, Any] = {
        "pairs": len(labels),
        "epochs": len(history.history["loss"]),
        "loss": [float(v) for v in history.history["loss"]],
        "seconds": time.perf_counter() - t0,
        "devices": devices,
        "encoder": str(target),
        "separation_before": before,
        "separation_after": after,
    }
    print(
        f"contrastive fine-tuning: {report['pairs']} pairs × {report['epochs']} epochs, "
        f"separation {before:.4f} → {after:.4f} ({report['seconds']:.0f} s)",
        file=sys.stderr,
    )
    return report


def _siamese(
    modules: HubModules, learning_rate: float, strategy: tf.distribute.Strategy | None
) -> tuple[TrainableSavedModelLayer, keras.Model, keras.Model]:
    """(the trainable encoder layer, the compiled pair model: cosine of two texts'
    vectors, the one-text embedding model sharing its layers), under ``strategy``."""
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        encoder = TrainableSavedModelLayer(
            modules.resolved.encoder, call_endpoint="__call__", trainable=True, name="encoder"
        )
        preprocess, pool = _Preprocess(modules.preprocessor), _Pool()
        text_a = keras.Input(shape=(), dtype="string", name="text_a")
        text_b = keras.Input(shape=(), dtype="string", name="text_b")
        vec_a = pool(encoder(preprocess(text_a)))
        vec_b = pool(encoder(preprocess(text_b)))
        model = keras.Model([text_a, text_b], _Cosine()(vec_a, vec_b))
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss=keras.losses.MeanSquaredError(),
        )
        embed = keras.Model(text_a, vec_a)  # the same layers: sees the training
    return encoder, model, embed


def _pairs_dataset(
    texts: list[str],
    a: np.ndarray,
    b: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    seed: int,
) -> tf.data.Dataset:
    """((text a, text b), similarity target) batches, reshuffled every epoch (seeded)."""
    strings = np.asarray(texts, dtype=object)
    pairs = tf.data.Dataset.from_tensor_slices(
        ((tf.constant(strings[a].tolist()), tf.constant(strings[b].tolist())), labels[:, None])
    )
    pairs = pairs.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    return pairs.batch(batch_size).prefetch(tf.data.AUTOTUNE)
