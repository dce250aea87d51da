"""The decision rule: what a client does with one text's calibrated probabilities.

:class:`Calibration` is a run's ``calibration.json`` typed (temperature, the auto-select
threshold, the :class:`UnknownRule`); :func:`decide` applies it to one text. The browser
applies the same rule (``web/`` reads the thresholds from the bundle's metadata.json).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class UnknownRule:
    """How a run flags a text as fitting no known category: ``score`` below ``threshold``.

    ``score`` is ``max_softmax`` (the top calibrated probability) or ``nearest`` (cosine
    similarity to the nearest training text, which needs the run's references).
    """

    score: str
    threshold: float

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | None) -> UnknownRule | None:
        """The rule of a calibration or metadata record's ``unknown`` entry (None: off)."""
        if not record or record.get("threshold") is None:
            return None
        return cls(str(record["score"]), float(record["threshold"]))


@dataclass(frozen=True)
class Calibration:
    """``calibration.json`` read once: the temperature and both thresholds, typed.

    ``threshold`` is the auto-select threshold (None: never auto-select); ``record`` keeps
    the whole file (reliability curve, per-fold figures) for reports.
    """

    temperature: float = 1.0
    threshold: float | None = None
    unknown: UnknownRule | None = None
    record: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Calibration:
        """Read a ``calibration.json`` record."""
        return cls(
            temperature=float(record.get("temperature", 1.0)),
            threshold=(record.get("threshold") or {}).get("threshold"),
            unknown=UnknownRule.from_record(record.get("unknown")),
            record=record,
        )

    @property
    def needs_references(self) -> bool:
        """True when unknown detection compares texts with the training texts."""
        return self.unknown is not None and self.unknown.score == "nearest"

    @classmethod
    def from_metadata(cls, meta: Mapping[str, Any]) -> Calibration:
        """The rule as a bundle's metadata.json states it (``threshold``, ``unknown``)."""
        return cls(
            temperature=1.0,  # bundles output calibrated probabilities
            threshold=meta.get("threshold"),
            unknown=UnknownRule.from_record(meta.get("unknown")),
        )


def decide(
    proba: Sequence[float],
    labels: Sequence[str],
    threshold: float | None,
    similarity: float | None = None,
    unknown: UnknownRule | None = None,
    k: int | None = None,
) -> dict[str, Any]:
    """What a client does with one text's calibrated probabilities (web/sdk/tfcls.js mirrors it):
    the top ``k`` labels; ``unknown`` when the text's unknown score (``unknown.score``: the
    top probability, or ``similarity`` to the nearest training text) is below
    ``unknown.threshold`` (offer a new category); ``auto_select`` when the top probability
    reaches ``threshold`` and the text is not unknown."""
    order = sorted(range(len(labels)), key=lambda j: -proba[j])[:k]
    predictions = [{"label": labels[j], "probability": float(proba[j])} for j in order]
    flagged = False
    if unknown is not None:
        value = similarity if unknown.score == "nearest" else predictions[0]["probability"]
        flagged = value is not None and value < unknown.threshold
    return {
        "predictions": predictions,
        "auto_select": not flagged
        and threshold is not None
        and predictions[0]["probability"] >= threshold,
        "unknown": bool(flagged),
        "similarity": None if similarity is None else float(similarity),
    }
