"""Confidence that means what it says: temperature scaling, ECE/NLL, choosing thresholds.

The web client auto-selects a category only when the model is confident, so the
probabilities are calibrated (one temperature) and the auto-select threshold is chosen
where precision reaches a target, both on out-of-fold predictions of every training text
(``cross_fitted``; ``tfcls.training.crossfit`` produces them), not on a small validation split.
All functions take probabilities [n, k] (the head's softmax output) and int labels [n];
the choosing ones also take per-text ``weights`` (the data's label confidence, default 1):
a text labelled with confidence 0.5 counts half in the NLL the temperature minimises and
in the precision and coverage a threshold is chosen by.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

LOG_EPS = 1e-12  # probabilities are clipped here before a log (the bundle's graph too)


def log_probs(proba: np.ndarray) -> np.ndarray:
    """Logits up to a per-row constant (softmax is shift-invariant, so this is enough)."""
    return np.log(np.clip(np.asarray(proba, np.float64), LOG_EPS, 1.0))


def apply_temperature(proba: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(logits / T) computed from probabilities."""
    z = log_probs(proba) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def nll(proba: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood of the true labels."""
    p = np.clip(np.asarray(proba)[np.arange(len(y)), np.asarray(y)], LOG_EPS, 1.0)
    return float(-np.log(p).mean())


def _weights(y: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    return np.ones(len(y)) if weights is None else np.asarray(weights, np.float64)


def fit_temperature(
    proba: np.ndarray,
    y: np.ndarray,
    lo: float = 0.05,
    hi: float = 20.0,
    iters: int = 80,
    weights: np.ndarray | None = None,
) -> float:
    """The temperature minimising the (``weights``-weighted) NLL (Guo et al. 2017).

    NLL is convex in the inverse temperature, so a golden-section search over log T in
    [lo, hi] finds the minimum without any optimiser dependency.
    """
    w = _weights(y, weights)
    if len(y) == 0 or w.sum() <= 0:
        return 1.0
    z, y = log_probs(proba), np.asarray(y)

    def loss(log_t: float) -> float:
        s = z / np.exp(log_t)
        s = s - s.max(axis=1, keepdims=True)
        per_text = np.log(np.exp(s).sum(axis=1)) - s[np.arange(len(y)), y]
        return float((w * per_text).sum() / w.sum())

    a, b = np.log(lo), np.log(hi)
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = loss(c), loss(d)
    for _ in range(iters):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = loss(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = loss(d)
    return float(np.exp((a + b) / 2.0))


@dataclass
class ReliabilityBins:
    """Per-bin counts, mean confidence and accuracy (what a reliability diagram plots)."""

    edges: list[float]
    counts: list[int]
    confidence: list[float]
    accuracy: list[float]


def reliability(proba: np.ndarray, y: np.ndarray, n_bins: int = 15) -> ReliabilityBins:
    """Equal-width confidence bins (lo, hi]; empty bins report 0 confidence/accuracy."""
    conf = np.asarray(proba).max(axis=1)
    correct = np.asarray(proba).argmax(axis=1) == np.asarray(y)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    counts = np.bincount(idx, minlength=n_bins)
    sum_conf = np.bincount(idx, weights=conf, minlength=n_bins)
    sum_acc = np.bincount(idx, weights=correct.astype(float), minlength=n_bins)
    safe = np.maximum(counts, 1)
    return ReliabilityBins(
        edges.tolist(), counts.tolist(), (sum_conf / safe).tolist(), (sum_acc / safe).tolist()
    )


def ece(proba: np.ndarray, y: np.ndarray, n_bins: int = 15) -> float:
    """Expected calibration error: Σ_b (n_b / n) |accuracy_b − confidence_b|."""
    bins = reliability(proba, y, n_bins)
    n = max(sum(bins.counts), 1)
    return float(
        sum(
            c / n * abs(a - f)
            for c, a, f in zip(bins.counts, bins.accuracy, bins.confidence, strict=True)
        )
    )


@dataclass
class Threshold:
    """An auto-select threshold and what it gave on the data it was chosen on."""

    threshold: float
    target_precision: float
    precision: float  # accuracy of the predictions at or above the threshold
    coverage: float  # share of predictions at or above the threshold

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def coverage_curve(
    proba: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None
) -> dict[str, list[float]]:
    """For every distinct confidence t (descending): coverage and precision of conf ≥ t
    (shares of the texts' ``weights``)."""
    conf = np.asarray(proba).max(axis=1)
    correct = (np.asarray(proba).argmax(axis=1) == np.asarray(y)).astype(float)
    w = _weights(y, weights)
    order = np.argsort(-conf, kind="stable")
    conf, correct, w = conf[order], correct[order], w[order]
    cum_correct = np.cumsum(correct * w)
    # keep the last index of each run of equal confidences (a threshold takes all ties)
    last = np.r_[conf[1:] != conf[:-1], True]
    n = np.cumsum(w)
    total = n[-1] if len(n) and n[-1] > 0 else 1.0
    taken = np.maximum(n[last], 1e-300)
    return {
        "threshold": conf[last].tolist(),
        "coverage": (n[last] / total).tolist(),
        "precision": np.where(n[last] > 0, cum_correct[last] / taken, 1.0).tolist(),
    }


def choose_threshold(
    proba: np.ndarray,
    y: np.ndarray,
    target_precision: float = 0.95,
    floor: float = 0.0,
    weights: np.ndarray | None = None,
) -> Threshold:
    """The lowest threshold (≥ ``floor``) whose auto-selected predictions reach
    ``target_precision``.

    Lowest threshold = largest coverage among those meeting the target, so the guarantee
    holds on this data by construction. If no threshold reaches the target, nothing is
    auto-selected (threshold just above 1, coverage 0).
    """
    if not 0.0 < target_precision <= 1.0:
        raise ValueError(f"target_precision must be in (0, 1], got {target_precision}")
    curve = coverage_curve(proba, y, weights)
    ok = [
        i
        for i, (p, t) in enumerate(zip(curve["precision"], curve["threshold"], strict=True))
        if p >= target_precision and t >= floor
    ]
    if not ok:
        return Threshold(float(np.nextafter(1.0, 2.0)), target_precision, 1.0, 0.0)
    best = max(ok, key=lambda i: curve["coverage"][i])
    return Threshold(
        curve["threshold"][best],
        target_precision,
        curve["precision"][best],
        curve["coverage"][best],
    )


def evaluate_threshold(proba: np.ndarray, y: np.ndarray, threshold: float) -> dict[str, float]:
    """Coverage and precision of ``conf ≥ threshold`` on other data (e.g. the test split)."""
    conf = np.asarray(proba).max(axis=1)
    picked = conf >= threshold
    correct = np.asarray(proba).argmax(axis=1) == np.asarray(y)
    coverage = float(picked.mean()) if len(conf) else 0.0
    precision = float(correct[picked].mean()) if picked.any() else 1.0
    return {"threshold": float(threshold), "coverage": coverage, "precision": precision}


def _stats(raw: np.ndarray, calibrated: np.ndarray, y: np.ndarray) -> dict[str, float]:
    return {
        "n": len(y),
        "ece_before": ece(raw, y),
        "ece_after": ece(calibrated, y),
        "nll_before": nll(raw, y),
        "nll_after": nll(calibrated, y),
    }


def cross_fitted(
    oof_proba: np.ndarray,
    y: np.ndarray,
    fold_of: np.ndarray,
    enabled: bool = True,
    target_precision: float = 0.95,
    weights: np.ndarray | None = None,
) -> dict[str, Any]:
    """Temperature and auto-select threshold from out-of-fold predictions of every
    training text (``tfcls.training.crossfit``), not from a small validation split.

    Each text's probability comes from a model that never learned its label, so the
    threshold meets ``target_precision`` out of fold by construction (in the texts'
    ``weights``). How much the threshold would move is reported by choosing it on each
    fold alone (``per_fold``).
    """
    w = _weights(y, weights)
    temperature = fit_temperature(oof_proba, y, weights=w) if enabled else 1.0
    cal = apply_temperature(oof_proba, temperature)
    threshold = choose_threshold(cal, y, target_precision, weights=w)
    folds = [fold_of == f for f in np.unique(fold_of)]
    per_fold = [
        choose_threshold(cal[m], y[m], target_precision, weights=w[m]).threshold for m in folds
    ]
    temperatures = [fit_temperature(oof_proba[m], y[m], weights=w[m]) for m in folds]
    return {
        "method": f"cross-fitted: out-of-fold predictions of {len(y)} training texts, "
        f"{len(per_fold)} folds",
        "temperature": temperature,
        "threshold": threshold.to_dict(),
        "oof": _stats(oof_proba, cal, y),
        "spread": {
            "threshold_per_fold": per_fold,
            "threshold_std": float(np.std(per_fold)),
            "temperature_per_fold": temperatures,
        },
        "reliability": {"oof": asdict(reliability(cal, y))},
    }


def raise_threshold(
    calib: dict[str, Any],
    proba: np.ndarray,
    y: np.ndarray,
    floor: float,
    weights: np.ndarray | None = None,
) -> None:
    """Auto-select only texts that are confident *and* known: when the unknown threshold
    ``floor`` is above the auto-select threshold, choose again among thresholds ≥ it on
    the same (out-of-fold, calibrated) predictions, so the precision target still holds
    (precision is not monotone in the threshold: plain raising could fall into a dip)."""
    chosen = calib["threshold"]
    chosen["precision_threshold"] = chosen["threshold"]
    if floor > chosen["threshold"]:
        again = choose_threshold(proba, y, chosen["target_precision"], floor, weights)
        chosen.update(again.to_dict())
    chosen["raised_to_unknown"] = chosen["threshold"] > chosen["precision_threshold"]


def report_test(calib: dict[str, Any], test_proba: np.ndarray, y_test: np.ndarray) -> None:
    """Add the held-out test split's ECE/NLL and the shipped threshold's coverage and
    precision on it to a calibration record (reported only, never used to choose)."""
    if not len(y_test):
        return
    cal = apply_temperature(test_proba, calib["temperature"])
    calib["test"] = {
        **_stats(test_proba, cal, y_test),
        "at_threshold": evaluate_threshold(cal, y_test, calib["threshold"]["threshold"]),
    }
    calib["reliability"]["test"] = asdict(reliability(cal, y_test))
