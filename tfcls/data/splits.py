"""Stratified train/val/test splits, k folds and subsamples (deterministic per seed).

Class ids in, sorted int64 index arrays out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tfcls.data.dataset import DataError


def _class_ids(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or (y.size and not np.issubdtype(y.dtype, np.integer)):
        raise DataError(f"class ids must be a 1-D integer array, got shape {y.shape} {y.dtype}")
    return y


def _class_name(c: int, labels: Sequence[str] | None) -> str:
    return f"label {labels[c]!r}" if labels is not None and 0 <= c < len(labels) else f"class {c}"


def _share(n: int, fraction: float) -> int:
    """0 for fraction 0, else max(1, n·fraction rounded half up (not round()'s half-even))."""
    return 0 if fraction == 0 else max(1, int(np.floor(n * fraction + 0.5)))


def _indices(parts: list[np.ndarray]) -> np.ndarray:
    return np.sort(np.concatenate(parts)).astype(np.int64) if parts else np.empty(0, np.int64)


def stratified_split(
    y: np.ndarray,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    *,
    labels: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, val, test) indices. A class of n examples puts round(n·test_fraction) in test
    and round(n·val_fraction) in val (half rounds up), at least 1 in each when its fraction is
    > 0, and at least 1 in train; a class too small for that is a DataError naming it
    (``labels`` maps class ids to names for that message)."""
    y = _class_ids(y)
    for key, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 <= value < 1:
            raise DataError(f"{key} must be in [0, 1), got {value}")
    if val_fraction + test_fraction >= 1:
        raise DataError(
            f"val_fraction + test_fraction must be < 1, got {val_fraction} + {test_fraction}"
        )
    rng = np.random.default_rng(seed)
    train, val, test = [], [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_test, n_val = _share(len(idx), test_fraction), _share(len(idx), val_fraction)
        if len(idx) - n_test - n_val < 1:
            raise DataError(
                f"{_class_name(int(c), labels)} has {len(idx)} example(s): too few for "
                f"val_fraction={val_fraction}, test_fraction={test_fraction} ({n_val} val + "
                f"{n_test} test + at least 1 train); add examples or lower the fractions"
            )
        test.append(idx[:n_test])
        val.append(idx[n_test : n_test + n_val])
        train.append(idx[n_test + n_val :])
    return _indices(train), _indices(val), _indices(test)


def kfold_splits(
    y: np.ndarray, k: int, seed: int, *, labels: Sequence[str] | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """k stratified (train, test) folds: each class's shuffled indices are dealt round-robin
    over the folds (continuing where the previous class stopped, so fold sizes differ by at
    most 1); every index is in exactly one test fold."""
    y = _class_ids(y)
    if k < 2:
        raise DataError(f"k-fold needs k ≥ 2, got {k}")
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=np.int64)
    start = 0
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        if len(idx) < k:
            raise DataError(
                f"{_class_name(int(c), labels)} has {len(idx)} example(s), fewer than k={k} "
                "folds; add examples or lower k"
            )
        fold[idx] = (start + np.arange(len(idx))) % k
        start = (start + len(idx)) % k
    return [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(k)]


def stratified_subsample(
    y: np.ndarray, per_label: int | None, fraction: float | None, seed: int
) -> np.ndarray:
    """Sorted indices of a per-class random sample (dev mode, few-shot runs): each class keeps
    max(1, round(n·fraction)) if ``fraction`` is given, capped at ``per_label`` if that is given;
    with neither, everything."""
    y = _class_ids(y)
    if per_label is not None and per_label < 1:
        raise DataError(f"per_label must be ≥ 1, got {per_label}")
    if fraction is not None and not 0 < fraction <= 1:
        raise DataError(f"fraction must be in (0, 1], got {fraction}")
    rng = np.random.default_rng(seed)
    keep = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        m = len(idx) if fraction is None else _share(len(idx), fraction)
        m = m if per_label is None else min(m, per_label)
        keep.append(rng.choice(idx, size=m, replace=False) if m < len(idx) else idx)
    return _indices(keep)
