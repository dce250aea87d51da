"""The multi-label decision rule: what a client does with one text's per-label probabilities.

The twin of the SDK's ``classifyLabels`` + ``decide`` on a multi-label result
(web/sdk/tfcls.js); tests/decision/test_rule_parity.py holds the two to the same answers.
A multi-label bundle has one threshold per label on its calibrated probability
(metadata.json ``thresholds``, aligned with ``labels``) and no unknown rule: a text that
fits no label simply selects none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def decide_labels(
    proba: Sequence[float],
    labels: Sequence[str],
    thresholds: Sequence[float],
    k: int | None = 3,
) -> dict[str, Any]:
    """Every label with its probability, most probable first (ties keep label order);
    ``labels``: those at or above their own threshold, in that order; ``suggestions``: the
    ``k`` most probable labels not selected (all of them when ``k`` is None);
    ``auto_select`` when any label is selected."""
    if not len(proba) == len(labels) == len(thresholds):
        raise ValueError(
            f"{len(proba)} probabilities, {len(labels)} labels and {len(thresholds)} "
            "thresholds: they must be aligned, one per label"
        )
    order = sorted(range(len(labels)), key=lambda j: -proba[j])
    predictions = [{"label": labels[j], "probability": float(proba[j])} for j in order]
    chosen = [labels[j] for j in order if proba[j] >= thresholds[j]]
    others = [p for p in predictions if p["label"] not in chosen]
    return {
        "predictions": predictions,
        "labels": chosen,
        "suggestions": others if k is None else others[:k],
        "auto_select": bool(chosen),
    }
