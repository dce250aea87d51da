"""Per-text training weights: label confidence times class balance, in every fit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tfcls.training.weights import class_weights, training_weights

labels = st.lists(st.integers(0, 4), min_size=1, max_size=60).map(np.array)


@settings(max_examples=100, deadline=None)
@given(labels, st.sampled_from(["none", "inverse", "effective"]), st.floats(0.5, 0.9999))
def test_class_weights_average_one_over_the_texts(y, kind, beta):
    per_class = class_weights(y, 5, kind, beta)
    assert per_class[y].mean() == pytest.approx(1.0)
    assert (per_class[np.bincount(y, minlength=5) == 0] == 0).all()  # absent classes: 0


@settings(max_examples=100, deadline=None)
@given(labels, st.floats(0.5, 0.9999))
def test_effective_weights_lie_between_none_and_inverse(y, beta):
    counts = np.bincount(y, minlength=5)
    present = counts > 0
    order = np.argsort(counts[present])  # rarest first
    inverse = class_weights(y, 5, "inverse")[present][order]
    effective = class_weights(y, 5, "effective", beta)[present][order]
    assert np.all(np.diff(effective) <= 1e-9)  # a rarer class never weighs less
    # the rarest-to-most-frequent ratio: 1 (none) ≤ effective ≤ inverse
    assert 1.0 - 1e-9 <= effective[0] / effective[-1] <= inverse[0] / inverse[-1] + 1e-9


def test_inverse_weights_by_hand_and_multi_label_rows_take_their_rarest_label():
    w = class_weights(np.array([0, 0, 0, 1]), 2, "inverse")
    assert w[1] == pytest.approx(3 * w[0]) and (3 * w[0] + w[1]) / 4 == pytest.approx(1.0)
    sets = np.array([[1, 0], [1, 0], [1, 1]])  # label 1 is rare: the last row takes its weight
    row = training_weights(sets, np.ones(3), 2, "inverse")
    assert row[2] > row[0] == pytest.approx(row[1])


def test_the_texts_own_weights_multiply_the_class_weights():
    y = np.array([0, 0, 1, 1])
    own = np.array([1.0, 0.5, 1.0, 0.25])
    assert training_weights(y, own, 2, "none") == pytest.approx(own)
    assert training_weights(y, own, 2, "inverse") == pytest.approx(own)  # balanced: ×1
    with pytest.raises(ValueError, match="class weights must be one of"):
        class_weights(y, 2, "balanced")


def _imbalanced(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """90 texts of class 0 and 10 of class 1, overlapping."""
    rng = np.random.default_rng(seed)
    y = np.array([0] * 90 + [1] * 10)
    x = rng.normal(size=(100, 8)).astype(np.float32)
    x[:, 0] += np.where(y == 1, 0.8, -0.8)
    return x, y


def test_weights_change_the_fitted_head():
    from tfcls.config import ModelConfig
    from tfcls.training.crossfit import warm_head

    x, y = _imbalanced()
    hp = ModelConfig(units=16, dropout=0.0, learning_rate=0.01, batch_size=16)
    plain = warm_head(x, y, None, 2, hp, 30, seed=0).predict(x, verbose=0)
    balanced_w = training_weights(y, np.ones(len(y)), 2, "inverse")
    balanced = warm_head(x, y, balanced_w, 2, hp, 30, seed=0).predict(x, verbose=0)
    # the rare class gets more probability (and more of its texts) once it weighs as much
    assert balanced[y == 1, 1].mean() > plain[y == 1, 1].mean() + 0.05
    assert (balanced.argmax(1)[y == 1] == 1).sum() >= (plain.argmax(1)[y == 1] == 1).sum()
    halved = np.where(y == 1, 0.0, 1.0)  # weight 0: the rare texts are not learned at all
    ignored = warm_head(x, y, halved, 2, hp, 30, seed=0).predict(x, verbose=0)
    assert ignored[y == 1, 1].mean() < plain[y == 1, 1].mean()


def test_focal_loss_with_gamma_zero_is_the_cross_entropy_and_down_weights_easy_texts():
    from tfcls.training.model import head_loss

    y_true = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], np.float32)
    y_pred = np.array([[0.9, 0.05, 0.05], [0.4, 0.3, 0.3]], np.float32)
    ce = head_loss("crossentropy")(y_true, y_pred)
    assert float(head_loss("focal", 0.0)(y_true, y_pred)) == pytest.approx(float(ce), rel=1e-5)
    focal = head_loss("focal", 2.0)
    easy, hard = (float(focal(y_true[i : i + 1], y_pred[i : i + 1])) for i in range(2))
    plain_easy = float(head_loss()(y_true[:1], y_pred[:1]))
    assert easy < 0.05 * plain_easy and hard > 0.4 * float(head_loss()(y_true[1:], y_pred[1:]))
