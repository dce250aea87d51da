"""Evaluation artefacts: confusion-matrix and reliability PNGs, a self-contained report.html.

The HTML inlines its images (base64) and escapes every text it shows, so it opens from
disk anywhere and a hostile title in the data can't inject markup.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: render to files
import matplotlib.pyplot as plt
import numpy as np


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


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


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def write_report(out_dir: Path, result: dict[str, Any]) -> Path:
    """Write confusion_matrix.png, reliability.png and report.html; return the HTML path."""
    cm_png = confusion_png(result["metrics"]["confusion_matrix"], result["labels"])
    rel_png = reliability_png(result["reliability"], "calibrated probabilities")
    (out_dir / "confusion_matrix.png").write_bytes(cm_png)
    (out_dir / "reliability.png").write_bytes(rel_png)
    path = out_dir / "report.html"
    path.write_text(_page(result, cm_png, rel_png), encoding="utf-8")
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


def _page(result: dict[str, Any], cm_png: bytes, rel_png: bytes) -> str:
    """report.html: the summary, both figures inline, per-class figures and the errors."""
    per_class = [
        [lab, v["precision"], v["recall"], v["f1"], v["support"]]
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
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>tfcls evaluation: {html.escape(result["run"])}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:70em}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:.3em .6em;
text-align:left}}img{{max-width:48%;vertical-align:top}}</style></head><body>
<h1>Evaluation of {html.escape(result["run"])}</h1>
<p>Data: {html.escape(result["data"])} (sha256 {html.escape(result["data_sha256"][:12])}…)</p>
{_table(["metric", "value"], _summary_rows(result))}
{_img(cm_png, "confusion matrix")} {_img(rel_png, "reliability diagram")}
<h2>Per class</h2>
{_table(["label", "precision", "recall", "F1", "support"], per_class)}
<h2>Misclassified (most confident first)</h2>
{_table(["text", "true", "predicted", "probability"], errors)}
<h2>Least confident correct predictions</h2>
{_table(["text", "label", "probability"], unsure)}
</body></html>
"""
