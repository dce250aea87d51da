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
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import keras
import numpy as np

from tfcls.config import Config, DecisionConfig, ModelConfig
from tfcls.data.splits import kfold_splits, stratified_split
from tfcls.decision import calibration
from tfcls.decision import unknown as ood
from tfcls.training.head_fit import select_and_fit, set_seed
from tfcls.training.model import head_from_config, make_dataset, one_hot


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


def _tune(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    n: int,
    config: Config,
    work: Path,
    trials: int,
    resume: bool = False,
    strategy: Any = None,
) -> tuple[ModelConfig, int, list[dict[str, Any]], dict[str, list[float]]]:
    """Search (or take) the head's hyperparameters on an internal split; return them with
    the best epoch count, the trial summary and the fit's history."""
    tr, val, _ = stratified_split(y, config.data.val_fraction, 0.0, config.train.seed)
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


def _settings(config: Config, hp: ModelConfig, seed: int) -> Any:
    from tfcls.training.adapt import AdaptSettings

    a = config.train.adapt
    return AdaptSettings(
        a.epochs, a.learning_rate, a.batch_size, a.warmup, hp.label_smoothing, seed
    )


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
) -> FitResult:
    """Run the whole procedure on training texts (``x``: their frozen embeddings).

    ``modules`` (the encoder's HubModules) is needed when ``train.adapt.layers`` > 0;
    ``resume`` continues an interrupted search, ``strategy`` (tf.distribute) runs it.
    """
    t0 = time.perf_counter()
    seed = config.train.seed
    trials = config.tuner.max_trials if trials is None else trials
    hp, head_epochs, summary, history = _tune(
        x, y, w, n_classes, config, work, trials, resume, strategy
    )
    folds = list(kfold_splits(y, config.train.crossfit_folds, seed))
    fold_of = np.zeros(len(y), np.int64)
    for f, (_, te) in enumerate(folds):
        fold_of[te] = f
    report: dict[str, Any] = {"folds": len(folds), "head_epochs": head_epochs}
    job = _Job(x, y, w, n_classes, hp, head_epochs, config)
    lower = _lower(modules, texts, config.train.adapt.layers, report)
    if lower is None:
        oof = np.zeros((len(y), n_classes), np.float32)
        for f, (tr, te) in enumerate(folds):
            oof[te] = job.head(tr, seed + f).predict(x[te], verbose=0)
            _progress(f, len(folds), oof[te], y[te])
        final = job.head(np.arange(len(y)), seed)
        adapter = None
    else:
        oof, report["adapt"] = _adapt_folds(lower, folds, job)
        rows = np.arange(len(y))
        adapter = _adapt(lower, rows, job, seed)
        adapter.fit(rows, y, w, epochs=report["adapt"]["epochs_chosen"])
        final = adapter.head
    report["oof_accuracy"] = float((oof.argmax(axis=1) == y).mean())
    report["seconds"] = round(time.perf_counter() - t0, 1)
    return FitResult(final, hp, oof, fold_of, adapter, summary, history, report)


def _lower(modules: Any, texts: list[str], layers: int, report: dict[str, Any]) -> Any:
    """The frozen lower states for adaptation, or None: no adaptation asked for, or an
    encoder that cannot be adapted (then the encoder stays frozen, said on stderr and in
    the report, rather than failing a default run on a foreign TF Hub encoder)."""
    if layers == 0:
        return None
    from tfcls.training.adapt import encoder_depth, lower_states, not_adaptable

    reason = not_adaptable(modules)
    if reason is not None:
        report["adapt_skipped"] = f"{reason}: the encoder stays frozen (train.adapt.layers)"
        print(f"note: {report['adapt_skipped']}", file=sys.stderr)
        return None
    depth = encoder_depth(modules)
    if layers > depth:  # the default (4) names MiniLM's top layers; a smaller encoder adapts all
        report["adapt_clamped"] = (
            f"train.adapt.layers={layers} exceeds the encoder's {depth} layers: all {depth} adapted"
        )
        print(f"note: {report['adapt_clamped']}", file=sys.stderr)
        layers = depth
    return lower_states(modules, texts, layers)


def _progress(f: int, k: int, proba: np.ndarray, y: np.ndarray, what: str = "") -> None:
    acc = float((proba.argmax(axis=1) == y).mean())
    print(
        f"cross-fitting fold {f + 1}/{k}{what}: out-of-fold accuracy {acc:.4f}",
        file=sys.stderr,
        flush=True,
    )


@dataclass
class _Job:
    """What every fold of one procedure shares: the training data and the tuned head."""

    x: np.ndarray  # frozen embeddings
    y: np.ndarray
    w: np.ndarray
    n: int
    hp: ModelConfig
    head_epochs: int
    config: Config

    def head(self, rows: np.ndarray, seed: int) -> keras.Model:
        """A head warm-started on the frozen embeddings of ``rows``."""
        x, y, w = self.x[rows], self.y[rows], self.w[rows]
        return warm_head(x, y, w, self.n, self.hp, self.head_epochs, seed)


def _adapt(lower: Any, rows: np.ndarray, job: _Job, seed: int) -> Any:
    """An Adapter (not yet trained) whose head is warm-started on ``rows``."""
    from tfcls.training.adapt import Adapter

    return Adapter(lower, job.head(rows, seed), _settings(job.config, job.hp, seed))


def _adapt_folds(
    lower: Any, folds: list[tuple[np.ndarray, np.ndarray]], job: _Job
) -> tuple[np.ndarray, dict[str, Any]]:
    """Adapt one encoder copy per fold; OOF probabilities after every epoch; the epoch
    count with the best mean OOF accuracy wins (ties: fewer epochs)."""
    t, y = job.config.train, job.y
    per_epoch = np.zeros((t.adapt.epochs, len(y), job.n), np.float32)
    frozen_accuracy = []
    for f, (tr, te) in enumerate(folds):
        adapter = _adapt(lower, tr, job, t.seed + f)
        frozen = adapter.head.predict(job.x[te], verbose=0)
        frozen_accuracy.append(float((frozen.argmax(axis=1) == y[te]).mean()))
        adapter.fit(tr, y[tr], job.w[tr], on_epoch=partial(_record, adapter, per_epoch, te))
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
    auto-selected. Returns the record and, for the ``nearest`` score, the reference
    embeddings ``x`` (the final encoder's embeddings of the training texts)."""
    calib = calibration.cross_fitted(fitted.oof, y, fitted.fold_of, d.calibrate, d.target_precision)
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
        calibration.raise_threshold(calib, oof, y, calib["unknown"]["threshold"])
    return calib, references


def predict(fitted: FitResult, texts: list[str], x: np.ndarray, modules: Any) -> np.ndarray:
    """Uncalibrated probabilities of new texts (``x``: their frozen embeddings) from the
    final model, through the adapted layers when there are any."""
    if fitted.adapter is not None:
        return fitted.adapter.predict_texts(modules, texts)
    return fitted.head.predict(x, verbose=0)
