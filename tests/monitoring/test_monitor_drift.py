"""The drift statistics on numbers alone: properties (hypothesis) and the false-alarm rate."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tfcls.monitoring import drift

finite = st.floats(-10, 10, allow_nan=False, width=32)
samples = st.integers(2, 20).flatmap(lambda n: arrays(np.float64, (n, 3), elements=finite))
counts = st.lists(st.integers(0, 50), min_size=2, max_size=8).filter(lambda c: sum(c) > 0)


@settings(max_examples=60, deadline=None)
@given(samples, samples)
def test_mmd_is_non_negative_and_symmetric(x, y):
    forward, backward = drift.mmd_rbf(x, y), drift.mmd_rbf(y, x)
    assert forward >= 0
    assert forward == pytest.approx(backward, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(samples)
def test_mmd_of_a_sample_with_itself_is_zero(x):
    assert drift.mmd_rbf(x, x) == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(samples, samples, st.integers(1, 60), st.integers(0, 2**16))
def test_permutation_p_value_lies_in_zero_one(x, y, permutations, seed):
    mmd, p = drift.mmd_permutation_test(x, y, permutations, seed)
    assert mmd >= 0
    assert 1 / (permutations + 1) <= p <= 1
    assert drift.mmd_permutation_test(x, y, permutations, seed) == (mmd, p)  # seeded


def _gaussians(seed: int, shift: float = 0.0, m: int = 80, n: int = 120, dim: int = 8):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(m, dim)) + shift, rng.normal(size=(n, dim))


def test_p_value_is_large_for_one_distribution_and_tiny_for_a_shifted_one():
    x, y = _gaussians(0)
    assert drift.mmd_permutation_test(x, y, 200, 0)[1] > 0.05
    x, y = _gaussians(0, shift=0.5)
    assert drift.mmd_permutation_test(x, y, 200, 0)[1] == pytest.approx(1 / 201)


def test_false_alarm_rate_and_detection_over_seeds():
    """Measured: of 40 same-distribution pairs (80 vs 120 standard normal 8-d points,
    seeds 0..39), 3 have p < 0.05 (7.5%; 2 of the first 20) and 1 p < 0.01 (2.5%); every
    pair shifted by 0.5 in each coordinate has p = 1/201 (all 40 detected). Under the null
    p is uniform: about 5% land below 0.05 (2 of 40 expected, binomial noise around it)."""
    null = [drift.mmd_permutation_test(*_gaussians(s), 200, s)[1] for s in range(40)]
    shifted = [drift.mmd_permutation_test(*_gaussians(s, 0.5), 200, s)[1] for s in range(40)]
    assert sum(p < 0.05 for p in null) <= 4  # ≤ 10% at the 5% level (expected 2)
    assert sum(p < 0.01 for p in null) <= 1
    assert all(p < 0.01 for p in shifted)


def test_subsample_keeps_order_and_limit():
    x = np.arange(20).reshape(10, 2)
    assert drift.subsample(x, 20) is x
    picked = drift.subsample(x, 4, seed=1)
    assert len(picked) == 4 and (np.diff(picked[:, 0]) > 0).all()


def test_below_floor_share_by_hand():
    train = np.array([[1.0, 0.0], [0.0, 1.0]])
    recent = np.array([[2.0, 0.0], [1.0, 1.0], [-1.0, 0.0], [0.0, 3.0]])
    # nearest cosines: 1, 0.707, 0, 1
    assert drift.below_floor_share(recent, train, 0.5) == pytest.approx(0.25)
    assert drift.below_floor_share(recent, train, 0.8) == pytest.approx(0.5)


@settings(max_examples=100, deadline=None)
@given(counts, counts)
def test_psi_is_non_negative(expected, actual):
    size = min(len(expected), len(actual))
    e, a = expected[:size], actual[:size]
    if sum(e) and sum(a):
        assert drift.psi(e, a) >= 0


@settings(max_examples=100, deadline=None)
@given(counts, st.integers(1, 5))
def test_psi_is_zero_for_equal_distributions(expected, factor):
    assert drift.psi(expected, [c * factor for c in expected]) == pytest.approx(0, abs=1e-12)


def test_psi_and_chi_square_by_hand():
    assert drift.psi([50, 50], [90, 10]) == pytest.approx(
        0.4 * np.log(0.9 / 0.5) + (-0.4) * np.log(0.1 / 0.5)
    )
    statistic, p, dof = drift.chi_square([50, 50], [60, 40])
    assert statistic == pytest.approx(4.0) and dof == 1
    assert p == pytest.approx(0.0455, abs=1e-4)  # the textbook chi-square(1) tail at 4
    assert drift.chi_square([1, 1, 1], [10, 10, 10])[1] == pytest.approx(1.0)


def test_bad_shapes_are_errors():
    with pytest.raises(ValueError):
        drift.mmd_rbf(np.zeros((3, 2)), np.zeros((3, 4)))
    with pytest.raises(ValueError):
        drift.psi([1, 2], [1, 2, 3])


def test_own_similarity_floor_by_hand_and_its_quantile():
    # unit vectors at 0°, 10°, 90°: nearest others' cosines 0.985, 0.985, 0.174
    angles = np.radians([0.0, 10.0, 90.0])
    y = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    assert drift.own_similarity_floor(y, quantile=0.0) == pytest.approx(np.cos(np.radians(80)))
    assert drift.own_similarity_floor(y, quantile=1.0) == pytest.approx(np.cos(np.radians(10)))


def test_texts_of_the_training_distribution_fall_below_the_own_floor_at_its_quantile():
    rng = np.random.default_rng(0)
    train, recent = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
    floor = drift.own_similarity_floor(train, quantile=0.05, limit=400)
    assert drift.below_floor_share(recent, train, floor) == pytest.approx(0.05, abs=0.04)
    far = np.concatenate([rng.normal(size=(400, 8)), rng.normal(size=(400, 8))], axis=1)
    near = np.concatenate([train, np.zeros((400, 8))], axis=1)
    # texts with half their direction in dimensions training never used: most fall below
    assert drift.below_floor_share(far, near, floor) > 0.3
