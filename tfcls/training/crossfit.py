"""The default training procedure: a tuned head, an adapted encoder, out-of-fold predictions.

Confidence has to be estimated on texts the model did not learn from. Holding out a small
validation split for it (85 texts on the bundled data) made the auto-select threshold
noisy and far too strict, so tfcls *cross-fits*: the training data is cut into
``train.crossfit_folds`` stratified folds, each fold's model is trained on the other folds
and predicts the fold, and the out-of-fold (OOF) probabilities of every training text feed
calibration (temperature, auto-select and unknown thresholds, ``tfcls.decision.calibration``).
The final model is then trained on all training data the same way.

*Out of fold* means out of everything that learned from the labels: when the encoder is
adapted (``train.adapt.layers`` > 0, ``tfcls.training.adapt``), every fold adapts its own copy
of the encoder's top layers, so a text's OOF probability comes from an encoder that never
saw its label. The number of adaptation epochs is chosen on the OOF accuracy (mean over
folds, evaluated after each epoch), not on a small validation split.

The head's hyperparameters are searched once (KerasTuner, on frozen embeddings of an
internal train/validation split of the training data), then every fold and the final
model use them; each head is warm-started on frozen embeddings for the number of epochs
at which the tuned head's validation loss was lowest.

Every fit weighs a text the same way (its label confidence times its class's weight,
:mod:`tfcls.training.weights`), and texts made by ``data.augment`` train exactly the fits
their origin trains (:class:`TrainingRows`): folds, the tuner's validation part and the
out-of-fold predictions are made of real training texts only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import keras
import numpy as np

from tfcls.config import Config, DecisionConfig, ModelConfig
from tfcls.data.augment import Augmented
from tfcls.data.splits import kfold_splits, stratified_split
from tfcls.decision import calibration
from tfcls.decision import unknown as ood
from tfcls.progress import log
from tfcls.training.adapt import adaptable_lower
from tfcls.training.head_fit import select_and_fit, set_seed
from tfcls.training.model import head_from_config, make_dataset, one_hot
from tfcls.training.weights import training_weights


@dataclass
class FitResult:
    """What the procedure produced: the final model and the out-of-fold evidence."""

    head: keras.Model  # final head (jointly trained with the adapted layers, if any)
    hp: ModelConfig
    oof: np.ndarray  # out-of-fold probabilities (uncalibrated) of every training text
    fold_of: np.ndarray  # fold id of every training text
    adapter: Any = None  # tfcls.training.adapt.Adapter of the final model, when adapted
    tuner_summary: list[dict[str, Any]] = field(default_factory=list)
    history: dict[str, list[float]] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    weights: np.ndarray | None = None  # the training texts' own weights (calibration's)


def warm_head(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None,
    n: int,
    hp: ModelConfig,
    epochs: int,
    seed: int,
) -> keras.Model:
    """A head with hyperparameters ``hp`` trained ``epochs`` epochs on all of ``x``."""
    set_seed(seed)
    head = head_from_config(n, x.shape[1], hp)
    head.fit(
        make_dataset(x, one_hot(y, n), hp.batch_size, seed=seed, weights=w),
        epochs=epochs,
        shuffle=False,
        verbose=0,
    )
    return head


@dataclass
class TrainingRows:
    """What every fit of one training learns from: the training texts (the first
    :attr:`n`, the ones folds, validation and out-of-fold predictions are made of), then
    the new texts ``data.augment`` made from them, each with the row it came from.

    A new text trains exactly the fits its origin trains (:meth:`rows`): a fold's head
    never learns a copy of a text it predicts out of fold, and the tuner's validation
    texts, the OOF predictions and so calibration are real training texts only."""

    texts: list[str]
    x: np.ndarray  # frozen embeddings
    y: np.ndarray
    w: np.ndarray  # per-text weights (tfcls.training.weights.training_weights)
    origin: np.ndarray  # the training text each row is, or was made from

    @classmethod
    def of(
        cls,
        texts: list[str],
        x: np.ndarray,
        y: np.ndarray,
        w: np.ndarray,
        augmented: Augmented | None = None,
        x_augmented: np.ndarray | None = None,
    ) -> TrainingRows:
        """The training texts, followed by the augmented ones (with their embeddings)."""
        n = len(y)
        if augmented is None or not len(augmented.texts):
            return cls(list(texts), x, y, w, np.arange(n))
        if x_augmented is None or len(x_augmented) != len(augmented.texts):
            raise ValueError("augmented texts need one embedding each (x_augmented)")
        origin = augmented.origin
        return cls(
            [*texts, *augmented.texts],
            np.concatenate([x, x_augmented]),
            np.concatenate([y, y[origin]]),
            np.concatenate([w, w[origin]]),
            np.concatenate([np.arange(n), origin]),
        )

    @property
    def n(self) -> int:
        """The number of training texts (augmented ones not counted)."""
        return int(np.sum(self.origin == np.arange(len(self.origin))))

    def rows(self, originals: np.ndarray) -> np.ndarray:
        """The rows a fit on the training texts ``originals`` learns from: those texts
        and the new texts made from them."""
        return np.flatnonzero(np.isin(self.origin, originals))


def training_rows(
    texts: list[str],
    y: np.ndarray,
    w: np.ndarray,
    x: np.ndarray,
    n_classes: int,
    config: Config,
    augmented: Augmented | None = None,
    x_augmented: np.ndarray | None = None,
) -> TrainingRows:
    """The rows every fit learns from, each weighted by its own weight ``w`` times its
    class's weight (``train.class_weights``, :mod:`tfcls.training.weights`)."""
    t = config.train
    weights = training_weights(y, w, n_classes, t.class_weights, t.class_balance_beta)
    return TrainingRows.of(texts, x, y, weights, augmented, x_augmented)


def tune(
    data: TrainingRows,
    n: int,
    config: Config,
    work: Path,
    trials: int,
    resume: bool = False,
    strategy: Any = None,
) -> tuple[ModelConfig, int, list[dict[str, Any]], dict[str, list[float]]]:
    """Search (or take) the head's hyperparameters on an internal split of the training
    texts (the validation part: real texts only); return them with the best epoch count,
    the trial summary and the fit's history (a distributed-search worker: no
    hyperparameters, the trials it ran)."""
    seed = config.train.seed
    tr, val, _ = stratified_split(data.y[: data.n], config.data.val_fraction, 0.0, seed)
    tr = data.rows(tr)
    x, y, w = data.x, data.y, data.w
    _, hp, summary, history = select_and_fit(
        x[tr],
        y[tr],
        x[val],
        y[val],
        n,
        config,
        work,
        trials,
        resume=resume,
        strategy=strategy,
        weights=(w[tr], w[val]),
    )
    losses = history.get("val_loss") or history.get("loss") or [0.0]
    return hp, int(np.argmin(losses)) + 1, summary, history


def fit(
    texts: list[str],
    y: np.ndarray,
    w: np.ndarray,
    x: np.ndarray,
    n_classes: int,
    config: Config,
    work: Path,
    modules: Any = None,
    trials: int | None = None,
    resume: bool = False,
    strategy: Any = None,
    augmented: Augmented | None = None,
    x_augmented: np.ndarray | None = None,
) -> FitResult:
    """Run the whole procedure on training texts (``x``: their frozen embeddings, ``w``:
    their own weights, multiplied here by ``train.class_weights``).

    ``modules`` (the encoder's HubModules) is needed when ``train.adapt.layers`` > 0;
    ``resume`` continues an interrupted search, ``strategy`` (tf.distribute) runs it;
    ``augmented`` texts (embedded as ``x_augmented``) train the fits their origin trains.
    """
    t0 = time.perf_counter()
    t = config.train
    trials = config.tuner.max_trials if trials is None else trials
    data = training_rows(texts, y, w, x, n_classes, config, augmented, x_augmented)
    tuned = tune(data, n_classes, config, work, trials, resume, strategy)
    hp, head_epochs, summary, history = tuned
    folds = list(kfold_splits(y, t.crossfit_folds, t.seed))
    fold_of = np.zeros(len(y), np.int64)
    for f, (_, te) in enumerate(folds):
        fold_of[te] = f
    report: dict[str, Any] = {"folds": len(folds), "head_epochs": head_epochs}
    job = _Job(data, n_classes, hp, head_epochs, config)
    lower = adaptable_lower(modules, data.texts, t.adapt.layers, report)
    if lower is None:
        oof = np.zeros((len(y), n_classes), np.float32)
        for f, (tr, te) in enumerate(folds):
            oof[te] = job.head(data.rows(tr), t.seed + f).predict(x[te], verbose=0)
            _progress(f, len(folds), oof[te], y[te])
        final = job.head(np.arange(len(data.y)), t.seed)
        adapter = None
    else:
        oof, report["adapt"] = _adapt_folds(lower, folds, job)
        rows = np.arange(len(data.y))
        adapter = _adapt(lower, rows, job, t.seed)
        adapter.fit(rows, data.y, data.w, epochs=report["adapt"]["epochs_chosen"])
        final = adapter.head
    report["oof_accuracy"] = float((oof.argmax(axis=1) == y).mean())
    report["seconds"] = round(time.perf_counter() - t0, 1)
    return FitResult(final, hp, oof, fold_of, adapter, summary, history, report, w)


def _progress(f: int, k: int, proba: np.ndarray, y: np.ndarray, what: str = "") -> None:
    acc = float((proba.argmax(axis=1) == y).mean())
    log(f"cross-fitting fold {f + 1}/{k}{what}: out-of-fold accuracy {acc:.4f}")


@dataclass
class _Job:
    """What every fold of one procedure shares: the training rows and the tuned head."""

    data: TrainingRows
    n: int
    hp: ModelConfig
    head_epochs: int
    config: Config

    def head(self, rows: np.ndarray, seed: int) -> keras.Model:
        """A head warm-started on the frozen embeddings of ``rows``."""
        d = self.data
        return warm_head(d.x[rows], d.y[rows], d.w[rows], self.n, self.hp, self.head_epochs, seed)


def _adapt(lower: Any, rows: np.ndarray, job: _Job, seed: int) -> Any:
    """An Adapter (not yet trained) whose head is warm-started on ``rows``."""
    from tfcls.training.adapt import Adapter, AdaptSettings

    settings = AdaptSettings.of(job.config.train.adapt, seed, job.hp)
    return Adapter(lower, job.head(rows, seed), settings)


def _adapt_folds(
    lower: Any, folds: list[tuple[np.ndarray, np.ndarray]], job: _Job
) -> tuple[np.ndarray, dict[str, Any]]:
    """Adapt one encoder copy per fold; OOF probabilities after every epoch; the epoch
    count with the best mean OOF accuracy wins (ties: fewer epochs)."""
    t, d = job.config.train, job.data
    y = d.y[: d.n]
    per_epoch = np.zeros((t.adapt.epochs, len(y), job.n), np.float32)
    frozen_accuracy = []
    for f, (tr, te) in enumerate(folds):
        rows = d.rows(tr)
        adapter = _adapt(lower, rows, job, t.seed + f)
        frozen = adapter.head.predict(d.x[te], verbose=0)
        frozen_accuracy.append(float((frozen.argmax(axis=1) == y[te]).mean()))
        adapter.fit(rows, d.y[rows], d.w[rows], on_epoch=partial(_record, adapter, per_epoch, te))
        _progress(f, len(folds), per_epoch[-1, te], y[te], f", frozen {frozen_accuracy[-1]:.4f}")
    accuracy = (per_epoch.argmax(axis=2) == y[None, :]).mean(axis=1)
    best = int(np.argmax(accuracy))
    return per_epoch[best], {
        "layers": lower.cfg.num_hidden_layers - lower.first,
        "epochs_scheduled": t.adapt.epochs,
        "epochs_chosen": best + 1,
        "oof_accuracy_per_epoch": [round(float(a), 4) for a in accuracy],
        "frozen_oof_accuracy_per_fold": frozen_accuracy,
    }


def _record(adapter: Any, per_epoch: np.ndarray, rows: np.ndarray, epoch: int) -> None:
    per_epoch[epoch, rows] = adapter.predict(rows)


def calibrate(
    fitted: FitResult, y: np.ndarray, x: np.ndarray | None, d: DecisionConfig
) -> tuple[dict[str, Any], np.ndarray | None]:
    """The decision rule from the out-of-fold predictions: temperature and auto-select
    threshold (``calibration.cross_fitted``), then the unknown threshold for
    ``d.known_recall`` of the (all known) training texts, and the auto-select threshold
    raised to it: unknown is decided first, and only confident *and* known texts are
    auto-selected. The texts' own weights (``fitted.weights``: label confidence, not the
    class weights) weight the temperature and the threshold. Returns the record and, for
    the ``nearest`` score, the reference embeddings ``x`` (the final encoder's embeddings
    of the training texts)."""
    calib = calibration.cross_fitted(
        fitted.oof, y, fitted.fold_of, d.calibrate, d.target_precision, fitted.weights
    )
    if not d.unknown_detection:
        return calib, None
    oof = calibration.apply_temperature(fitted.oof, calib["temperature"])
    references, similarity = None, None
    if d.unknown_score == "nearest":
        if x is None:
            raise ValueError("the nearest unknown score needs the training texts' embeddings")
        references = x.astype(np.float32)
        similarity = ood.out_of_fold_similarity(references, fitted.fold_of)
    scores = ood.unknown_scores(d.unknown_score, oof, similarity)
    calib["unknown"] = ood.unknown_record(d.unknown_score, scores, d.known_recall)
    if d.unknown_score == "max_softmax":
        calibration.raise_threshold(calib, oof, y, calib["unknown"]["threshold"], fitted.weights)
    return calib, references


def predict(fitted: FitResult, texts: list[str], x: np.ndarray, modules: Any) -> np.ndarray:
    """Uncalibrated probabilities of new texts (``x``: their frozen embeddings) from the
    final model, through the adapted layers when there are any."""
    if fitted.adapter is not None:
        return fitted.adapter.predict_texts(modules, texts)
    return fitted.head.predict(x, verbose=0)
