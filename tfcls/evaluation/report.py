"""Evaluation artefacts: confusion-matrix, reliability, ROC, PR and confidence PNGs, and a
self-contained report.html.

The HTML inlines its images (base64) and escapes every text it shows, so it opens from
disk anywhere and a hostile title in the data can't inject markup. The helpers
(:func:`table_html`, :func:`img_html`, :func:`curve_section`, :func:`ranking_section`,
:func:`page_html`) are shared with the multi-label report
(:mod:`tfcls.evaluation.multilabel_report`).
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: render to files
import matplotlib.pyplot as plt
import numpy as np

from tfcls.evaluation import figures
from tfcls.evaluation.figures import png as _png


def confusion_png(matrix: list[list[int]], labels: list[str]) -> bytes:
    """Confusion matrix (rows: true, columns: predicted), counts in the cells."""
    cm = np.asarray(matrix)
    size = max(4.0, 0.55 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if len(labels) <= 30:
        for i in range(len(labels)):
            for j in range(len(labels)):
                ax.text(
                    j,
                    i,
                    str(cm[i, j]),
                    ha="center",
                    va="center",
                    color="white" if cm[i, j] > cm.max() / 2 else "black",
                    fontsize=8,
                )
    return _png(fig)


def reliability_png(bins: dict[str, list[float]], title: str) -> bytes:
    """Reliability diagram: accuracy per confidence bin against the diagonal."""
    edges = np.asarray(bins["edges"])
    centres = (edges[:-1] + edges[1:]) / 2
    counts = np.asarray(bins["counts"])
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    shown = counts > 0
    ax.bar(
        centres[shown],
        np.asarray(bins["accuracy"])[shown],
        width=edges[1] - edges[0],
        edgecolor="black",
        alpha=0.7,
        label="accuracy",
    )
    ax.plot(
        np.asarray(bins["confidence"])[shown],
        np.asarray(bins["accuracy"])[shown],
        "o",
        color="C3",
        label="mean confidence",
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    return _png(fig)


def img_html(png: bytes, alt: str) -> str:
    """An <img> carrying the PNG inline (base64), its alt text escaped."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def table_html(header: list[str], rows: list[list[Any]]) -> str:
    """A table with every cell escaped (floats to 4 decimals, None as an empty cell)."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def page_html(title: str, result: dict[str, Any], body: str) -> str:
    """The whole page: title, data line, then ``body`` (already escaped HTML)."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>tfcls evaluation: {html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:70em}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:.3em .6em;
text-align:left}}img{{max-width:48%;vertical-align:top}}</style></head><body>
<h1>Evaluation of {html.escape(title)}</h1>
<p>Data: {html.escape(result["data"])} (sha256 {html.escape(result["data_sha256"][:12])}…)</p>
{body}
</body></html>
"""


def write_curve_figures(out_dir: Path, curves: dict[str, Any]) -> tuple[bytes, bytes]:
    """roc_curves.png and pr_curves.png in ``out_dir``; returns their bytes."""
    roc, pr = figures.roc_png(curves), figures.pr_png(curves)
    (out_dir / "roc_curves.png").write_bytes(roc)
    (out_dir / "pr_curves.png").write_bytes(pr)
    return roc, pr


def curve_section(
    curves: dict[str, Any], roc: bytes, pr: bytes, what: tuple[str, str] = ("class", "classes")
) -> str:
    """ROC and PR figures, the macro AUC / AP, and every curve that is undefined, why
    (``what``: the singular and plural of what a curve is of)."""
    one, many = what
    undefined = [
        [label, c.get("roc_undefined", ""), c.get("pr_undefined", "")]
        for label, c in curves["labels"].items()
        if c["roc"] is None or c["pr"] is None
    ]
    note = (
        f"<p>Undefined curves (no AUC / AP for these {many}):</p>"
        + table_html([one, "ROC", "precision-recall"], undefined)
        if undefined
        else ""
    )
    auc, ap = curves["macro_auc"], curves["macro_average_precision"]
    return (
        f"<h2>ROC and precision-recall, one {one} vs rest</h2>"
        f"<p>Macro AUC {html.escape(_fmt(auc))}, macro average precision "
        f"{html.escape(_fmt(ap))} (over the {many} with a curve; curves.json has the "
        f"points).</p>{img_html(roc, 'ROC curves')} {img_html(pr, 'precision-recall curves')}"
        f"{note}"
    )


def ranking_section(ranking: dict[str, Any], what: tuple[str, str] = ("class", "classes")) -> str:
    """The worst and best classes by F1 with precision, recall and support."""
    header = [what[0], "F1", "precision", "recall", "support"]

    def rows(items: list[dict[str, Any]]) -> list[list[Any]]:
        return [[r["label"], r["f1"], r["precision"], r["recall"], r["support"]] for r in items]

    absent = ranking["absent"]
    note = (
        f"<p>Not in the evaluated texts (no F1): {html.escape(', '.join(absent))}</p>"
        if absent
        else ""
    )
    worst = table_html(header, rows(ranking["worst"])) if ranking["worst"] else ""
    return (
        f"<h2>Worst and best {what[1]} by F1</h2><h3>Worst</h3>{worst}"
        f"<h3>Best</h3>{table_html(header, rows(ranking['best']))}{note}"
    )


def write_report(
    out_dir: Path,
    result: dict[str, Any],
    curves: dict[str, Any],
    confidence: np.ndarray,
    correct: np.ndarray,
) -> Path:
    """Write the PNGs (confusion matrix, reliability, ROC, PR, confidence histogram of the
    top calibrated probability, correct vs wrong) and report.html; return the HTML path."""
    cm_png = confusion_png(result["metrics"]["confusion_matrix"], result["labels"])
    rel_png = reliability_png(result["reliability"], "calibrated probabilities")
    threshold = (result.get("at_threshold") or {}).get("threshold")
    groups = {"correct": correct, "wrong": ~np.asarray(correct, bool)}
    hist = figures.confidence_png(confidence, groups, threshold, "top calibrated probability")
    (out_dir / "confusion_matrix.png").write_bytes(cm_png)
    (out_dir / "reliability.png").write_bytes(rel_png)
    (out_dir / "confidence_histogram.png").write_bytes(hist)
    roc, pr = write_curve_figures(out_dir, curves)
    body = (
        f"{table_html(['metric', 'value'], _summary_rows(result))}"
        f"{img_html(cm_png, 'confusion matrix')} {img_html(rel_png, 'reliability diagram')}"
        "<h2>Confidence, correct vs wrong</h2>"
        f"{img_html(hist, 'confidence histogram')}"
        f"{curve_section(curves, roc, pr)}{ranking_section(result['class_ranking'])}"
        f"{_details(result)}"
    )
    path = out_dir / "report.html"
    path.write_text(page_html(result["run"], result, body), encoding="utf-8")
    return path


def _summary_rows(result: dict[str, Any]) -> list[list[Any]]:
    """The metric/value table: overall figures, then the threshold's and unknown's if any."""
    m = result["metrics"]
    summary = [
        ["examples", m["n"]],
        ["accuracy", m["accuracy"]],
        ["macro F1", m["macro_f1"]],
        ["weighted F1", m["weighted_f1"]],
        ["top-3 accuracy", m.get("top3_accuracy", "")],
        ["temperature", result["temperature"]],
        ["ECE (15 bins)", result["ece"]],
        ["NLL", result["nll"]],
    ]
    thr = result.get("at_threshold")
    if thr:
        summary += [
            ["auto-select threshold", thr["threshold"]],
            ["coverage at threshold", thr["coverage"]],
            ["precision at threshold", thr["precision"]],
        ]
    unk = result.get("unknown")
    if unk:
        summary += [
            [f"unknown threshold ({unk['score']})", unk["threshold"]],
            ["known texts kept known", unk["known_kept"] if unk["known_kept"] is not None else ""],
        ]
        if unk["n_unknown"]:
            summary += [
                ["texts of unknown labels", unk["n_unknown"]],
                ["unknown recall", unk["unknown_recall"]],
                ["in-scope accuracy", unk["in_scope_accuracy"]],
                ["AUROC known vs unknown", unk["auroc"] if unk["auroc"] is not None else ""],
            ]
    return summary


def _auc_ap(row: dict[str, Any]) -> tuple[Any, Any]:
    return row["roc_auc"], row["average_precision"]


def _details(result: dict[str, Any]) -> str:
    """The per-class table (with AUC and AP) and the error analysis."""
    aucs = result["curves"]["labels"]
    per_class = [
        [lab, *(v[k] for k in ("precision", "recall", "f1", "support")), *_auc_ap(aucs[lab])]
        for lab, v in result["metrics"]["per_class"].items()
    ]
    errors = [
        [e["text"], e["true"], e["predicted"], e["probability"]]
        for e in result["errors"]["misclassified"]
    ]
    unsure = [
        [e["text"], e["true"], e["probability"]]
        for e in result["errors"]["least_confident_correct"]
    ]
    header = ["label", "precision", "recall", "F1", "support", "ROC AUC", "AP"]
    return (
        f"<h2>Per class</h2>{table_html(header, per_class)}"
        "<h2>Misclassified (most confident first)</h2>"
        f"{table_html(['text', 'true', 'predicted', 'probability'], errors)}"
        "<h2>Least confident correct predictions</h2>"
        f"{table_html(['text', 'label', 'probability'], unsure)}"
    )
