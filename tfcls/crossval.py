"""k-fold cross-validation of the whole training procedure (tuning included)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from tfcls.config import Config
from tfcls.data import Dataset
from tfcls.encoders.encoder import SentenceEncoder
from tfcls.metrics import classification_metrics
from tfcls.splits import kfold_splits, stratified_split
from tfcls.train import select_and_fit, set_seed


def cross_validate(
    vectors: np.ndarray,
    y: np.ndarray,
    labels: list[str],
    config: Config,
    folds: int,
    work_dir: Path,
) -> dict[str, Any]:
    """k-fold cross-validation of the whole procedure (tuning included) on embeddings.

    Each fold's training part is split again into train/val (data.val_fraction) for
    tuning and early stopping; the fold's test part is only predicted.
    """
    per_fold = []
    for i, (train_idx, test_idx) in enumerate(
        kfold_splits(y, folds, config.train.seed, labels=labels)
    ):
        tr, val, _ = stratified_split(
            y[train_idx], config.data.val_fraction, 0.0, config.train.seed, labels=labels
        )
        tr, val = train_idx[tr], train_idx[val]
        set_seed(config.train.seed)
        head, _, _, _ = select_and_fit(
            vectors[tr],
            y[tr],
            vectors[val],
            y[val],
            len(labels),
            config,
            work_dir / f"fold{i}",
            config.tuner.max_trials,
        )
        m = classification_metrics(y[test_idx], head.predict(vectors[test_idx], verbose=0), labels)
        per_fold.append({"accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "n": m["n"]})
        print(
            f"fold {i + 1}/{folds}: accuracy {m['accuracy']:.4f}, macro-F1 {m['macro_f1']:.4f}",
            file=sys.stderr,
            flush=True,
        )
    out: dict[str, Any] = {"folds": per_fold}
    for key in ("accuracy", "macro_f1"):
        values = np.array([f[key] for f in per_fold])
        out[key] = {
            "mean": float(values.mean()),
            "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
        }
    return out


def cross_validate_dataset(
    enc: SentenceEncoder, dataset: Dataset, config: Config, folds: int, work_dir: Path
) -> dict[str, Any]:
    """Embed a dataset with ``enc`` (cached) and cross-validate on it; record k and sha256."""
    vectors = enc.embed(dataset.texts, batch_size=config.encoder.batch_size, progress=True)
    result = cross_validate(vectors, dataset.y, dataset.labels, config, folds, work_dir)
    result.update(k=folds, data_sha256=dataset.sha256)
    return result
