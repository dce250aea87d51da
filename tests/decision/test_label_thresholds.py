"""Per-label Platt scaling and thresholds (multi-label decisions)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tfcls.decision import label_thresholds as lt
from tfcls.evaluation.multilabel_metrics import macro_f1, multilabel_metrics


def _scores(data: st.DataObject, n: int) -> tuple[np.ndarray, np.ndarray]:
    p = np.array(data.draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    y = np.array(data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    return p, y


@settings(max_examples=80, deadline=None)
@given(st.data(), st.integers(2, 60), st.sampled_from([0.5, 0.8, 0.95]))
def test_a_precision_threshold_reaches_its_target_on_the_data_it_was_chosen_on(data, n, target):
    p, y = _scores(data, n)
    decision = lt.choose(p[:, None], y[:, None], ["x"], "precision", target, calibrate=False)
    t = decision.thresholds[0]
    p = decision.calibrate(p[:, None])[:, 0]  # thresholds apply to calibrated scores
    predicted = p >= t
    if y.sum() == 0:
        assert not predicted.any()  # a label never seen is never predicted
        return
    precision = (predicted & (y > 0)).sum() / max(predicted.sum(), 1)
    best = max(((p >= c) & (y > 0)).sum() / max((p >= c).sum(), 1) for c in np.unique(p))
    # the target, where any cut reaches it; else the most precise cut there is
    assert precision >= min(target, best) - 1e-12
    if best >= target:  # and it is the lowest such cut: the most recall at that precision
        lower = [c for c in np.unique(p) if c < t]
        assert all(((p >= c) & (y > 0)).sum() / (p >= c).sum() < target for c in lower)


@settings(max_examples=80, deadline=None)
@given(st.data(), st.integers(2, 60))
def test_an_f1_threshold_is_the_best_cut(data, n):
    p, y = _scores(data, n)
    if y.sum() == 0:
        return
    decision = lt.choose(p[:, None], y[:, None], ["x"], "f1", calibrate=False)
    t, p = decision.thresholds[0], decision.calibrate(p[:, None])[:, 0]

    def f1(cut: float) -> float:
        pred = p >= cut
        tp = (pred & (y > 0)).sum()
        return 2 * tp / (pred.sum() + y.sum())

    assert f1(t) >= max(f1(c) for c in np.unique(p)) - 1e-12


def test_platt_scaling_lowers_the_log_loss_of_miscalibrated_scores():
    rng = np.random.default_rng(0)
    z = rng.normal(size=4000)
    y = (rng.random(4000) < lt.sigmoid(2.0 * z - 1.0)).astype(int)
    p = lt.sigmoid(z)  # too flat and off-centre
    a, b = lt.fit_platt(p, y)
    assert a == pytest.approx(2.0, abs=0.25) and b == pytest.approx(-1.0, abs=0.2)

    def loss(q: np.ndarray) -> float:
        return float(-(y * np.log(q) + (1 - y) * np.log(1 - q)).mean())

    assert loss(lt.sigmoid(a * lt.logit(p) + b)) < loss(p)
    assert lt.fit_platt(p, np.zeros_like(y)) == (1.0, 0.0)  # nothing to fit


def test_a_decision_round_trips_and_predicts_label_sets():
    p = np.array([[0.9, 0.2], [0.4, 0.7], [0.1, 0.1]])
    y = np.array([[1, 0], [0, 1], [0, 0]])
    d = lt.choose(p, y, ["a", "b"])
    assert (d.predict(p) == y).all()
    again = lt.LabelDecision.from_dict(d.to_dict())
    assert again.labels == ("a", "b") and np.allclose(again.thresholds, d.thresholds)
    assert np.allclose(again.calibrate(p), d.calibrate(p))


def test_metrics_match_scikit_learn():
    from sklearn import metrics as sk

    rng = np.random.default_rng(1)
    y = (rng.random((300, 5)) < 0.3).astype(int)
    proba = np.clip(y * 0.6 + rng.random((300, 5)) * 0.5, 0, 1)
    pred = (proba >= 0.5).astype(int)
    m = multilabel_metrics(y, pred, proba, list("abcde"))
    assert m["micro_f1"] == pytest.approx(sk.f1_score(y, pred, average="micro"))
    assert m["macro_f1"] == pytest.approx(sk.f1_score(y, pred, average="macro"))
    assert m["macro_f1"] == pytest.approx(macro_f1(y, pred))
    assert m["weighted_f1"] == pytest.approx(sk.f1_score(y, pred, average="weighted"))
    assert m["subset_accuracy"] == pytest.approx(sk.accuracy_score(y, pred))
    assert m["hamming_loss"] == pytest.approx(sk.hamming_loss(y, pred))
    for j, label in enumerate("abcde"):
        assert m["per_label"][label]["roc_auc"] == pytest.approx(
            sk.roc_auc_score(y[:, j], proba[:, j])
        )
        assert m["per_label"][label]["support"] == y[:, j].sum()
