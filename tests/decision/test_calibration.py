"""Temperature scaling, ECE/NLL and threshold selection on hand-made and synthetic data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tfcls.decision.calibration import (
    apply_temperature,
    choose_threshold,
    coverage_curve,
    cross_fitted,
    ece,
    evaluate_threshold,
    fit_temperature,
    nll,
    raise_threshold,
    reliability,
)


def overconfident(n=2000, k=4, seed=0):
    """Labels drawn from softmax(z) but probabilities reported as softmax(3z)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, k)) * 1.5
    true_p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    y = np.array([rng.choice(k, p=p) for p in true_p])
    shown = np.exp(3 * z) / np.exp(3 * z).sum(1, keepdims=True)
    return shown, y


def test_temperature_scaling_recovers_the_true_temperature_and_lowers_nll():
    proba, y = overconfident()
    t = fit_temperature(proba, y)
    assert t == pytest.approx(3.0, rel=0.15)
    calibrated = apply_temperature(proba, t)
    assert nll(calibrated, y) < nll(proba, y) - 0.1
    assert ece(calibrated, y) < ece(proba, y) / 2
    np.testing.assert_allclose(calibrated.sum(axis=1), 1.0, rtol=1e-9)
    assert (calibrated.argmax(1) == proba.argmax(1)).all()  # ranking unchanged


def test_ece_and_reliability_hand_computed():
    # confidences 0.9 (right), 0.9 (wrong), 0.6 (right) in 15 bins
    proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6]])
    y = np.array([0, 1, 1])
    bins = reliability(proba, y)
    assert sum(bins.counts) == 3
    hi = bins.counts.index(2)
    assert bins.confidence[hi] == pytest.approx(0.9) and bins.accuracy[hi] == 0.5
    assert ece(proba, y) == pytest.approx(2 / 3 * 0.4 + 1 / 3 * 0.4)
    assert nll(proba, y) == pytest.approx(-(np.log(0.9) + np.log(0.1) + np.log(0.6)) / 3)


def test_threshold_hand_computed_and_ties():
    proba = np.array([[0.99, 0.01], [0.95, 0.05], [0.95, 0.05], [0.8, 0.2], [0.7, 0.3]])
    y = np.array([0, 0, 1, 0, 0])  # the 0.95 tie holds one mistake
    curve = coverage_curve(proba, y)
    assert curve["threshold"] == [0.99, 0.95, 0.8, 0.7]
    assert curve["precision"] == pytest.approx([1.0, 2 / 3, 3 / 4, 4 / 5])
    t = choose_threshold(proba, y, target_precision=0.75)  # 0.7 gives 4/5 over everything
    assert (t.threshold, t.coverage) == (0.7, 1.0) and t.precision == pytest.approx(0.8)
    t = choose_threshold(proba, y, target_precision=0.9)  # only the 0.99 prediction
    assert (t.threshold, t.coverage, t.precision) == (0.99, 0.2, 1.0)
    never = choose_threshold(np.array([[0.9, 0.1]]), np.array([1]), 0.95)
    assert never.coverage == 0.0 and never.threshold > 1.0
    assert evaluate_threshold(proba, y, 0.9) == {
        "threshold": 0.9,
        "coverage": 0.6,
        "precision": pytest.approx(2 / 3),
    }


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.5, 0.99), st.integers(1, 200))
def test_chosen_threshold_meets_the_target_on_its_own_data(seed, target, n):
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet(np.ones(3) * 0.5, size=n)
    y = rng.integers(0, 3, n)
    t = choose_threshold(proba, y, target)
    got = evaluate_threshold(proba, y, t.threshold)
    assert got["precision"] >= target or got["coverage"] == 0.0
    assert got["coverage"] == pytest.approx(t.coverage)
    # no lower threshold with more coverage also meets the target
    curve = coverage_curve(proba, y)
    better = [
        c
        for c, p in zip(curve["coverage"], curve["precision"], strict=True)
        if p >= target and c > t.coverage
    ]
    assert not better


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.1, 10.0))
def test_temperature_keeps_probabilities_normalised(seed, temperature):
    proba = np.random.default_rng(seed).dirichlet(np.ones(5), size=7)
    out = apply_temperature(proba, temperature)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-9)
    assert (out >= 0).all()


def test_decide_marks_auto_select_and_unknown():
    from tfcls.decision.rule import UnknownRule, decide

    labels = ["a", "b", "c"]
    by_similarity = UnknownRule("nearest", 0.3)
    sure = decide([0.05, 0.9, 0.05], labels, 0.8, similarity=0.7, unknown=by_similarity)
    assert [p["label"] for p in sure["predictions"]] == ["b", "a", "c"]
    assert sure["auto_select"] and not sure["unknown"] and sure["similarity"] == 0.7
    unsure = decide([0.3, 0.4, 0.3], labels, threshold=0.8, k=2)
    assert len(unsure["predictions"]) == 2 and not unsure["auto_select"]
    assert unsure["similarity"] is None and not unsure["unknown"]
    far = decide([0.05, 0.9, 0.05], labels, 0.8, similarity=0.1, unknown=by_similarity)
    assert far["unknown"] and not far["auto_select"]  # never auto-select the unknown
    assert not decide([0.05, 0.9, 0.05], labels, None)["auto_select"]
    by_probability = UnknownRule("max_softmax", 0.5)
    assert decide([0.3, 0.4, 0.3], labels, 0.8, unknown=by_probability)["unknown"]
    assert not decide([0.05, 0.9, 0.05], labels, 0.8, unknown=by_probability)["unknown"]


def test_cross_fitted_calibration_recovers_the_temperature_and_reports_its_spread():
    shown, y = overconfident(n=3000, seed=3)
    fold_of = np.random.default_rng(0).integers(0, 5, len(y))
    calib = cross_fitted(shown, y, fold_of, True, 0.9)
    assert calib["temperature"] == pytest.approx(3.0, rel=0.1)
    assert calib["oof"]["nll_after"] < calib["oof"]["nll_before"]
    spread = calib["spread"]
    assert len(spread["threshold_per_fold"]) == 5 and spread["threshold_std"] >= 0
    assert all(t == pytest.approx(3.0, rel=0.25) for t in spread["temperature_per_fold"])
    assert sum(calib["reliability"]["oof"]["counts"]) == len(y)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.6, 0.99), st.floats(0.0, 1.0))
def test_cross_fitted_threshold_meets_the_target_out_of_fold_and_respects_the_floor(
    seed, target, floor
):
    shown, y = overconfident(n=300, seed=seed)
    fold_of = np.arange(len(y)) % 3
    calib = cross_fitted(shown, y, fold_of, True, target)
    cal = apply_temperature(shown, calib["temperature"])
    raise_threshold(calib, cal, y, floor)
    chosen = calib["threshold"]
    got = evaluate_threshold(cal, y, chosen["threshold"])
    # by construction on the out-of-fold predictions it was chosen on ...
    assert got["precision"] >= target or got["coverage"] == 0.0
    # ... and never below the unknown threshold: only confident *and* known texts
    assert chosen["threshold"] >= floor
    assert chosen["raised_to_unknown"] == (chosen["threshold"] > chosen["precision_threshold"])
    assert got["coverage"] == pytest.approx(chosen["coverage"])


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.lists(st.integers(0, 3), min_size=12, max_size=12))
def test_integer_weights_count_like_repeated_texts(seed, counts):
    """A text of weight 3 counts as three copies of it: temperature, curve and threshold."""
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet(np.ones(3), 12)
    y = rng.integers(0, 3, 12)
    w = np.array(counts, float)
    if w.sum() == 0:
        return
    rows = np.repeat(np.arange(12), counts)
    t_weighted = fit_temperature(proba, y, weights=w)
    assert t_weighted == pytest.approx(fit_temperature(proba[rows], y[rows]), rel=1e-4)
    kept = w > 0
    weighted = coverage_curve(proba[kept], y[kept], w[kept])
    repeated = coverage_curve(proba[rows], y[rows])
    for key in ("threshold", "coverage", "precision"):
        assert weighted[key] == pytest.approx(repeated[key])
    a = choose_threshold(proba, y, 0.6, weights=w)
    b = choose_threshold(proba[rows], y[rows], 0.6)
    assert a.precision == pytest.approx(b.precision) and a.coverage == pytest.approx(b.coverage)


def test_unit_weights_change_nothing():
    rng = np.random.default_rng(1)
    proba, y = rng.dirichlet(np.ones(4), 50), rng.integers(0, 4, 50)
    fold_of = np.arange(50) % 5
    plain = cross_fitted(proba, y, fold_of, True, 0.8)
    weighted = cross_fitted(proba, y, fold_of, True, 0.8, np.ones(50))
    assert plain["temperature"] == weighted["temperature"]
    assert plain["threshold"] == weighted["threshold"]
