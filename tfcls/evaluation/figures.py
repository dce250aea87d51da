"""The report's curve figures: ROC and PR curves per class, and the confidence histogram.

PNG bytes from matplotlib's Agg backend (no display), as :mod:`tfcls.evaluation.report`
draws its confusion matrix and reliability diagram. With many classes (77 intents) one
line per class in its own colour is unreadable, so beyond :data:`LEGEND_CLASSES` every class
is drawn in thin grey and the :data:`HIGHLIGHT` lowest-scoring ones in colour, named in the
legend: the figure shows at once which classes fail.
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: render to files
import matplotlib.pyplot as plt
import numpy as np

LEGEND_CLASSES = 10  # up to this many classes each gets a colour and a legend entry
HIGHLIGHT = 5  # beyond it, the classes with the lowest AUC / AP are coloured


def png(fig: Any) -> bytes:
    """The figure as PNG bytes (and closed)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _curve_png(
    curves: dict[str, Any], kind: str, axes: tuple[str, str], score: str, title: str
) -> bytes:
    """One figure of every class's ``kind`` curve (``roc`` or ``pr``), x/y from ``axes``."""
    drawn = {label: c[kind] for label, c in curves["labels"].items() if c[kind]}
    fig, ax = plt.subplots(figsize=(5.5, 5))
    if kind == "roc":
        ax.plot([0, 1], [0, 1], "--", color="grey", linewidth=0.8, label="chance")
    many = len(drawn) > LEGEND_CLASSES
    ranked = sorted(drawn, key=lambda label: drawn[label][score])
    coloured = set(ranked[:HIGHLIGHT]) if many else set(ranked)
    grey = [label for label in drawn if label not in coloured]
    for label in grey + [label for label in ranked if label in coloured]:  # colours on top
        c = drawn[label]
        x, y = np.asarray(c[axes[0]]), np.asarray(c[axes[1]])
        style = {"drawstyle": "steps-post"} if kind == "pr" else {}  # PR is a step curve
        if label in coloured:
            ax.plot(x, y, linewidth=1.6, label=f"{label} ({c[score]:.3f})", **style)
        else:
            ax.plot(x, y, color="0.75", linewidth=0.6, **style)
    missing = len(curves["labels"]) - len(drawn)
    note = f"; {missing} undefined" if missing else ""
    shown = f"lowest {HIGHLIGHT} of {len(drawn)} in colour" if many else f"{len(drawn)} curves"
    ax.set_title(f"{title} ({shown}{note})", fontsize=9)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(axes[0] if kind == "pr" else "false positive rate")
    ax.set_ylabel(axes[1] if kind == "pr" else "true positive rate")
    if drawn:
        ax.legend(loc="lower right" if kind == "roc" else "lower left", fontsize=7)
    return png(fig)


def roc_png(curves: dict[str, Any]) -> bytes:
    """One-vs-rest ROC curves of every class with one (legend: AUC)."""
    return _curve_png(curves, "roc", ("fpr", "tpr"), "auc", "ROC, one vs rest; legend: AUC")


def pr_png(curves: dict[str, Any]) -> bytes:
    """Precision-recall curves of every class with positives (legend: average precision)."""
    return _curve_png(
        curves, "pr", ("recall", "precision"), "average_precision", "precision-recall; legend: AP"
    )


def confidence_png(
    confidence: np.ndarray,
    groups: dict[str, np.ndarray],
    threshold: float | None,
    xlabel: str,
    log: bool = False,
    ylabel: str = "texts",
) -> bytes:
    """Histogram of ``confidence`` (in [0, 1], 20 bins), one bar series per boolean mask
    in ``groups`` (e.g. correct / wrong), with the auto-select ``threshold`` drawn."""
    confidence = np.asarray(confidence, np.float64)
    edges = np.linspace(0, 1, 21)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    series = [confidence[np.asarray(mask, bool)] for mask in groups.values()]
    names = [f"{name} ({len(v)})" for name, v in zip(groups, series, strict=True)]
    colours = ["C2", "C3", "C0", "C1"][: len(series)]
    ax.hist(series, bins=edges, color=colours, label=names)  # side by side in each bin
    if threshold is not None:
        ax.axvline(
            threshold, color="black", linestyle="--", label=f"auto-select threshold {threshold:.3f}"
        )
    if log:
        ax.set_yscale("log")
        ax.set_ylim(bottom=0.8)
    ax.set_xlim(0, 1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel + (" (log scale)" if log else ""))
    ax.legend(loc="upper left", fontsize=8)
    return png(fig)
