"""Metric functions against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from tfcls.evaluation.metrics import classification_metrics, confusion_matrix, per_class


def test_hand_computed_case():
    # true: a a a b b c ; predicted: a a b b c c
    y = np.array([0, 0, 0, 1, 1, 2])
    pred = np.array([0, 0, 1, 1, 2, 2])
    proba = np.eye(3)[pred] * 0.7 + 0.1
    m = classification_metrics(y, proba, ["a", "b", "c"])
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["confusion_matrix"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    # a: P 2/2 R 2/3 ; b: P 1/2 R 1/2 ; c: P 1/2 R 1/1
    assert m["per_class"]["a"]["precision"] == pytest.approx(1.0)
    assert m["per_class"]["a"]["recall"] == pytest.approx(2 / 3)
    assert m["per_class"]["c"]["f1"] == pytest.approx(2 * 0.5 * 1 / 1.5)
    f1 = [0.8, 0.5, 2 / 3]
    assert m["macro_f1"] == pytest.approx(np.mean(f1))
    assert m["weighted_f1"] == pytest.approx((3 * 0.8 + 2 * 0.5 + 1 * 2 / 3) / 6)
    assert m["per_class"]["b"]["support"] == 2


def test_top_k_and_undefined_precision():
    y = np.array([0, 1])
    proba = np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]])  # never predicts class 2
    m = classification_metrics(y, proba, ["a", "b", "c"])
    assert m["top1_accuracy"] == 0.0 and m["top3_accuracy"] == 1.0
    pc = per_class(confusion_matrix(y, proba.argmax(1), 3))
    assert pc["precision"][2] == 0.0 and pc["f1"][2] == 0.0
