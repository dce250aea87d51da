"""Encoder fine-tuning (``train.fine_tune: true``): unfreeze the encoder after the head is found.

The whole model — frozen preprocessor → trainable encoder → best head — is trained end to
end at a low learning rate with early stopping on validation accuracy. It runs on the CPU
(slowly: every step is a forward and backward pass of the transformer) and on a GPU
whenever TensorFlow sees one. The result is kept only if validation accuracy improves;
either way the gain is reported. A kept encoder is saved in the run directory as a TF Hub
module pair, so prediction and export use it like any other encoder.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
import tensorflow_hub as hub

from tfcls.config import Config
from tfcls.encoders.hub import BERT, HubModules
from tfcls.errors import TfclsError
from tfcls.model import one_hot


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


def fine_tune(
    modules: HubModules,
    head: keras.Model,
    texts: dict[str, list[str]],
    y: dict[str, np.ndarray],
    n_classes: int,
    label_smoothing: float,
    config: Config,
    run_dir: Path,
    strategy: tf.distribute.Strategy | None = None,
) -> dict[str, Any]:
    """Train encoder + head end to end; save the encoder if validation accuracy improves.

    Returns a report: validation accuracy before/after, the gain, epochs, whether the
    fine-tuned encoder was kept and where it was saved.
    """
    if modules.kind != BERT:
        raise TfclsError(
            f"train.fine_tune: {modules.resolved.handle} is a string-input "
            "encoder; fine-tuning needs a BERT-style encoder with a preprocessor"
        )
    if not texts["val"]:
        raise TfclsError("train.fine_tune needs a validation split (data.val_fraction > 0)")
    cfg = config.train
    devices = [d.name for d in tf.config.list_logical_devices("GPU")] or ["CPU"]
    print(f"fine-tuning the encoder on {', '.join(devices)} ...", file=sys.stderr, flush=True)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        encoder = TrainableSavedModelLayer(
            modules.resolved.encoder, call_endpoint="__call__", trainable=True, name="encoder"
        )
        strings = keras.Input(shape=(), dtype="string", name="text")
        vectors = _Pool()(encoder(_Preprocess(modules.preprocessor)(strings)))
        model = keras.Model(strings, head(vectors))
        model.compile(
            optimizer=keras.optimizers.Adam(cfg.fine_tune_learning_rate),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
            metrics=["accuracy"],
        )
    val = _texts_dataset(texts["val"], y["val"], n_classes, 64, None)
    head_weights = head.get_weights()
    before = float(model.evaluate(val, verbose=0, return_dict=True)["accuracy"])
    history = model.fit(
        _texts_dataset(texts["train"], y["train"], n_classes, cfg.fine_tune_batch_size, cfg.seed),
        validation_data=val,
        epochs=cfg.fine_tune_epochs,
        shuffle=False,  # the dataset reshuffles itself
        verbose=0,
        callbacks=[
            keras.callbacks.EarlyStopping(
                monitor="val_accuracy",
                mode="max",
                patience=cfg.fine_tune_patience,
                restore_best_weights=True,
            )
        ],
    )
    after = float(model.evaluate(val, verbose=0, return_dict=True)["accuracy"])
    report: dict[str, Any] = {
        "val_accuracy_before": before,
        "val_accuracy_after": after,
        "gain": after - before,
        "epochs": len(history.history["loss"]),
        "devices": devices,
        "kept": after > before,
    }
    if report["kept"]:
        target = run_dir / "encoder"
        tf.saved_model.save(encoder._reloaded_obj, str(target / "encoder"))
        shutil.copytree(hub.resolve(modules.resolved.preprocessor), target / "preprocessor")
        report["encoder"] = str(target)
    else:
        head.set_weights(head_weights)  # the frozen-encoder head stays as it was
    print(
        f"fine-tuning: val accuracy {before:.4f} → {after:.4f} "
        f"({'kept' if report['kept'] else 'not kept: no gain'})",
        file=sys.stderr,
    )
    return report
