"""Classification metrics in numpy (no scikit-learn dependency)."""

from __future__ import annotations

from typing import Any

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """counts[i, j] = examples of true class i predicted as j."""
    cm = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def per_class(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and support per class (0 where undefined)."""
    tp = np.diag(cm).astype(float)
    predicted, support = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def classification_metrics(
    y_true: np.ndarray, proba: np.ndarray, labels: list[str]
) -> dict[str, Any]:
    """Accuracy, macro/weighted P/R/F1, top-k accuracy and a per-class table (JSON-able)."""
    y_true = np.asarray(y_true)
    y_pred = proba.argmax(axis=1)
    cm = confusion_matrix(y_true, y_pred, len(labels))
    pc = per_class(cm)
    weights = pc["support"] / max(pc["support"].sum(), 1)
    ranked = np.argsort(-proba, axis=1)
    out: dict[str, Any] = {
        "n": len(y_true),
        "accuracy": float((y_pred == y_true).mean()) if len(y_true) else 0.0,
        "macro_precision": float(pc["precision"].mean()),
        "macro_recall": float(pc["recall"].mean()),
        "macro_f1": float(pc["f1"].mean()),
        "weighted_f1": float((pc["f1"] * weights).sum()),
    }
    for k in (1, 3):
        if k <= len(labels) and len(y_true):
            out[f"top{k}_accuracy"] = float((ranked[:, :k] == y_true[:, None]).any(1).mean())
    out["per_class"] = {
        label: {name: (int(v[i]) if name == "support" else float(v[i])) for name, v in pc.items()}
        for i, label in enumerate(labels)
    }
    out["confusion_matrix"] = cm.tolist()
    return out


def rank_by_f1(per_class: dict[str, dict[str, Any]], k: int | None = None) -> dict[str, Any]:
    """The ``k`` worst and best classes by F1 (each with precision, recall, F1, support),
    so a report of 77 intents shows at once which fail. Classes without support in the
    evaluated texts have no F1 to rank and are listed in ``absent``. Ties: the worst list
    puts the larger support first (the bigger failure), the best list too. ``k`` defaults
    to half the ranked classes, at most 10, so the lists never overlap."""
    ranked = [(label, row) for label, row in per_class.items() if row["support"] > 0]
    k = max(1, min(10, len(ranked) // 2)) if k is None else k
    rows = [{"label": label, **row} for label, row in ranked]
    best = sorted(rows, key=lambda r: (-r["f1"], -r["support"], r["label"]))[:k]
    shown = {r["label"] for r in best}  # tied F1s could otherwise put a class in both lists
    worst = sorted(
        (r for r in rows if r["label"] not in shown),
        key=lambda r: (r["f1"], -r["support"], r["label"]),
    )[:k]
    return {
        "worst": worst,
        "best": best,
        "absent": [label for label, row in per_class.items() if row["support"] == 0],
    }
