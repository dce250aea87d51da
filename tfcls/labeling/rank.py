"""Which unlabelled texts to label next: uncertainty with a diversity step, on numpy arrays.

A model learns most from the texts it is least sure of, but the least sure texts of a
pool are often near-duplicates of one another (the same question asked five ways), and
labelling five of them teaches little more than labelling one. :func:`rank_uncertain`
therefore picks greedily by an *uncertainty-weighted k-center* score:

    score(c) = uncertainty(c) × min(1, distance(c, chosen) / radius)

``distance(c, chosen)`` is the Euclidean distance from the text's embedding to the
nearest one already chosen (for L2-normalised sentence embeddings ``d² = 2 − 2·cos``).
A text at least ``radius`` away from every chosen one keeps its whole uncertainty, so
with the embeddings far apart (or ``radius=0``: diversity off) the ranking is plain
uncertainty order; a text near a chosen one is discounted, and an exact duplicate of one
(score 0) comes only after every distinct text. Ties are broken by a seeded random
order, so a seed always gives the same ranking.

Nothing here needs TensorFlow: the functions take probabilities and embeddings.
"""

from __future__ import annotations

import numpy as np

from tfcls.errors import TfclsError

UNCERTAINTY = ("margin", "entropy")
DEFAULT_RADIUS = 0.65  # Euclidean on L2-normalised embeddings: cos ≈ 0.79 (see BENCHMARKS.md)


class LabelingError(TfclsError):
    """A bad request for suggestions (unknown measure, n < 1, bad input texts or arrays)."""


def check_measure(by: str) -> str:
    """``by`` if it names an uncertainty measure (:data:`UNCERTAINTY`), else a LabelingError."""
    if by not in UNCERTAINTY:
        raise LabelingError(
            f"unknown uncertainty measure {by!r}; use one of {', '.join(UNCERTAINTY)}"
        )
    return by


def check_count(n: int) -> int:
    """``n`` if at least one suggestion is asked for (``-n``), else a LabelingError."""
    if n < 1:
        raise LabelingError(f"-n must be at least 1, got {n}")
    return n


def uncertainty(proba: np.ndarray, by: str = "margin") -> np.ndarray:
    """Per row of ``proba`` [n, k], how unsure the model is, in [0, 1] (higher: less sure).

    ``margin``: 1 − (top probability − second), so two labels nearly tied score near 1;
    ``entropy``: the entropy of the row over log k, which also counts the tail."""
    check_measure(by)
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise LabelingError(f"probabilities must be [n, k ≥ 2], got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise LabelingError("probabilities must be finite")
    if by == "margin":
        top2 = np.sort(p, axis=1)[:, -2:]
        return np.clip(1.0 - (top2[:, 1] - top2[:, 0]), 0.0, 1.0)
    q = np.clip(p, 0.0, None)
    q = q / np.maximum(q.sum(axis=1, keepdims=True), 1e-300)
    logs = np.log(np.where(q > 0, q, 1.0))
    return np.clip(-(q * logs).sum(axis=1) / np.log(p.shape[1]), 0.0, 1.0)


def _check_arrays(scores: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """The embeddings as float64 [n, dim], checked against the n uncertainty scores."""
    e = np.asarray(embeddings, dtype=np.float64)
    if e.ndim != 2 or e.shape[0] != len(scores):
        raise LabelingError(
            f"embeddings must be [n, dim] with n = {len(scores)} texts, got shape {e.shape}"
        )
    if not np.all(np.isfinite(e)):
        raise LabelingError("embeddings must be finite")
    return e


def select_diverse(
    scores: np.ndarray, embeddings: np.ndarray, n: int, radius: float, seed: int = 0
) -> np.ndarray:
    """Indices of ``min(n, len)`` rows chosen greedily by the module's weighted k-center
    score, best first. ``scores`` are uncertainties in [0, 1]; ``radius`` ≤ 0 turns the
    diversity discount off (exact duplicates still come after every distinct row)."""
    check_count(n)
    if radius < 0 or not np.isfinite(radius):
        raise LabelingError(f"radius must be a finite number ≥ 0, got {radius}")
    u = np.asarray(scores, dtype=np.float64)
    e = _check_arrays(u, embeddings)
    total = len(u)
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    # rows with identical embeddings form one group: a chosen group's other rows are duplicates
    _, group = np.unique(e, axis=0, return_inverse=True)
    group = group.reshape(-1)
    tie = np.random.default_rng(seed).random(total)
    nearest = np.full(total, np.inf)
    duplicate = np.zeros(total, dtype=bool)
    free = np.ones(total, dtype=bool)
    chosen: list[int] = []
    for _ in range(min(n, total)):
        weight = np.ones(total) if radius == 0 else np.minimum(1.0, nearest / radius)
        weight[duplicate] = 0.0
        score = u * weight
        idx = np.flatnonzero(free)
        # lexicographic: distinct before duplicate, then score, uncertainty, the seeded tie
        order = np.lexsort((tie[idx], u[idx], score[idx], ~duplicate[idx]))
        best = int(idx[order[-1]])
        chosen.append(best)
        free[best] = False
        duplicate |= group == group[best]
        if radius > 0:
            nearest = np.minimum(nearest, np.linalg.norm(e - e[best], axis=1))
    return np.asarray(chosen, dtype=np.int64)


def rank_uncertain(
    proba: np.ndarray,
    embeddings: np.ndarray,
    n: int,
    by: str = "margin",
    seed: int = 0,
    radius: float = DEFAULT_RADIUS,
) -> np.ndarray:
    """Indices of the ``min(n, len)`` texts to label next, best first: :func:`uncertainty`
    by ``by``, spread out by :func:`select_diverse` (``radius=0``: uncertainty only)."""
    return select_diverse(uncertainty(proba, by), embeddings, n, radius, seed)
