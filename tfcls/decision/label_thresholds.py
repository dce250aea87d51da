"""Multi-label decisions: per-label calibration (Platt) and one threshold per label.

A fixed 0.5 on sigmoid outputs is what made an earlier multi-label system unusable (micro-F1
0.075): rare labels almost never reach it and frequent ones pass it too easily. So each
label gets its own Platt scaling ``p' = sigmoid(a · logit(p) + b)`` fitted on held-out
predictions (out of fold, or a validation split), and its own threshold on ``p'`` chosen on
the same predictions: the one maximising that label's F1 (``f1``), or the lowest reaching a
target precision (``precision``; a label that never reaches it gets the threshold that
predicts it least wrongly, its highest-precision point). Everything here is numpy: the
decision is also written into the bundle and applied in the browser.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = 1e-6  # probabilities are clipped to [EPS, 1 - EPS] before taking logits


def logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)) of probabilities clipped away from 0 and 1."""
    p = np.clip(np.asarray(p, np.float64), EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def fit_platt(
    p: np.ndarray, y: np.ndarray, w: np.ndarray | None = None, steps: int = 50
) -> tuple[float, float]:
    """(a, b) minimising the weighted log loss of ``sigmoid(a·logit(p) + b)`` against 0/1
    targets ``y`` (Newton's method; a tiny ridge keeps it finite on separable labels).
    A label with no positive or no negative example keeps (1, 0): nothing to fit."""
    y = np.asarray(y, np.float64)
    w = np.ones_like(y) if w is None else np.asarray(w, np.float64)
    if y.min() == y.max():
        return 1.0, 0.0
    x = np.stack([logit(p), np.ones_like(y)], axis=1)
    theta = np.array([1.0, 0.0])
    ridge = 1e-3 * np.eye(2)
    for _ in range(steps):
        q = sigmoid(x @ theta)
        grad = x.T @ (w * (q - y)) + ridge @ (theta - [1.0, 0.0])
        hess = (x * (w * q * (1 - q))[:, None]).T @ x + ridge
        delta = np.linalg.solve(hess, grad)
        theta -= delta
        if np.abs(delta).max() < 1e-9:
            break
    return float(theta[0]), float(theta[1])


def _best_threshold(p: np.ndarray, y: np.ndarray, mode: str, target: float) -> float:
    """One label's threshold on calibrated probabilities ``p`` (see the module doc)."""
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order].astype(np.float64)
    tp = np.cumsum(ys)
    fp = np.cumsum(1.0 - ys)
    positives = ys.sum()
    # predicting the top k (k = 1..n): only cut where the probability changes
    last = np.r_[ps[1:] != ps[:-1], True]
    tp, fp, cuts = tp[last], fp[last], ps[last]
    precision = tp / (tp + fp)
    if positives == 0:
        return float(min(1.0, ps[0] + EPS))  # never predicted: above every score seen
    if mode == "precision":
        ok = precision >= target
        if ok.any():
            return float(cuts[np.flatnonzero(ok)[-1]])
        return float(cuts[int(np.argmax(precision))])
    f1 = 2 * tp / (tp + fp + positives)
    return float(cuts[int(np.argmax(f1))])


@dataclass(frozen=True)
class LabelDecision:
    """Per label: Platt ``a``, ``b`` and the threshold on the calibrated probability."""

    labels: tuple[str, ...]
    a: np.ndarray
    b: np.ndarray
    thresholds: np.ndarray

    def calibrate(self, p: np.ndarray) -> np.ndarray:
        """Calibrated per-label probabilities of raw sigmoid outputs ``p`` [n, labels]."""
        return sigmoid(logit(p) * self.a + self.b)

    def predict(self, p: np.ndarray) -> np.ndarray:
        """0/1 label sets [n, labels] of raw sigmoid outputs."""
        return (self.calibrate(p) >= self.thresholds).astype(np.int8)

    def to_dict(self) -> dict:
        return {
            label: {"a": float(a), "b": float(b), "threshold": float(t)}
            for label, a, b, t in zip(self.labels, self.a, self.b, self.thresholds, strict=True)
        }

    @classmethod
    def from_dict(cls, record: dict) -> LabelDecision:
        labels = tuple(record)
        col = [np.array([record[k][f] for k in labels], np.float64) for f in ("a", "b")]
        t = np.array([record[k]["threshold"] for k in labels], np.float64)
        return cls(labels, col[0], col[1], t)


def choose(
    p: np.ndarray,
    y: np.ndarray,
    labels: list[str] | tuple[str, ...],
    mode: str = "f1",
    target_precision: float = 0.95,
    weights: np.ndarray | None = None,
    calibrate: bool = True,
) -> LabelDecision:
    """Fit each label's Platt scaling and threshold on held-out raw outputs ``p`` and 0/1
    targets ``y`` (both [n, labels])."""
    p, y = np.asarray(p, np.float64), np.asarray(y)
    n_labels = p.shape[1]
    ab = [
        fit_platt(p[:, j], y[:, j], weights) if calibrate else (1.0, 0.0) for j in range(n_labels)
    ]
    a = np.array([v[0] for v in ab])
    b = np.array([v[1] for v in ab])
    q = sigmoid(logit(p) * a + b)
    t = np.array(
        [_best_threshold(q[:, j], y[:, j], mode, target_precision) for j in range(n_labels)]
    )
    return LabelDecision(tuple(labels), a, b, t)
