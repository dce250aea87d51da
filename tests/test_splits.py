"""Stratified splits, k folds and subsamples: properties checked with hypothesis."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tfcls.data.dataset import DataError
from tfcls.data.splits import kfold_splits, stratified_split, stratified_subsample

CLASS_SIZES = st.lists(st.integers(1, 40), min_size=1, max_size=6)
FRACTIONS = st.sampled_from([0.0, 0.1, 0.15, 0.2, 0.25, 1 / 3])


def make_y(sizes: list[int], seed: int) -> np.ndarray:
    y = np.repeat(np.arange(len(sizes)), sizes)
    return np.random.default_rng(seed).permutation(y)


@given(CLASS_SIZES, FRACTIONS, FRACTIONS, st.integers(0, 2**32 - 1))
def test_stratified_split_properties(sizes, val_f, test_f, seed):
    y = make_y(sizes, seed)

    def share(n: int, f: float) -> int:
        return 0 if f == 0 else max(1, int(np.floor(n * f + 0.5)))

    if any(n - share(n, val_f) - share(n, test_f) < 1 for n in sizes):
        with pytest.raises(DataError, match="too few"):
            stratified_split(y, val_f, test_f, seed)
        return
    train, val, test = stratified_split(y, val_f, test_f, seed)
    both = stratified_split(y, val_f, test_f, seed)
    assert all(np.array_equal(a, b) for a, b in zip((train, val, test), both, strict=True))
    joined = np.concatenate([train, val, test])
    assert sorted(joined) == list(range(len(y))) and len(set(joined)) == len(y)
    for part in (train, val, test):
        assert np.array_equal(part, np.sort(part)) and part.dtype == np.int64
    for c, n in enumerate(sizes):
        for part, f in ((val, val_f), (test, test_f)):
            count = int(np.sum(y[part] == c))
            assert abs(count - n * f) <= 1 and (count >= 1 if f > 0 else count == 0)
        assert np.sum(y[train] == c) >= 1


def test_stratified_split_names_the_small_label():
    y = np.array([0] * 10 + [1] * 2)
    with pytest.raises(DataError, match=r"label 'rare' has 2 example\(s\): too few"):
        stratified_split(y, 0.2, 0.2, 0, labels=["common", "rare"])
    with pytest.raises(DataError, match="val_fraction must be in"):
        stratified_split(y, 1.0, 0.0, 0)
    train, val, test = stratified_split(y, 0.0, 0.0, 0)
    assert len(train) == 12 and len(val) == len(test) == 0


@given(CLASS_SIZES, st.integers(2, 6), st.integers(0, 1000))
def test_kfold_partition(sizes, k, seed):
    y = make_y(sizes, seed)
    if min(sizes) < k:
        with pytest.raises(DataError, match=f"fewer than k={k}"):
            kfold_splits(y, k, seed)
        return
    folds = kfold_splits(y, k, seed)
    assert len(folds) == k
    tests = np.concatenate([test for _, test in folds])
    assert sorted(tests) == list(range(len(y)))
    for train, test in folds:
        assert sorted(np.concatenate([train, test])) == list(range(len(y)))
        for c, n in enumerate(sizes):
            assert abs(np.sum(y[test] == c) - n / k) < 1
    sizes_per_fold = [len(test) for _, test in folds]
    assert max(sizes_per_fold) - min(sizes_per_fold) <= 1
    again = kfold_splits(y, k, seed)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))


def test_kfold_rejects_bad_k():
    with pytest.raises(DataError, match="k ≥ 2"):
        kfold_splits(np.array([0, 1]), 1, 0)


@given(
    CLASS_SIZES,
    st.one_of(st.none(), st.integers(1, 10)),
    st.one_of(st.none(), st.sampled_from([0.01, 0.1, 0.5, 1.0])),
    st.integers(0, 1000),
)
def test_stratified_subsample(sizes, per_label, fraction, seed):
    y = make_y(sizes, seed)
    idx = stratified_subsample(y, per_label, fraction, seed)
    assert np.array_equal(idx, np.unique(idx)) and idx.dtype == np.int64
    assert np.array_equal(idx, stratified_subsample(y, per_label, fraction, seed))
    for c, n in enumerate(sizes):
        want = n if fraction is None else max(1, int(np.floor(n * fraction + 0.5)))
        want = want if per_label is None else min(want, per_label)
        assert np.sum(y[idx] == c) == want
