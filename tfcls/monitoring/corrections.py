"""Concept drift as users report it: which predictions they correct, and into what.

A ``corrected`` verdict says the text belongs to another known label. When the world's
meaning of a label moves (a team now files "login" issues under "auth"), corrections pile
up on the labels involved, and the confusion they imply (predicted → chosen) names the
pair; retraining (``python -m tfcls.retrain``) learns from exactly these rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any


def corrections_per_label(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per predicted label: ``verdicts`` (rows predicting it), ``corrected`` (of those),
    ``correction_rate`` (corrected / verdicts) and ``share_of_corrections`` (its share of
    every corrected verdict, so the shares sum to 1 when there is any), largest first."""
    verdicts: Counter[str] = Counter()
    corrected: Counter[str] = Counter()
    for row in rows:
        label = row.get("predicted_label")
        if label is None:
            continue
        verdicts[label] += 1
        corrected[label] += row["action"] == "corrected"
    total = sum(corrected.values())
    order = sorted(verdicts, key=lambda label: (-corrected[label], label))
    return {
        label: {
            "verdicts": verdicts[label],
            "corrected": corrected[label],
            "correction_rate": corrected[label] / verdicts[label],
            "share_of_corrections": corrected[label] / total if total else 0.0,
        }
        for label in order
    }


def correction_confusion(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """The confusion corrections imply: predicted label → chosen label → count, over the
    ``corrected`` rows that name both (most corrected predicted label first)."""
    pairs: Counter[tuple[str, str]] = Counter(
        (row["predicted_label"], row["chosen_label"])
        for row in rows
        if row["action"] == "corrected"
        and row.get("predicted_label") is not None
        and row.get("chosen_label") is not None
    )
    out: dict[str, dict[str, int]] = {}
    for (predicted, chosen), count in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0])):
        out.setdefault(predicted, {})[chosen] = count
    return out
