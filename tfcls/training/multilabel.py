"""The multi-label head: sigmoid outputs, binary (or focal) cross-entropy, tuned on embeddings.

Same shape as the single-label head (Dense(units, relu) → Dropout → Dense), but one sigmoid
per label, so a text can carry any number of labels. KerasTuner searches units, dropout,
learning rate, L2 and batch size on the cached embeddings; a trial's score is macro-F1 on
the validation part with each label's best threshold there (the decision the run ships
also thresholds each label, :mod:`tfcls.decision.label_thresholds`), and a trial records
the epoch its early stopping kept, which the final fit reuses. Out-of-fold predictions
(:func:`out_of_fold`) are what the per-label calibration and thresholds are chosen on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np

from tfcls.config import Config, ModelConfig
from tfcls.decision.label_thresholds import choose
from tfcls.evaluation.multilabel_metrics import macro_f1
from tfcls.progress import log
from tfcls.training.head_fit import set_seed
from tfcls.training.model import L2_CHOICES, STEPS_PER_EXECUTION, head_loss, make_dataset

OBJECTIVE = "val_macro_f1"


def build_multilabel_head(n_labels: int, dim: int, hp: ModelConfig) -> keras.Model:
    """A compiled head: embeddings [batch, dim] → per-label probabilities [batch, labels]."""
    regularizer = keras.regularizers.L2(hp.l2) if hp.l2 > 0 else None
    inputs = keras.Input((dim,), name="embedding")
    x = keras.layers.Dense(
        hp.units, activation="relu", kernel_regularizer=regularizer, name="hidden"
    )(inputs)
    x = keras.layers.Dropout(hp.dropout, name="dropout")(x)
    outputs = keras.layers.Dense(n_labels, activation="sigmoid", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name="multilabel_head")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=hp.learning_rate),
        loss=head_loss(hp.loss, hp.focal_gamma, multi_label=True),
        steps_per_execution=STEPS_PER_EXECUTION,
    )
    return model


def fit_multilabel_head(
    train: tuple[np.ndarray, np.ndarray, np.ndarray | None],
    val: tuple[np.ndarray, np.ndarray] | None,
    hp: ModelConfig,
    config: Config,
    epochs: int | None = None,
) -> tuple[keras.Model, int]:
    """Fit a head on (x, Y, weights); early stopping on ``val`` (x, Y) when given, else
    exactly ``epochs`` epochs. Returns the head and the epochs it kept."""
    set_seed(config.train.seed)
    x, y, w = train
    head = build_multilabel_head(y.shape[1], x.shape[1], hp)
    callbacks = []
    if val is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=config.train.patience, restore_best_weights=True
            )
        )
    history = head.fit(
        make_dataset(x, y.astype(np.float32), hp.batch_size, seed=config.train.seed, weights=w),
        epochs=epochs or config.train.epochs,
        validation_data=None if val is None else make_dataset(val[0], val[1], 1024),
        shuffle=False,
        verbose=0,
        callbacks=callbacks,
    )
    if val is None:
        return head, len(history.history["loss"])
    return head, int(np.argmin(history.history["val_loss"])) + 1


def predict(head: keras.Model, x: np.ndarray) -> np.ndarray:
    """Raw per-label sigmoid outputs of ``x`` (float64)."""
    return np.asarray(head.predict(x, batch_size=1024, verbose=0), np.float64)


def best_threshold_macro_f1(p: np.ndarray, y: np.ndarray) -> float:
    """Macro-F1 with each label's F1-maximising threshold on these very predictions (the
    tuner's objective: optimistic, but it ranks heads the way the shipped rule uses them)."""
    decision = choose(p, y, [str(j) for j in range(y.shape[1])], calibrate=False)
    return macro_f1(y, (p >= decision.thresholds).astype(np.int8))


class MultiLabelHyperModel(kt.HyperModel):
    """Search space over the head; defaults of every hyperparameter are ``config.model``."""

    def __init__(self, n_labels: int, dim: int, config: Config) -> None:
        super().__init__(name="multilabel_head")
        self.n_labels, self.dim, self.config = n_labels, dim, config

    def hp_config(self, hp: kt.HyperParameters) -> ModelConfig:
        t, d = self.config.tuner, self.config.model
        values = {
            "units": hp.Int("units", t.units_min, t.units_max, step=32, default=d.units),
            "dropout": hp.Float("dropout", 0.0, t.dropout_max, step=0.05, default=d.dropout),
            "learning_rate": hp.Float(
                "learning_rate", t.learning_rate_min, t.learning_rate_max, sampling="log"
            ),
            "l2": hp.Choice("l2", L2_CHOICES, default=0.0) if t.search_l2 else d.l2,
            "batch_size": hp.Choice("batch_size", t.batch_sizes),
        }
        return ModelConfig(**{**vars(d), **values})

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        return build_multilabel_head(self.n_labels, self.dim, self.hp_config(hp))

    def fit(self, hp: kt.HyperParameters, model: keras.Model, x, y, validation_data, **kw: Any):
        """Train with early stopping (``sample_weights``: the (train, val) texts' weights);
        the score is :func:`best_threshold_macro_f1`."""
        cfg = self.hp_config(hp)
        w_train, w_val = kw.pop("sample_weights", None) or (None, None)
        stop = keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=self.config.tuner.patience, restore_best_weights=True
        )
        history = model.fit(
            make_dataset(x, y, cfg.batch_size, seed=self.config.train.seed, weights=w_train),
            validation_data=make_dataset(*validation_data, 1024, weights=w_val),
            epochs=self.config.tuner.epochs,
            shuffle=False,
            verbose=0,
            callbacks=[stop],
        )
        score = best_threshold_macro_f1(predict(model, validation_data[0]), validation_data[1])
        best_epoch = int(np.argmin(history.history["val_loss"])) + 1
        return {OBJECTIVE: score, "best_epoch": best_epoch}


def tune(
    train: tuple[np.ndarray, np.ndarray, np.ndarray | None],
    val: tuple[np.ndarray, np.ndarray, np.ndarray | None],
    config: Config,
    directory: Path,
    max_trials: int,
) -> tuple[ModelConfig, int, list[dict[str, Any]]]:
    """KerasTuner over the head on embeddings (x, label sets, per-text weights or None):
    (best hyperparameters, the epochs its early stopping kept, every trial's summary)."""
    from tfcls.progress_keras import TrialProgress
    from tfcls.training.tuning import tuner_class

    x, y, w = train
    hypermodel = MultiLabelHyperModel(y.shape[1], x.shape[1], config)
    # random or bayesian (hyperband's brackets need epochs the score does not report)
    kind = "random" if config.tuner.kind == "random" else "bayesian"
    tuner = tuner_class(kind)(  # one line per trial on stderr, as single-label tuning
        hypermodel=hypermodel,
        objective=kt.Objective(OBJECTIVE, "max"),
        max_trials=max_trials,
        seed=config.train.seed,
        directory=str(directory),
        project_name="multilabel_head",
        overwrite=True,
    )
    tuner.progress = TrialProgress.for_tuner(tuner, max_trials)
    try:
        tuner.search(
            x,
            y.astype(np.float32),
            validation_data=(val[0], val[1].astype(np.float32)),
            sample_weights=(w, val[2]),
            verbose=0,
        )
    finally:
        tuner.progress.close()
    trials = [
        {"trial_id": t.trial_id, "score": t.score, **t.hyperparameters.values}
        for t in tuner.oracle.trials.values()
    ]
    best = tuner.oracle.get_best_trials(1)[0]
    epochs = int(best.metrics.get_last_value("best_epoch"))
    return hypermodel.hp_config(best.hyperparameters), epochs, trials


def fold_rows(n: int, folds: int, seed: int) -> list[np.ndarray]:
    """The held-out rows of each of ``folds`` seeded random folds of ``n`` rows: the split
    of :func:`out_of_fold` and of encoder adaptation (``tfcls.training.multilabel_adapt``)."""
    order = np.random.default_rng(seed).permutation(n)
    return [np.sort(held) for held in np.array_split(order, folds)]


def out_of_fold(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None,
    hp: ModelConfig,
    config: Config,
    folds: int,
    epochs: int,
) -> np.ndarray:
    """Raw outputs of every row from a head that never saw it (``folds`` seeded folds,
    ``epochs`` epochs each: the tuned head's early-stopping point)."""
    out = np.zeros(y.shape, np.float64)
    for f, held in enumerate(fold_rows(len(x), folds, config.train.seed), 1):
        rest = np.setdiff1d(np.arange(len(x)), held)
        head, _ = fit_multilabel_head(
            (x[rest], y[rest], None if w is None else w[rest]), None, hp, config, epochs
        )
        out[held] = predict(head, x[held])
        log(f"out-of-fold: fold {f}/{folds}")
    return out
