"""tfcls.evaluation.curves agrees with scikit-learn's ROC / PR functions on any input."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from tfcls.evaluation import curves

# scores on a coarse grid make ties common (the hard case); truth any 0/1 mix
binary_cases = st.integers(1, 60).flatmap(
    lambda n: st.tuples(
        st.lists(st.booleans(), min_size=n, max_size=n),
        st.lists(st.integers(0, 12).map(lambda k: k / 12), min_size=n, max_size=n),
    )
)


def _both_classes(truth: list[bool]) -> bool:
    return any(truth) and not all(truth)


@settings(max_examples=300, deadline=None)
@given(binary_cases)
def test_roc_matches_sklearn(case):
    truth, score = np.array(case[0]), np.array(case[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns where a rate is undefined
        want = skm.roc_curve(truth, score)
    got = curves.roc_curve(truth, score)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, equal_nan=True)
    if _both_classes(case[0]):
        assert curves.roc_auc(truth, score) == pytest.approx(skm.roc_auc_score(truth, score))
    else:
        assert curves.roc_auc(truth, score) is None


@settings(max_examples=300, deadline=None)
@given(binary_cases)
def test_precision_recall_matches_sklearn(case):
    truth, score = np.array(case[0]), np.array(case[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = skm.precision_recall_curve(truth, score)
        want_ap = skm.average_precision_score(truth, score)
    for g, w in zip(curves.precision_recall_curve(truth, score), want, strict=True):
        np.testing.assert_allclose(g, w)
    ap = curves.average_precision(truth, score)
    if truth.any():
        assert ap == pytest.approx(want_ap)
    else:
        assert ap is None


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 5000), st.integers(2, 300))
def test_thinning_keeps_ends_order_and_bound(n, max_points):
    keep = curves.thin(n, max_points)
    assert len(keep) <= max_points and keep[0] == 0 and keep[-1] == n - 1
    assert (np.diff(keep) > 0).all()


def test_big_split_is_thinned_but_auc_uses_every_point():
    rng = np.random.default_rng(0)
    truth = rng.random((5000, 2)) < 0.3
    proba = np.clip(truth * 0.3 + rng.random((5000, 2)) * 0.7, 0, 1)
    record = curves.curves_record(truth, proba, ["a", "b"], max_points=50)
    for j, label in enumerate(["a", "b"]):
        c = record["labels"][label]
        assert c["roc"]["thinned"] and len(c["roc"]["fpr"]) <= 50 < c["roc"]["points"]
        assert len(c["roc"]["fpr"]) == len(c["roc"]["tpr"]) == len(c["roc"]["thresholds"])
        assert c["roc"]["thresholds"][0] is None  # +inf: nothing predicted
        assert c["roc"]["auc"] == pytest.approx(skm.roc_auc_score(truth[:, j], proba[:, j]))
        assert c["pr"]["average_precision"] == pytest.approx(
            skm.average_precision_score(truth[:, j], proba[:, j])
        )
        assert len(c["pr"]["thresholds"]) == len(c["pr"]["precision"]) - 1
    json.dumps(record, allow_nan=False)  # strict JSON: no NaN, no Infinity


def test_undefined_curves_say_why():
    truth = np.array([[1, 0, 1], [1, 0, 0], [1, 0, 1]])
    proba = np.array([[0.9, 0.1, 0.8], [0.7, 0.2, 0.3], [0.6, 0.4, 0.5]])
    record = curves.curves_record(truth, proba, ["always", "never", "some"])
    always, never, some = (record["labels"][k] for k in ("always", "never", "some"))
    assert always["roc"] is None and "no negative" in always["roc_undefined"]
    assert always["pr"]["average_precision"] == pytest.approx(1.0)
    assert never["roc"] is None and never["pr"] is None
    assert "no positive" in never["roc_undefined"] and "no positive" in never["pr_undefined"]
    assert some["roc"]["auc"] == pytest.approx(1.0)
    assert record["macro_auc"] == pytest.approx(1.0)
    summary = curves.summary(record)
    assert summary["labels"]["never"]["roc_auc"] is None
    assert "no positive" in summary["labels"]["never"]["roc_undefined"]
    json.dumps(record, allow_nan=False)


def test_misaligned_input_is_a_clear_error():
    with pytest.raises(ValueError, match="must be"):
        curves.curves_record(np.zeros((3, 2)), np.zeros((3, 3)), ["a", "b"])
