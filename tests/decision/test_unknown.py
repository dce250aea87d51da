"""Unknown-category scores, threshold and detection metrics against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tfcls.decision import unknown as ood


def unit(rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_nearest_similarity_is_the_best_cosine():
    refs = unit([[1, 0], [0, 1]])
    vecs = unit([[1, 1], [1, 0], [-1, 0.1]])
    got = ood.nearest_similarity(vecs, refs, batch_size=2)  # batches split the input
    np.testing.assert_allclose(got, [np.sqrt(0.5), 1.0, unit([[-1, 0.1]])[0, 1]], rtol=1e-6)
    with pytest.raises(ValueError, match="at least one reference"):
        ood.nearest_similarity(vecs, np.zeros((0, 2)))


def test_auroc_hand_cases():
    assert ood.auroc(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0
    assert ood.auroc(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == 0.0
    # pairs: (2>1), (2<3), (4>1), (4>3) → 3/4; a tie counts half
    assert ood.auroc(np.array([2.0, 4.0]), np.array([1.0, 3.0])) == 0.75
    assert ood.auroc(np.array([1.0]), np.array([1.0])) == 0.5


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(-1, 1, allow_nan=False), min_size=1, max_size=60),
    st.floats(0.01, 1.0),
)
def test_threshold_keeps_at_least_the_recall_and_no_higher_one_would(scores, recall):
    scores = np.array(scores)
    t = ood.unknown_threshold(scores, recall)
    kept = (scores >= t).mean()
    assert kept >= recall - 1e-9
    higher = scores[scores > t]
    if len(higher):  # the next larger threshold would keep too few
        assert (scores >= higher.min()).mean() < recall - 1e-9


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-1, 1, allow_nan=False), min_size=1, max_size=30), st.data())
def test_auroc_matches_pair_counting(known, data):
    unknown = data.draw(st.lists(st.floats(-1, 1, allow_nan=False), min_size=1, max_size=30))
    k, u = np.array(known), np.array(unknown)
    pairs = (k[:, None] > u[None, :]).sum() + 0.5 * (k[:, None] == u[None, :]).sum()
    assert ood.auroc(k, u) == pytest.approx(pairs / (len(k) * len(u)))


def test_evaluate_detection_hand_case():
    # four known texts (3 classified right), two unknown; threshold 0.5
    scores = np.array([0.9, 0.8, 0.4, 0.7, 0.3, 0.6])
    is_unknown = np.array([0, 0, 0, 0, 1, 1], dtype=bool)
    correct = np.array([1, 0, 1, 1, 0, 0], dtype=bool)
    r = ood.evaluate_detection(0.5, scores, is_unknown, correct)
    assert r["known_kept"] == 0.75  # 0.4 is flagged
    assert r["in_scope_accuracy"] == 0.5  # texts 0 and 3
    assert r["unknown_recall"] == 0.5  # 0.3 flagged, 0.6 not
    assert r["auroc"] == pytest.approx(7 / 8)  # only 0.4 < 0.6 is misordered
    assert (r["n_known"], r["n_unknown"]) == (4, 2)
    only_known = ood.evaluate_detection(0.5, scores[:4], is_unknown[:4], correct[:4])
    assert only_known["unknown_recall"] is None and only_known["auroc"] is None


def test_unknown_record_and_scores():
    known = np.linspace(0, 1, 21)
    r = ood.unknown_record("nearest", known, 0.9)
    assert r["score"] == "nearest" and ood.SHIPPED == "max_softmax"
    assert r["oof_known_kept"] >= 0.9 and r["threshold"] == pytest.approx(0.1)
    # never capped: a high known-recall threshold stays high (auto-select is raised instead)
    high = ood.unknown_record("max_softmax", known, 0.5)
    assert high["threshold"] == pytest.approx(0.5) and high["oof_known_kept"] >= 0.5
    proba = np.array([[0.2, 0.8], [0.6, 0.4]])
    np.testing.assert_allclose(ood.unknown_scores("max_softmax", proba, None), [0.8, 0.6])
    np.testing.assert_allclose(
        ood.unknown_scores("nearest", proba, np.array([0.1, 0.2])), [0.1, 0.2]
    )
    with pytest.raises(ValueError, match="needs similarities"):
        ood.unknown_scores("nearest", proba, None)


def test_out_of_fold_similarity_never_looks_inside_the_own_fold():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    x[1] = x[0]  # a twin in the same fold: must not count
    fold_of = np.repeat([0, 1], 15)
    sims = ood.out_of_fold_similarity(x, fold_of)
    assert sims[0] == pytest.approx(ood.nearest_similarity(x[:1], x[15:])[0])
    assert sims[0] < 1 - 1e-6
    outside = ood.nearest_similarity(x[15:], x[:15])
    np.testing.assert_allclose(sims[15:], outside, rtol=1e-6)
