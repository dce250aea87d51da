"""Repeated stratified k-fold cross-validation of the whole default procedure.

Each outer fold runs ``tfcls.training.crossfit.fit`` (tuning, encoder adaptation, cross-fitted
calibration: everything ``python -m tfcls.train`` does) on the other folds, then scores
the held-out fold the way the product uses the model: accuracy, macro-F1, calibration
error, and the share of texts auto-selected at the threshold that procedure would ship,
with the precision of those selections. ``python -m tfcls.evaluate --cv K`` and
``python -m tfcls.bench quality`` report it.
"""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from tfcls.config import Config
from tfcls.data.dataset import Dataset
from tfcls.data.splits import kfold_splits
from tfcls.decision import calibration
from tfcls.encoders.encoder import SentenceEncoder
from tfcls.evaluation.metrics import classification_metrics
from tfcls.training import crossfit

SUMMARY_KEYS = ("accuracy", "macro_f1", "ece", "auto_select_coverage", "auto_select_precision")


def _mean_std(values: list[float]) -> dict[str, float]:
    a = np.asarray(values, dtype=np.float64)
    return {"mean": float(a.mean()), "std": float(a.std(ddof=1)) if len(a) > 1 else 0.0}


def score_fold(
    fitted: crossfit.FitResult,
    calib: dict[str, Any],
    proba: np.ndarray,
    y: np.ndarray,
    labels: list[str],
) -> dict[str, Any]:
    """One held-out fold scored at the procedure's own temperature and thresholds."""
    cal = calibration.apply_temperature(proba, calib["temperature"])
    m = classification_metrics(y, cal, labels)
    threshold = calib["threshold"]["threshold"]
    at = calibration.evaluate_threshold(cal, y, threshold)
    out = {
        "n": m["n"],
        "accuracy": m["accuracy"],
        "macro_f1": m["macro_f1"],
        "ece": calibration.ece(cal, y),
        "threshold": threshold,
        "auto_select_coverage": at["coverage"],
        "auto_select_precision": at["precision"],
        "temperature": calib["temperature"],
        "oof_accuracy": fitted.report["oof_accuracy"],
    }
    if "unknown" in calib:
        scores = cal.max(axis=1)
        out["unknown_threshold"] = calib["unknown"]["threshold"]
        out["flagged_unknown"] = float((scores < calib["unknown"]["threshold"]).mean())
    return out


def cross_validate(
    dataset: Dataset,
    vectors: np.ndarray,
    config: Config,
    folds: int,
    work_dir: Path,
    modules: Any = None,
    repeats: int = 1,
) -> dict[str, Any]:
    """``repeats`` × ``folds`` stratified cross-validation (seeds train.seed, +1, ...) of
    the whole procedure; per fold and mean ± std of ``SUMMARY_KEYS`` and the seconds.

    ``vectors`` are the frozen embeddings of the dataset's texts; ``modules`` (the
    encoder's HubModules) is needed when the procedure adapts the encoder."""
    texts, y, w, labels = dataset.texts, dataset.y, dataset.weights, dataset.labels
    per_fold = []
    for r in range(repeats):
        cfg = copy.deepcopy(config)
        cfg.train.seed = config.train.seed + r
        cfg.train.tensorboard = False
        for i, (tr, te) in enumerate(kfold_splits(y, folds, cfg.train.seed, labels=labels)):
            start = time.perf_counter()
            fit_texts = [texts[j] for j in tr]
            fitted = crossfit.fit(
                fit_texts,
                y[tr],
                w[tr],
                vectors[tr],
                len(labels),
                cfg,
                work_dir / f"r{r}f{i}",
                modules,
            )
            calib, _ = crossfit.calibrate(fitted, y[tr], vectors[tr], cfg.decision)
            held = [texts[j] for j in te]
            proba = crossfit.predict(fitted, held, vectors[te], modules)
            result = score_fold(fitted, calib, proba, y[te], labels)
            result.update(repeat=r, fold=i, seconds=round(time.perf_counter() - start, 1))
            per_fold.append(result)
            print(
                f"repeat {r + 1}/{repeats} fold {i + 1}/{folds}: accuracy "
                f"{result['accuracy']:.4f}, auto-select {result['auto_select_coverage']:.3f} "
                f"at precision {result['auto_select_precision']:.3f} ({result['seconds']} s)",
                file=sys.stderr,
                flush=True,
            )
    out: dict[str, Any] = {"folds": per_fold, "k": folds, "repeats": repeats}
    for key in (*SUMMARY_KEYS, "threshold", "temperature", "seconds"):
        out[key] = _mean_std([f[key] for f in per_fold])
    return out


def cross_validate_dataset(
    enc: SentenceEncoder,
    dataset: Dataset,
    config: Config,
    folds: int,
    work_dir: Path,
    repeats: int = 1,
) -> dict[str, Any]:
    """Embed a dataset with ``enc`` (cached) and cross-validate on it; record sha256."""
    vectors = enc.embed(dataset.texts, batch_size=config.encoder.batch_size, progress=True)
    result = cross_validate(dataset, vectors, config, folds, work_dir, enc.modules, repeats)
    result.update(data_sha256=dataset.sha256)
    return result
