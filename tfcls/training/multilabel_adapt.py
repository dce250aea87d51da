"""Encoder adaptation for a multi-label (sigmoid) head: what ``tfcls.train`` and the
GoEmotions bench share.

The mechanics are single-label adaptation's (:mod:`tfcls.training.adapt`: the top
``train.adapt.layers`` layers trained with a warm-started head on frozen lower states,
warm-up then cosine decay); what differs is the target (0/1 label sets, binary
cross-entropy) and how an epoch count is judged: macro-F1 with each label's best threshold
(:func:`tfcls.training.multilabel.best_threshold_macro_f1`, the tuner's objective), since
the shipped decision thresholds every label.

- :func:`adapt_scored` adapts one copy and predicts named text sets after every epoch;
  :func:`best_epoch` picks the epoch (the bench: on its dev split).
- :func:`adapt_out_of_fold` is the run's procedure: every fold adapts its *own* encoder
  copy with a head warm-started on the other folds only, so a text's out-of-fold output
  comes from a model (encoder included) that never saw its labels; the epoch count with
  the best pooled out-of-fold macro-F1 is what :func:`adapt_final` trains on all texts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tfcls.config import Config, ModelConfig
from tfcls.progress import log
from tfcls.training import multilabel as ml
from tfcls.training.adapt import Adapter, AdaptSettings, LowerStates

Targets = dict[str, tuple[LowerStates, np.ndarray]]  # name → (its states, its rows)


def adapt_scored(
    lower: LowerStates,
    head: Any,
    train: tuple[np.ndarray, np.ndarray, np.ndarray],
    settings: AdaptSettings,
    targets: Targets,
) -> tuple[Adapter, list[dict[str, np.ndarray]]]:
    """Adapt the layers of ``lower`` with the warm ``head`` on ``train`` (rows of
    ``lower``, their 0/1 label sets, sample weights); after every epoch predict each
    target. Returns the adapter (trained for all scheduled epochs) and, per epoch, each
    target's raw sigmoid outputs (float64)."""
    rows, y, w = train
    adapter = Adapter(lower, head, settings)
    per_epoch: list[dict[str, np.ndarray]] = []

    def record(epoch: int) -> None:
        per_epoch.append(
            {
                name: adapter.predict(at, states).astype(np.float64)
                for name, (states, at) in targets.items()
            }
        )

    adapter.fit(rows, y, w.astype(np.float32), on_epoch=record)
    return adapter, per_epoch


def best_epoch(outputs: list[np.ndarray], y: np.ndarray) -> tuple[int, list[float]]:
    """(index of the epoch whose outputs score the best macro-F1 on ``y``, each epoch's
    score); ties go to fewer epochs."""
    scores = [ml.best_threshold_macro_f1(p, y) for p in outputs]
    return int(np.argmax(scores)), [round(s, 4) for s in scores]


def _warm_head(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, hp: ModelConfig, config: Config, epochs: int
) -> Any:
    head, _ = ml.fit_multilabel_head((x, y, w), None, hp, config, epochs)
    return head


def adapt_out_of_fold(
    lower: LowerStates,
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    hp: ModelConfig,
    config: Config,
    head_epochs: int,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Out-of-fold raw outputs of every row of ``data`` (frozen embeddings, 0/1 label
    sets, weights; row ``i`` is text ``i`` of ``lower``) from per-fold adapted encoder
    copies, at the epoch count with the best pooled macro-F1; and a report."""
    x, y, w = data
    t = config.train
    folds = ml.fold_rows(len(y), t.crossfit_folds, t.seed)
    per_epoch = np.zeros((t.adapt.epochs, *y.shape), np.float64)
    frozen = np.zeros(y.shape, np.float64)
    for f, held in enumerate(folds):
        rest = np.setdiff1d(np.arange(len(y)), held)
        head = _warm_head(x[rest], y[rest], w[rest], hp, config, head_epochs)
        frozen[held] = ml.predict(head, x[held])
        settings = AdaptSettings.of(t.adapt, t.seed + f, hp, multi_label=True)
        _, outputs = adapt_scored(
            lower, head, (rest, y[rest], w[rest]), settings, {"held": (lower, held)}
        )
        for epoch, out in enumerate(outputs):
            per_epoch[epoch, held] = out["held"]
        log(f"adapted out-of-fold: fold {f + 1}/{len(folds)}")
    best, scores = best_epoch(list(per_epoch), y)
    report = {
        "layers": lower.cfg.num_hidden_layers - lower.first,
        "folds": len(folds),
        "epochs_scheduled": t.adapt.epochs,
        "epochs_chosen": best + 1,
        "oof_macro_f1_per_epoch": scores,
        "frozen_oof_macro_f1": round(ml.best_threshold_macro_f1(frozen, y), 4),
    }
    log(
        f"adaptation: {best + 1} epoch(s), out-of-fold macro-F1 {scores[best]:.4f} "
        f"(frozen encoder {report['frozen_oof_macro_f1']:.4f})"
    )
    return per_epoch[best], report


def adapt_final(
    lower: LowerStates,
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    hp: ModelConfig,
    config: Config,
    head_epochs: int,
    epochs: int,
) -> Adapter:
    """The final model: a head warm-started on all rows, adapted with the encoder's top
    layers for ``epochs`` of the scheduled epochs (the out-of-fold choice)."""
    x, y, w = data
    t = config.train
    adapter = Adapter(
        lower,
        _warm_head(x, y, w, hp, config, head_epochs),
        AdaptSettings.of(t.adapt, t.seed, hp, multi_label=True),
    )
    adapter.fit(np.arange(len(y)), y, w.astype(np.float32), epochs=epochs)
    return adapter
