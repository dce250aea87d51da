"""Fitting one head on embeddings: the KerasTuner search (if enabled), then the chosen
head's final fit with the callbacks a long fit deserves (early stopping, ReduceLROnPlateau,
best-weights checkpointing, TensorBoard). ``tfcls.training.crossfit`` runs it once per training.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfcls.config import Config, ModelConfig, to_dict
from tfcls.training import runs, tuning
from tfcls.training.model import head_from_config, hparams_to_config, make_dataset, one_hot
from tfcls.training.runs import Run


def set_seed(seed: int) -> None:
    """Seed Python, numpy and TF, and make TF ops deterministic (same seed, same run)."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def fit_head(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    n_classes: int,
    hp: Any,
    config: Config,
    run_dir: Path,
    strategy: tf.distribute.Strategy | None = None,
    sample_weights: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Final fit of the chosen head with the callbacks a long fit deserves.

    ``sample_weights`` (train, val) weight the loss per text
    (:func:`tfcls.training.weights.training_weights`)."""
    w_train, w_val = sample_weights if sample_weights is not None else (None, None)
    set_seed(config.train.seed)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        head = head_from_config(n_classes, x_train.shape[1], hp)
    has_val = len(x_val) > 0
    monitor = "val_loss" if has_val else "loss"
    ckpt = run_dir / "checkpoints" / "head.weights.h5"
    ckpt.parent.mkdir(exist_ok=True)
    callbacks: list[keras.callbacks.Callback] = [
        keras.callbacks.EarlyStopping(
            monitor=monitor, patience=config.train.patience, restore_best_weights=True
        ),
        keras.callbacks.ReduceLROnPlateau(
            monitor=monitor,
            factor=config.train.reduce_lr_factor,
            patience=config.train.reduce_lr_patience,
            min_lr=1e-6,
        ),
        keras.callbacks.ModelCheckpoint(
            str(ckpt), monitor=monitor, save_best_only=True, save_weights_only=True
        ),
    ]
    if config.train.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(str(run_dir / "logs"), write_graph=False))
    history = head.fit(
        make_dataset(
            x_train,
            one_hot(y_train, n_classes),
            hp.batch_size,
            seed=config.train.seed,
            weights=w_train,
        ),
        epochs=config.train.epochs,
        shuffle=False,  # make_dataset reshuffles every epoch itself
        verbose=0,
        callbacks=callbacks,
        validation_data=(
            make_dataset(x_val, one_hot(y_val, n_classes), 1024, weights=w_val) if has_val else None
        ),
    )
    return head, {k: [float(v) for v in vals] for k, vals in history.history.items()}


def select_and_fit(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    n_classes: int,
    config: Config,
    work_dir: Path,
    trials: int,
    resume: bool = False,
    strategy: tf.distribute.Strategy | None = None,
    weights: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[keras.Model | None, Any, list[dict[str, Any]], dict[str, list[float]]]:
    """Tune the head (if enabled) on train/val embeddings, then fit the best one.

    ``weights`` (train, val) are per-text sample weights of the search's trials and of
    the final fit (:func:`tfcls.training.weights.training_weights`).

    Writes tuner state, tuner_summary.json and best_hparams.json into ``work_dir``.
    Returns (head, hyperparameters, trial summary, training history); a distributed-search
    worker returns (None, None, the trials it ran, {}) since the chief fits the head.
    """
    data = (x_train, y_train, x_val, y_val)
    hp, summary = _choose_hparams(
        data, n_classes, config, work_dir, trials, resume, weights, strategy
    )
    runs.write_json(work_dir / "tuner_summary.json", summary)
    if hp is None:  # a distributed-search worker: the chief fits the head
        return None, None, summary, {}
    runs.write_json(work_dir / Run.BEST_HPARAMS, to_dict(hp))
    head, history = fit_head(
        x_train,
        y_train,
        x_val,
        y_val,
        n_classes,
        hp,
        config,
        work_dir,
        strategy,
        sample_weights=weights,
    )
    return head, hp, summary, history


def _choose_hparams(
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    n_classes: int,
    config: Config,
    work_dir: Path,
    trials: int,
    resume: bool,
    weights: tuple[np.ndarray, np.ndarray] | None,
    strategy: tf.distribute.Strategy | None,
) -> tuple[ModelConfig | None, list[dict[str, Any]]]:
    """(the head's hyperparameters, the trial summary): the tuner's best with
    ``tuner.enabled`` (None on a distributed-search worker), else ``model`` as it is."""
    if not config.tuner.enabled:
        return config.model, []
    x_train, y_train, x_val, y_val = data
    best, summary = tuning.search(
        x_train,
        one_hot(y_train, n_classes),
        x_val,
        one_hot(y_val, n_classes),
        n_classes,
        config.tuner,
        config.model,
        work_dir / "tuner",
        config.train.seed,
        trials,
        resume=resume,
        sample_weights=weights,
        strategy=strategy,
    )
    return (None if best is None else hparams_to_config(best, config.model)), summary
