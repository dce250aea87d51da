"""Drift statistics on plain arrays: is a recent sample distributed like the training one?

Pure numpy (plus scipy's chi-square survival function), no model in sight, so each is
tested on numbers alone (:mod:`tests.monitoring`):

- :func:`mmd_rbf` / :func:`mmd_permutation_test`: the maximum mean discrepancy of two
  embedding samples under an RBF kernel whose bandwidth is the median pairwise squared
  distance of the pooled sample (the median heuristic), with a permutation p-value: *data
  drift*, in the encoder's space, with no assumption on the distribution's shape;
- :func:`below_floor_share`: the share of recent texts whose nearest training text is less
  similar (cosine) than a floor: texts of a domain the model never saw;
- :func:`psi` and :func:`chi_square`: predicted-label counts against the training label
  counts: *prediction drift*.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

PSI_EPSILON = 1e-4  # a share of 0 becomes this in the PSI's logarithm


def _pairwise_sq_distances(z: np.ndarray) -> np.ndarray:
    sq = np.einsum("ij,ij->i", z, z)
    d = sq[:, None] + sq[None, :] - 2.0 * (z @ z.T)
    return np.maximum(d, 0.0)


def median_bandwidth(d: np.ndarray) -> float:
    """The median heuristic: the median of the positive pairwise squared distances (1 when
    every point coincides, so the kernel stays defined)."""
    positive = d[np.triu_indices_from(d, k=1)]
    positive = positive[positive > 0]
    return float(np.median(positive)) if positive.size else 1.0


def _pooled_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    z = np.concatenate([np.asarray(x, np.float64), np.asarray(y, np.float64)])
    d = _pairwise_sq_distances(z)
    return np.exp(-d / median_bandwidth(d))


def _mmd_from_kernel(k: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """MMD² (biased) for each row of ``weights`` (1/m on one side, -1/n on the other):
    wᵀKw = mean Kxx + mean Kyy - 2 mean Kxy, a squared norm, hence ≥ 0."""
    return np.maximum(np.einsum("pi,ij,pj->p", weights, k, weights), 0.0)


def _side_weights(assignment: np.ndarray, m: int) -> np.ndarray:
    """Rows of weights for boolean rows of ``assignment`` (True: the first sample, m of them)."""
    n = assignment.shape[1] - m
    return np.where(assignment, 1.0 / m, -1.0 / n)


def _check(x: np.ndarray, y: np.ndarray) -> None:
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"need two [n, dim] samples of one dim, got {x.shape} and {y.shape}")
    if len(x) < 1 or len(y) < 1:
        raise ValueError("both samples need at least one row")


def mmd_rbf(x: np.ndarray, y: np.ndarray) -> float:
    """MMD² (biased V-statistic) of samples ``x`` [m, d] and ``y`` [n, d] under the RBF
    kernel exp(-‖a-b‖²/h), h the pooled median squared distance: ≥ 0, symmetric in x and
    y, 0 for identical samples, larger the further apart the distributions."""
    x, y = np.asarray(x), np.asarray(y)
    _check(x, y)
    k = _pooled_kernel(x, y)
    assignment = np.arange(len(x) + len(y))[None, :] < len(x)
    return float(_mmd_from_kernel(k, _side_weights(assignment, len(x)))[0])


def mmd_permutation_test(
    x: np.ndarray, y: np.ndarray, permutations: int = 200, seed: int = 0
) -> tuple[float, float]:
    """(MMD², p-value): the share of ``permutations`` random relabellings of the pooled
    sample whose MMD² reaches the observed one, counting the observed (so p ∈ (0, 1] and
    never below 1/(permutations+1)). Under "same distribution" p is uniform: a p-value
    threshold α flags about α of same-distribution samples. Seeded: same inputs, same p."""
    x, y = np.asarray(x), np.asarray(y)
    _check(x, y)
    if permutations < 1:
        raise ValueError(f"permutations must be ≥ 1, got {permutations}")
    k = _pooled_kernel(x, y)
    m, total = len(x), len(x) + len(y)
    observed = _mmd_from_kernel(k, _side_weights(np.arange(total)[None, :] < m, m))[0]
    rng = np.random.default_rng(seed)
    reached = 0
    for start in range(0, permutations, 50):  # in blocks: [50, total] weights at a time
        count = min(50, permutations - start)
        order = np.argsort(rng.random((count, total)), axis=1)
        assignment = order < m
        reached += int(np.sum(_mmd_from_kernel(k, _side_weights(assignment, m)) >= observed))
    return float(observed), (reached + 1) / (permutations + 1)


def subsample(x: np.ndarray, limit: int, seed: int = 0) -> np.ndarray:
    """At most ``limit`` rows of ``x``, drawn without replacement (seeded), order kept."""
    x = np.asarray(x)
    if len(x) <= limit:
        return x
    keep = np.sort(np.random.default_rng(seed).choice(len(x), limit, replace=False))
    return x[keep]


def nearest_similarity(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """For each row of ``x``, the cosine similarity of its nearest row of ``y``."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    _check(x, y)
    xn = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    yn = y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-12)
    return np.max(xn @ yn.T, axis=1)


def own_similarity_floor(
    y: np.ndarray, quantile: float = 0.05, limit: int = 500, seed: int = 0
) -> float:
    """The ``quantile`` of the training texts' own nearest similarity: for (at most
    ``limit``, seeded) rows of ``y``, the cosine of the nearest *other* row. Texts of the
    training distribution fall below it about ``quantile`` of the time whatever the
    encoder's scale of similarities (MiniLM's in-domain neighbours of a small task can sit
    near 0.5, a tiny test encoder's near 1), which a fixed floor cannot promise."""
    y = np.asarray(y, np.float64)
    if len(y) < 2:
        raise ValueError("need at least two training rows to compare each with another")
    yn = y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-12)
    rows = np.arange(len(y))
    if len(y) > limit:
        rows = np.sort(np.random.default_rng(seed).choice(len(y), limit, replace=False))
    sims = yn[rows] @ yn.T
    sims[np.arange(len(rows)), rows] = -np.inf  # not itself
    return float(np.quantile(np.max(sims, axis=1), quantile))


def below_floor_share(x: np.ndarray, y: np.ndarray, floor: float) -> float:
    """The share of rows of ``x`` (recent texts) whose nearest row of ``y`` (training
    texts) has a cosine similarity below ``floor``: in [0, 1]."""
    return float(np.mean(nearest_similarity(x, y) < floor))


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    if total <= 0:
        raise ValueError("counts must hold at least one observation")
    return counts / total


def psi(
    expected_counts: np.ndarray, actual_counts: np.ndarray, epsilon: float = PSI_EPSILON
) -> float:
    """Population stability index Σ (a - e)·ln(a / e) of the shares of two count vectors
    over the same categories, each share floored at ``epsilon``: ≥ 0 (every term is), 0 for
    equal distributions; by the usual rule of thumb < 0.1 is stable, > 0.2 a shift."""
    e = np.maximum(_shares(np.asarray(expected_counts, np.float64)), epsilon)
    a = np.maximum(_shares(np.asarray(actual_counts, np.float64)), epsilon)
    if e.shape != a.shape:
        raise ValueError(f"count vectors differ in length: {e.shape} vs {a.shape}")
    return float(np.sum((a - e) * np.log(a / e)))


def chi_square(
    expected_counts: np.ndarray, actual_counts: np.ndarray, epsilon: float = PSI_EPSILON
) -> tuple[float, float, int]:
    """(statistic, p-value, degrees of freedom) of the goodness-of-fit test of
    ``actual_counts`` against the shares of ``expected_counts`` (a category the training
    data never had gets a share of ``epsilon``). With hundreds of verdicts even a harmless
    shift is "significant": the verdict uses the PSI; the p-value is reported alongside."""
    actual = np.asarray(actual_counts, np.float64)
    shares = np.maximum(_shares(np.asarray(expected_counts, np.float64)), epsilon)
    expected = shares / shares.sum() * actual.sum()
    statistic = float(np.sum((actual - expected) ** 2 / expected))
    dof = max(len(actual) - 1, 1)
    p_value = float(stats.chi2.sf(statistic, dof))
    return statistic, (p_value if math.isfinite(p_value) else 0.0), dof
