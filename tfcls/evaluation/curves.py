"""One-vs-rest ROC and precision-recall curves in numpy: what ``curves.json`` and the PNGs hold.

The functions follow scikit-learn's definitions point for point (``roc_curve`` with its
default ``drop_intermediate=True``, ``precision_recall_curve``, ``roc_auc_score``,
``average_precision_score``; tests/evaluation/test_curves.py holds them to it), so the
report's figures mean what a reader expects, without a scikit-learn dependency at run time.

A class with no positive example in the evaluated texts has no ROC or PR curve (recall is
0/0), and one that every text carries has no ROC curve (no negatives): :func:`class_curves`
says so with ``null`` and a reason instead of a NaN. Curves keep at most ``max_points``
points in the JSON (evenly thinned, ends kept) so a large test set gives a small file; the
AUC and AP are always computed on every point.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_POINTS = 200  # points per curve kept in curves.json


def _counts(truth: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(false positives, true positives, thresholds) when predicting score ≥ each distinct
    score, thresholds decreasing (scikit-learn's ``confusion_matrix_at_thresholds``)."""
    truth = np.asarray(truth).astype(bool).ravel()
    score = np.asarray(score, np.float64).ravel()
    if truth.shape != score.shape:
        raise ValueError(f"{truth.size} truth values for {score.size} scores: they must align")
    order = np.argsort(-score, kind="stable")
    score, truth = score[order], truth[order]
    cuts = np.r_[np.flatnonzero(np.diff(score)), truth.size - 1]
    tps = np.cumsum(truth, dtype=np.float64)[cuts]
    fps = 1 + cuts.astype(np.float64) - tps
    return fps, tps, score[cuts]


def roc_curve(
    truth: np.ndarray, score: np.ndarray, drop_intermediate: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds) of predicting ``score ≥ threshold``; the first threshold is
    +inf (nothing predicted). NaN rates where a class has no positives or no negatives."""
    fps, tps, thresholds = _counts(truth, score)
    if drop_intermediate and len(fps) > 2:  # collinear points change neither plot nor AUC
        keep = np.flatnonzero(np.r_[True, (np.diff(fps, 2) != 0) | (np.diff(tps, 2) != 0), True])
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps, tps = np.r_[0.0, fps], np.r_[0.0, tps]
    thresholds = np.r_[np.inf, thresholds]
    fpr = fps / fps[-1] if fps[-1] > 0 else np.full(fps.shape, np.nan)
    tpr = tps / tps[-1] if tps[-1] > 0 else np.full(tps.shape, np.nan)
    return fpr, tpr, thresholds


def roc_auc(truth: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve (trapezoids); None without positives or negatives."""
    fpr, tpr, _ = roc_curve(truth, score)
    if np.isnan(fpr).any() or np.isnan(tpr).any():
        return None
    return float(np.trapezoid(tpr, fpr))


def precision_recall_curve(
    truth: np.ndarray, score: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(precision, recall, thresholds), recall decreasing, ending at (precision 1,
    recall 0) with no threshold; recall is 1 everywhere when there are no positives."""
    fps, tps, thresholds = _counts(truth, score)
    predicted = tps + fps
    precision = np.divide(tps, predicted, out=np.zeros_like(tps), where=predicted != 0)
    recall = tps / tps[-1] if tps[-1] > 0 else np.ones_like(tps)
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def average_precision(truth: np.ndarray, score: np.ndarray) -> float | None:
    """Σ (R_n − R_{n−1}) · P_n, the step integral of the PR curve; None without positives."""
    if not np.asarray(truth).astype(bool).any():
        return None
    precision, recall, _ = precision_recall_curve(truth, score)
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))


def thin(n: int, max_points: int) -> np.ndarray:
    """Indices of at most ``max_points`` of ``n`` curve points, evenly spread, both ends
    kept (a curve stays monotone, its ends exact)."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, max(max_points, 2))).astype(np.int64))


def _points(columns: dict[str, np.ndarray], max_points: int) -> dict[str, Any]:
    """The columns thinned to ``max_points`` as JSON lists (+inf thresholds as null)."""
    n = len(next(iter(columns.values())))
    keep = thin(n, max_points)
    out: dict[str, Any] = {
        name: [None if not np.isfinite(v) else float(v) for v in values[keep[keep < len(values)]]]
        for name, values in columns.items()
    }
    out["points"], out["thinned"] = n, bool(len(keep) < n)
    return out


def class_curves(truth: np.ndarray, score: np.ndarray, max_points: int = MAX_POINTS) -> dict:
    """One class's ROC and PR record: ``roc`` {fpr, tpr, thresholds, auc} and ``pr``
    {precision, recall, thresholds, average_precision}, each None with a reason in
    ``roc_undefined`` / ``pr_undefined`` where the curve does not exist."""
    truth = np.asarray(truth).astype(bool)
    positives = int(truth.sum())
    negatives = int(truth.size - positives)
    record: dict[str, Any] = {"positives": positives, "negatives": negatives}
    if positives == 0 or negatives == 0:
        record["roc"] = None
        record["roc_undefined"] = (
            "no positive example in the evaluated texts"
            if positives == 0
            else "no negative example: every evaluated text has it"
        )
    else:
        fpr, tpr, thr = roc_curve(truth, score)
        roc = _points({"fpr": fpr, "tpr": tpr, "thresholds": thr}, max_points)
        record["roc"] = {**roc, "auc": float(np.trapezoid(tpr, fpr))}
    if positives == 0:
        record["pr"] = None
        record["pr_undefined"] = "no positive example in the evaluated texts"
    else:
        precision, recall, thr = precision_recall_curve(truth, score)
        pr = _points({"precision": precision, "recall": recall, "thresholds": thr}, max_points)
        record["pr"] = {**pr, "average_precision": average_precision(truth, score)}
    return record


def curves_record(
    truth: np.ndarray, proba: np.ndarray, labels: list[str], max_points: int = MAX_POINTS
) -> dict[str, Any]:
    """curves.json: every label's :func:`class_curves` (``truth`` 0/1 [n, labels], one
    column per label, ``proba`` the calibrated probabilities), and the macro means of the
    AUCs and APs that exist."""
    truth, proba = np.asarray(truth), np.asarray(proba)
    if truth.shape != proba.shape or truth.shape[1:] != (len(labels),):
        raise ValueError(
            f"truth {truth.shape}, probabilities {proba.shape}, {len(labels)} labels: "
            "they must be [n, labels] each"
        )
    per = {
        label: class_curves(truth[:, j], proba[:, j], max_points) for j, label in enumerate(labels)
    }
    aucs = [c["roc"]["auc"] for c in per.values() if c["roc"]]
    aps = [c["pr"]["average_precision"] for c in per.values() if c["pr"]]
    return {
        "n": int(truth.shape[0]),
        "max_points": max_points,
        "macro_auc": float(np.mean(aucs)) if aucs else None,
        "macro_average_precision": float(np.mean(aps)) if aps else None,
        "labels": per,
    }


def one_hot(y: np.ndarray, n_classes: int) -> np.ndarray:
    """0/1 [n, classes] of class indices ``y``: single-label truth as one-vs-rest columns."""
    out = np.zeros((len(y), n_classes), np.int8)
    out[np.arange(len(y)), np.asarray(y, np.int64)] = 1
    return out


def summary(curves: dict[str, Any]) -> dict[str, Any]:
    """curves.json without the points: per label AUC, AP and why either is missing (what
    evaluation.json keeps)."""
    per = {}
    for label, c in curves["labels"].items():
        per[label] = {
            "roc_auc": c["roc"]["auc"] if c["roc"] else None,
            "average_precision": c["pr"]["average_precision"] if c["pr"] else None,
            **{k: c[k] for k in ("roc_undefined", "pr_undefined") if k in c},
        }
    return {
        "macro_auc": curves["macro_auc"],
        "macro_average_precision": curves["macro_average_precision"],
        "labels": per,
    }
