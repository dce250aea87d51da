"""Metrics of multi-label predictions: what the report, the tuner and the benchmarks read.

Micro, macro and weighted F1 (weighted by support), per-label precision / recall / F1 /
support and one-vs-rest ROC-AUC (on the calibrated probabilities), subset accuracy (the
whole label set right), Hamming loss (share of label decisions wrong), and label
cardinality (labels per text) of the truth and of the predictions.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    denom = 2 * tp + fp + fn
    return np.divide(2 * tp, denom, out=np.zeros_like(denom, dtype=np.float64), where=denom > 0)


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Unweighted mean of the per-label F1 of 0/1 matrices [n, labels]."""
    t, p = np.asarray(y_true) > 0, np.asarray(y_pred) > 0
    tp = (t & p).sum(0).astype(np.float64)
    return float(_f1(tp, (~t & p).sum(0), (t & ~p).sum(0)).mean())


def _auc(score: np.ndarray, truth: np.ndarray) -> float | None:
    """ROC-AUC by ranks (ties averaged); None when a class is absent."""
    pos = truth.sum()
    neg = len(truth) - pos
    if pos == 0 or neg == 0:
        return None
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score), np.float64)
    sorted_scores = score[order]
    i = 0
    while i < len(score):
        j = i
        while j + 1 < len(score) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[truth].sum() - pos * (pos + 1) / 2) / (pos * neg))


def multilabel_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray, labels: list[str]
) -> dict[str, Any]:
    """Every metric of the module doc; ``y_*`` are 0/1 [n, labels], ``proba`` the
    calibrated probabilities (for ROC-AUC)."""
    t, p = np.asarray(y_true) > 0, np.asarray(y_pred) > 0
    tp = (t & p).sum(0).astype(np.float64)
    fp = (~t & p).sum(0).astype(np.float64)
    fn = (t & ~p).sum(0).astype(np.float64)
    support = t.sum(0)
    precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=tp + fp > 0)
    recall = np.divide(tp, tp + fn, out=np.zeros_like(tp), where=tp + fn > 0)
    f1 = _f1(tp, fp, fn)
    micro = _f1(np.array([tp.sum()]), np.array([fp.sum()]), np.array([fn.sum()]))[0]
    aucs = [_auc(np.asarray(proba)[:, j], t[:, j]) for j in range(t.shape[1])]
    per_label = {
        label: {
            "precision": float(precision[j]),
            "recall": float(recall[j]),
            "f1": float(f1[j]),
            "support": int(support[j]),
            "roc_auc": aucs[j],
        }
        for j, label in enumerate(labels)
    }
    known = [a for a in aucs if a is not None]
    return {
        "n": int(t.shape[0]),
        "micro_f1": float(micro),
        "macro_f1": float(f1.mean()),
        "weighted_f1": float((f1 * support).sum() / max(support.sum(), 1)),
        "subset_accuracy": float((t == p).all(1).mean()),
        "hamming_loss": float((t != p).mean()),
        "label_cardinality": float(t.sum(1).mean()),
        "predicted_cardinality": float(p.sum(1).mean()),
        "macro_roc_auc": float(np.mean(known)) if known else None,
        "per_label": per_label,
    }
