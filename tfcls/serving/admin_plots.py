"""The dashboard's plots as SVG, drawn on the server with matplotlib (Agg): no CDN, no
script in the page, and the CSP (``img-src 'self'``) stays as it is.

Each function takes plain data (what :mod:`tfcls.monitoring` computes) and returns SVG
bytes; an empty input draws a plot that says so rather than failing.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: render to bytes
import matplotlib.pyplot as plt

SIZE = (7.5, 3.2)  # inches: a plot per row of the page


def _svg(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _empty(ax: Any, what: str) -> None:
    ax.text(0.5, 0.5, f"no {what} yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def acceptance_svg(series: Mapping[str, Sequence[Mapping[str, Any]]]) -> bytes:
    """Daily acceptance per served version with its 95% interval as a band.

    ``series``: version → [{"date", "rate", "low", "high"}, ...] in day order (``rate``
    None: no verdicts that day, left as a gap)."""
    fig, ax = plt.subplots(figsize=SIZE)
    drawn = False
    for version, days in series.items():
        if not any(d["rate"] is not None for d in days):
            continue
        x = [d["date"][5:] for d in days]  # MM-DD
        rate = [float("nan") if d["rate"] is None else d["rate"] for d in days]
        ax.plot(x, rate, marker="o", label=version)
        ax.fill_between(x, [d["low"] for d in days], [d["high"] for d in days], alpha=0.2)
        drawn = True
    if drawn:
        ax.set_ylim(0, 1)
        ax.set_ylabel("accepted share")
        ax.legend(fontsize="small")
        ax.tick_params(axis="x", labelrotation=30, labelsize="small")
    else:
        _empty(ax, "verdicts")
    ax.set_title("Acceptance per day (95% interval)")
    return _svg(fig)


def drift_svg(history: Sequence[Mapping[str, Any]]) -> bytes:
    """Drift scores of each monitor run over time: MMD p-value, the share of texts far
    from every training text, and the PSI of predicted labels.

    ``history``: [{"at", "mmd_p_value", "below_floor_share", "psi"}, ...] (None: not
    computed in that run)."""
    fig, ax = plt.subplots(figsize=SIZE)
    if not history:
        _empty(ax, "monitor runs")
    else:
        x = list(range(len(history)))
        for key, label in (
            ("mmd_p_value", "MMD p-value"),
            ("below_floor_share", "share below the similarity floor"),
            ("psi", "PSI of predicted labels"),
        ):
            ys = [h.get(key) for h in history]
            if any(y is not None for y in ys):
                ax.plot(x, [float("nan") if y is None else y for y in ys], marker=".", label=label)
        ax.set_xticks(x[:: max(1, len(x) // 8)])
        ax.set_xticklabels(
            [str(history[i].get("at", ""))[:10] for i in x[:: max(1, len(x) // 8)]],
            rotation=30,
            fontsize="small",
        )
        ax.legend(fontsize="small")
    ax.set_title("Drift over monitor runs")
    return _svg(fig)


def confusion_svg(labels: Sequence[str], matrix: Sequence[Sequence[int]]) -> bytes:
    """The confusion implied by corrections: predicted label (rows) → chosen (columns)."""
    size = max(3.2, 0.45 * len(labels) + 1.5)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    if not labels or not any(any(row) for row in matrix):
        _empty(ax, "corrections")
    else:
        image = ax.imshow(matrix, cmap="Reds")
        ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize="small")
        ax.set_yticks(range(len(labels)), labels, fontsize="small")
        ax.set_xlabel("chosen by the person")
        ax.set_ylabel("predicted")
        for i, row in enumerate(matrix):
            for j, n in enumerate(row):
                if n:
                    ax.text(j, i, str(n), ha="center", va="center", fontsize="x-small")
        fig.colorbar(image, ax=ax, shrink=0.7)
    ax.set_title("Corrections: predicted → chosen")
    return _svg(fig)
