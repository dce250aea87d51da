"""Suggestions of a trained run: which unlabelled texts to label next, and its guess for each.

:func:`suggest` asks the run's :class:`~tfcls.decision.predictor.Predictor` for the
calibrated probabilities and the encoder's embeddings of the texts (the very vectors the
head reads; the embedding cache makes the second look-up free), then ranks them with
:func:`tfcls.labeling.rank.rank_uncertain`: uncertain first, near-duplicates spread out.
Each :class:`Suggestion` carries the model's top label and its probability, shown to the
labeller as a hint; :mod:`tfcls.labeling.files` writes them as a file to fill in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tfcls.data.text import join_title_description
from tfcls.labeling.rank import (
    DEFAULT_RADIUS,
    LabelingError,
    check_count,
    check_measure,
    select_diverse,
    uncertainty,
)

if TYPE_CHECKING:
    from tfcls.decision.predictor import Predictor


@dataclass(frozen=True)
class Suggestion:
    """One text to label: ``rank`` 1 is the most useful; ``suggested_label`` is the model's
    top label with its calibrated ``probability``; ``uncertainty`` is the score ranked by."""

    rank: int
    text: str
    suggested_label: str
    probability: float
    uncertainty: float

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (JSON, CSV)."""
        return asdict(self)


def model_texts(texts: Sequence[str]) -> list[str]:
    """The distinct, non-empty texts as the model reads them (cleaned as in training), in
    first-seen order: a text twice in the input is suggested at most once."""
    cleaned = (join_title_description(t, "") for t in texts)
    return list(dict.fromkeys(t for t in cleaned if t))


def suggestions_from(
    texts: Sequence[str],
    proba: np.ndarray,
    embeddings: np.ndarray,
    labels: Sequence[str],
    n: int,
    by: str = "margin",
    seed: int = 0,
    radius: float = DEFAULT_RADIUS,
) -> list[Suggestion]:
    """The ranked :class:`Suggestion` list from arrays already computed (no model needed)."""
    proba = np.asarray(proba)
    if proba.shape != (len(texts), len(labels)):
        raise LabelingError(
            f"probabilities must be [{len(texts)} texts, {len(labels)} labels], "
            f"got shape {proba.shape}"
        )
    scores = uncertainty(proba, by)
    order = select_diverse(scores, embeddings, n, radius, seed)  # = rank_uncertain, once
    top = proba.argmax(axis=1)
    return [
        Suggestion(
            rank=r,
            text=texts[i],
            suggested_label=labels[top[i]],
            probability=round(float(proba[i, top[i]]), 6),
            uncertainty=round(float(scores[i]), 6),
        )
        for r, i in enumerate(order, 1)
    ]


def suggest(
    predictor: Predictor,
    texts: Sequence[str],
    n: int = 50,
    by: str = "margin",
    seed: int = 0,
    radius: float = DEFAULT_RADIUS,
) -> list[Suggestion]:
    """The ``min(n, distinct texts)`` texts a run should see labelled next, best first.

    ``by``: ``margin`` or ``entropy``; ``radius``: the diversity distance
    (:mod:`tfcls.labeling.rank`; 0 turns diversity off); ``seed`` breaks ties, so the same
    inputs always give the same list. Raises :class:`LabelingError` for a bad request."""
    check_count(n)  # a bad request fails before any embedding
    check_measure(by)
    unique = model_texts(texts)
    if not unique:
        raise LabelingError("no texts to rank: the input holds no non-empty text")
    vectors = predictor.encoder.embed(unique, batch_size=predictor.config.encoder.batch_size)
    proba, _ = predictor.text_scores(unique)
    return suggestions_from(unique, proba, vectors, predictor.labels, n, by, seed, radius)
