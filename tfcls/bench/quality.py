"""``python -m tfcls.bench quality``: the default procedure measured the way it is used.

Repeated stratified k-fold (``--folds`` × ``--repeats``, seeded) of the *whole* default
procedure (``tfcls.evaluation.crossval``: tuning, encoder adaptation, cross-fitted calibration) on a
dataset (default: ``data.path``, the bundled one). Each held-out fold is scored at the
temperature and auto-select threshold that the procedure would ship: accuracy, macro-F1,
ECE, and auto-select coverage and precision, mean ± std over the folds. Then one default
training on all of the data is timed in-process (warm embedding cache; ``bench train``
times a cold ``python -m tfcls.train``), with the spread of its threshold across folds.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tfcls.config import Config, to_dict
from tfcls.data.dataset import load_dataset
from tfcls.encoders import load_encoder_from
from tfcls.evaluation.crossval import cross_validate
from tfcls.training import crossfit

# Issue 11's targets on the bundled data (out-of-fold, 2-core dev machine).
TARGETS = {"accuracy": 0.88, "auto_select_coverage": 0.50, "auto_select_precision": 0.95}


def bench_quality(
    config: Config, data_path: str | None, folds: int, repeats: int, work: Path
) -> dict[str, Any]:
    """The quality figures of the default procedure on one dataset (see the module)."""
    dataset = load_dataset(data_path or config.data.path, config.data.min_per_label)
    enc = load_encoder_from(config.encoder)
    vectors = enc.embed(dataset.texts, batch_size=config.encoder.batch_size, progress=True)
    cv = cross_validate(dataset, vectors, config, folds, work / "cv", enc.modules, repeats)
    start = time.perf_counter()
    fitted = crossfit.fit(
        dataset.texts,
        dataset.y,
        dataset.weights,
        vectors,
        len(dataset.labels),
        config,
        work / "full",
        enc.modules,
    )
    calib, _ = crossfit.calibrate(fitted, dataset.y, vectors, config.decision)
    return {
        "benchmark": "quality",
        "data": str(dataset.path),
        "data_sha256": dataset.sha256,
        "examples": len(dataset.examples),
        "labels": len(dataset.labels),
        "procedure": {
            "adapt_layers": config.train.adapt.layers,
            "crossfit_folds": config.train.crossfit_folds,
            "tuner_trials": config.tuner.max_trials if config.tuner.enabled else 0,
            "target_precision": config.decision.target_precision,
        },
        **{k: cv[k] for k in ("k", "repeats", "accuracy", "macro_f1", "ece")},
        "auto_select_coverage": cv["auto_select_coverage"],
        "auto_select_precision": cv["auto_select_precision"],
        "threshold_across_folds": cv["threshold"],
        "fold_seconds": cv["seconds"],
        "full_training": {
            "seconds_warm_cache": round(time.perf_counter() - start, 1),
            "threshold": calib["threshold"],
            "threshold_spread_within": calib["spread"],
            "unknown_threshold": (calib.get("unknown") or {}).get("threshold"),
            "report": fitted.report,
            "hyperparameters": to_dict(fitted.hp),
        },
        "targets": TARGETS,
        "per_fold": cv["folds"],
    }
