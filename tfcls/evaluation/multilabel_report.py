"""report.html of a multi-label evaluation (:mod:`tfcls.evaluation.multilabel_evaluate`).

The same self-contained, escaped page as the single-label report
(:mod:`tfcls.evaluation.report`): the summary (micro / macro / weighted F1, subset accuracy,
Hamming loss, cardinalities), a histogram of every (text, label) calibrated probability for
labels present vs absent, the per-label ROC and PR curves, the worst and best labels by F1,
the per-label table with the threshold and Platt scaling used, and the texts most wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tfcls.evaluation import figures
from tfcls.evaluation.report import (
    curve_section,
    img_html,
    page_html,
    ranking_section,
    table_html,
    write_curve_figures,
)

LABEL = ("label", "labels")


def _summary_rows(result: dict[str, Any]) -> list[list[Any]]:
    m = result["metrics"]
    rows = [
        ["examples", m["n"]],
        ["micro F1", m["micro_f1"]],
        ["macro F1", m["macro_f1"]],
        ["weighted F1", m["weighted_f1"]],
        ["subset accuracy (whole set right)", m["subset_accuracy"]],
        ["Hamming loss (label decisions wrong)", m["hamming_loss"]],
        ["labels per text, true", m["label_cardinality"]],
        ["labels per text, predicted", m["predicted_cardinality"]],
        ["macro ROC AUC", m["macro_roc_auc"]],
    ]
    unknown = result["unknown_labels"]
    if unknown:
        shown = ", ".join(f"{label} ({n})" for label, n in unknown.items())
        rows.append(["labels the run does not know (set aside)", shown])
    return rows


def _per_label_rows(result: dict[str, Any]) -> list[list[Any]]:
    curves = result["curves"]["labels"]
    rows = []
    for label, v in result["metrics"]["per_label"].items():
        t = result["thresholds"][label]
        c = curves[label]
        scores = [v["precision"], v["recall"], v["f1"], v["support"]]
        rows.append([label, t["threshold"], *scores, c["roc_auc"], c["average_precision"]])
        rows[-1] += [t["a"], t["b"]]
    return rows


def _error_rows(result: dict[str, Any]) -> list[list[Any]]:
    def shown(items: list[dict[str, Any]]) -> str:
        return ", ".join(f"{e['label']} {e['probability']:.2f}" for e in items)

    rows = []
    for e in result["errors"]["wrong_label_sets"]:
        sets = [", ".join(e["true"]), ", ".join(e["predicted"])]
        rows.append([e["text"], *sets, shown(e["missed"]), shown(e["extra"])])
    return rows


def write_multilabel_report(
    out_dir: Path, result: dict[str, Any], curves: dict[str, Any], proba: np.ndarray, y: np.ndarray
) -> Path:
    """Write roc_curves.png, pr_curves.png, probability_histogram.png and report.html."""
    present = np.asarray(y, bool).ravel()
    hist = figures.confidence_png(
        np.asarray(proba).ravel(),
        {"label present": present, "label absent": ~present},
        None,
        "calibrated probability of each (text, label)",
        log=True,
        ylabel="(text, label) pairs",
    )
    (out_dir / "probability_histogram.png").write_bytes(hist)
    roc, pr = write_curve_figures(out_dir, curves)
    thresholds = [t["threshold"] for t in result["thresholds"].values()]
    header = ["label", "threshold", "precision", "recall", "F1", "support", "ROC AUC", "AP"]
    body = (
        f"<p>Multi-label run: each label is decided on its own calibrated probability and "
        f"threshold (thresholds {min(thresholds):.3f}–{max(thresholds):.3f}).</p>"
        f"{table_html(['metric', 'value'], _summary_rows(result))}"
        "<h2>Calibrated probabilities, labels present vs absent</h2>"
        f"{img_html(hist, 'probability histogram')}"
        f"{curve_section(curves, roc, pr, LABEL)}{ranking_section(result['class_ranking'], LABEL)}"
        "<h2>Per label (threshold and Platt scaling used)</h2>"
        f"{table_html([*header, 'Platt a', 'Platt b'], _per_label_rows(result))}"
        "<h2>Wrong label sets (most confident first)</h2>"
        f"{table_html(['text', 'true', 'predicted', 'missed', 'extra'], _error_rows(result))}"
    )
    path = out_dir / "report.html"
    path.write_text(page_html(result["run"], result, body), encoding="utf-8")
    return path
