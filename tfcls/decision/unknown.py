"""Unknown-category detection: does a text fit none of the categories the model knows?

The client offers "new category" when a text fits none of the known ones. Four scores
were once compared on BANKING77 with a quarter of the intents held out (figures in
BENCHMARKS.md): the maximum calibrated softmax probability, energy, cosine similarity to
the nearest class centroid, and to the nearest training text. The maximum softmax
probability separated unknown intents best (highest AUROC and unknown recall) and is
what training ships by default (``decision.unknown_score``); the nearest-text similarity,
second, is available and travels inside the model with the training embeddings. The
threshold is chosen on out-of-fold scores of the training texts (never on unknown data,
which a deployment lacks) so that ``decision.known_recall`` of them stay known.

Higher scores mean "more known" for both scores here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SHIPPED = "max_softmax"  # the default decision.unknown_score


def nearest_similarity(
    vectors: np.ndarray, references: np.ndarray, batch_size: int = 2048
) -> np.ndarray:
    """Cosine similarity of each (L2-normalised) vector to its nearest reference vector."""
    vectors = np.asarray(vectors, dtype=np.float32)
    references = np.asarray(references, dtype=np.float32)
    if len(references) == 0:
        raise ValueError("nearest_similarity needs at least one reference vector")
    out = np.empty(len(vectors), dtype=np.float32)
    for start in range(0, len(vectors), batch_size):
        out[start : start + batch_size] = (vectors[start : start + batch_size] @ references.T).max(
            axis=1
        )
    return out


def unknown_threshold(known_scores: np.ndarray, known_recall: float) -> float:
    """The largest threshold that keeps at least ``known_recall`` of ``known_scores`` known.

    A text is known when its score is ≥ the threshold.
    """
    scores = np.sort(np.asarray(known_scores, dtype=np.float64))
    if len(scores) == 0:
        raise ValueError("unknown_threshold needs validation scores")
    keep = int(np.ceil(known_recall * len(scores) - 1e-9))
    return float(scores[len(scores) - max(keep, 1)])


def auroc(known_scores: np.ndarray, unknown_scores: np.ndarray) -> float:
    """P(score of a random known text > that of a random unknown one); ties count half."""
    known = np.asarray(known_scores, dtype=np.float64)
    unknown = np.asarray(unknown_scores, dtype=np.float64)
    both = np.concatenate([known, unknown])
    order = both.argsort(kind="mergesort")
    ranks = np.empty(len(both))
    ranks[order] = np.arange(1, len(both) + 1)
    # average ranks over ties
    _, inverse, counts = np.unique(both, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    ranks = (sums / counts)[inverse]
    u = ranks[: len(known)].sum() - len(known) * (len(known) + 1) / 2
    return float(u / (len(known) * len(unknown)))


def evaluate_detection(
    threshold: float,
    scores: np.ndarray,
    is_unknown: np.ndarray,
    correct: np.ndarray,
) -> dict[str, Any]:
    """One score's unknown detection at ``threshold`` on texts mixing known and unknown.

    ``is_unknown`` marks texts of categories the model was not trained on, ``correct``
    known texts whose predicted category is right. In-scope accuracy counts a known text
    as right only when it is kept known and classified correctly.
    """
    scores = np.asarray(scores)
    flagged = scores < threshold
    unknown = np.asarray(is_unknown, dtype=bool)
    known = ~unknown
    out: dict[str, Any] = {
        "threshold": float(threshold),
        "n_known": int(known.sum()),
        "n_unknown": int(unknown.sum()),
        "known_kept": float((~flagged)[known].mean()) if known.any() else None,
        "in_scope_accuracy": (
            float((~flagged & np.asarray(correct, dtype=bool))[known].mean())
            if known.any()
            else None
        ),
        "unknown_recall": float(flagged[unknown].mean()) if unknown.any() else None,
        "auroc": auroc(scores[known], scores[unknown]) if known.any() and unknown.any() else None,
    }
    return out


def unknown_record(score: str, known_scores: np.ndarray, known_recall: float) -> dict[str, Any]:
    """calibration.json's ``unknown`` entry: score, threshold and the share it keeps known.

    ``known_scores`` are out-of-fold scores of the training texts (all known). The unknown
    decision comes first and is never capped: the auto-select threshold is raised to it
    instead (``calibration.raise_threshold``), so a good model, whose precision target is
    met at a low threshold, still flags texts that fit no category.
    """
    threshold = unknown_threshold(known_scores, known_recall)
    return {
        "score": score,
        "threshold": threshold,
        "known_recall": known_recall,
        "oof_known_kept": float((np.asarray(known_scores) >= threshold).mean()),
    }


def out_of_fold_similarity(vectors: np.ndarray, fold_of: np.ndarray) -> np.ndarray:
    """Each text's similarity to its nearest training text outside its own fold."""
    out = np.empty(len(vectors), dtype=np.float32)
    for f in np.unique(fold_of):
        inside = fold_of == f
        out[inside] = nearest_similarity(vectors[inside], vectors[~inside])
    return out


def unknown_scores(score: str, proba: np.ndarray, similarity: np.ndarray | None) -> np.ndarray:
    """The shipped score of each text: top calibrated probability, or nearest similarity."""
    if score == "nearest":
        if similarity is None:
            raise ValueError("the nearest score needs similarities (training embeddings)")
        return np.asarray(similarity)
    return np.asarray(proba).max(axis=1)
