"""Does the suggestion ranking beat random picking? Active learning on BANKING77.

Protocol (``python -m tfcls.bench active --rounds 5 --per-round 10 --seeds 3``), per seed:

- the official BANKING77 train split is cut into a held-out part (``--val-per-label``
  texts per intent, 10) that scores every round, a labelled seed set
  (``--seed-per-label``, 3 per intent) and the pool of the rest, whose labels stay hidden
  until a text is picked; the BANKING77 test split plays no part in any choice;
- each round a quick head is refitted on the labelled texts and scored on the held-out
  part, then ``--per-round`` texts of the pool are picked and their labels revealed: at
  random, by uncertainty alone (``rank_uncertain`` with radius 0) and by uncertainty with
  the diversity step (``rank_uncertain`` with ``--radius``, what ``tfcls.label suggest``
  ships); the three strategies start from the same seed set;
- after the last round the final heads are also scored on the official test split,
  reported apart (never used to choose anything).

The encoder is frozen (MiniLM embeddings, from the embedding cache after the first run)
and the head is a multinomial logistic regression fitted by L-BFGS (:func:`fit_softmax`),
so a round takes well under a second and the figures isolate the ranking itself.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from tfcls import progress
from tfcls.bench.public import load_public, mean_std
from tfcls.data.splits import stratified_subsample
from tfcls.encoders.encoder import SentenceEncoder
from tfcls.labeling.rank import DEFAULT_RADIUS, rank_uncertain

STRATEGIES = ("random", "uncertainty", "uncertainty+diversity")
L2 = 1e-4  # weight penalty on the mean cross-entropy (chosen on held-out train texts)


def fit_softmax(
    x: np.ndarray, y: np.ndarray, n_classes: int, l2: float = L2, iters: int = 300
) -> np.ndarray:
    """Weights [dim + 1, n_classes] of an L2-penalised softmax regression (bias last row),
    fitted by L-BFGS from zeros: deterministic, and fast on a few hundred texts.

    The bias is penalised too: unit-length embeddings give small logits, and a free bias
    would then follow the label counts of the labelled texts (4 texts of one intent vs 3 of
    another) more than the texts themselves."""
    from scipy.optimize import minimize

    xb = np.hstack([x, np.ones((len(x), 1))]).astype(np.float64)
    onehot = np.eye(n_classes)[y]
    shape = (xb.shape[1], n_classes)

    def loss(flat: np.ndarray) -> tuple[float, np.ndarray]:
        w = flat.reshape(shape)
        logits = xb @ w
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        ce = -np.mean(np.log(np.maximum((p * onehot).sum(axis=1), 1e-300)))
        grad = xb.T @ (p - onehot) / len(xb)
        grad += l2 * w
        return ce + 0.5 * l2 * float((w**2).sum()), grad.ravel()

    res = minimize(
        loss, np.zeros(shape).ravel(), jac=True, method="L-BFGS-B", options={"maxiter": iters}
    )
    return res.x.reshape(shape)


def softmax_proba(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Probabilities [n, n_classes] of the head ``w`` (:func:`fit_softmax`) for ``x``."""
    logits = x @ w[:-1] + w[-1]
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def _accuracy(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(softmax_proba(w, x).argmax(axis=1) == y))


def _pick(
    strategy: str, w: np.ndarray, x_pool: np.ndarray, k: int, rng: np.random.Generator,
    by: str, radius: float, seed: int,
) -> np.ndarray:  # fmt: skip
    """Positions in the pool of the ``k`` texts ``strategy`` labels next."""
    if strategy == "random":
        return rng.choice(len(x_pool), size=min(k, len(x_pool)), replace=False)
    r = 0.0 if strategy == "uncertainty" else radius
    return rank_uncertain(softmax_proba(w, x_pool), x_pool, k, by, seed, r)


def run_seed(
    x: np.ndarray, y: np.ndarray, n_classes: int, seed: int, settings: dict[str, Any]
) -> dict[str, Any]:
    """One seed of the protocol (module doc): per strategy, the held-out accuracy after
    each round (round 0: the seed set alone), the labelled count and the final head."""
    held = stratified_subsample(y, settings["val_per_label"], None, seed + 1000)
    rest = np.setdiff1d(np.arange(len(y)), held)
    start = rest[stratified_subsample(y[rest], settings["seed_per_label"], None, seed)]
    pool0 = np.setdiff1d(rest, start)
    out: dict[str, Any] = {"seed": seed, "held_out_texts": len(held), "seed_texts": len(start)}
    for strategy in STRATEGIES:
        rng = np.random.default_rng(seed)
        labelled, pool, curve = start.copy(), pool0.copy(), []
        for rnd in range(settings["rounds"] + 1):
            w = fit_softmax(x[labelled], y[labelled], n_classes)
            curve.append(_accuracy(w, x[held], y[held]))
            if rnd == settings["rounds"]:
                break
            k = settings["per_round"]
            picked = _pick(strategy, w, x[pool], k, rng, settings["by"], settings["radius"], seed)
            labelled = np.concatenate([labelled, pool[picked]])
            pool = np.delete(pool, picked)
        out[strategy] = {"held_out_accuracy": curve, "labelled": len(labelled), "head": w}
        progress.log(
            f"active seed {seed} {strategy}: held-out accuracy "
            + " → ".join(f"{a:.4f}" for a in curve)
        )
    return out


def _summary(per_seed: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    """Mean ± std over seeds per round and strategy, and the rounds diversity wins."""
    curves = {
        s: [mean_std([r[s]["held_out_accuracy"][i] for r in per_seed]) for i in range(rounds + 1)]
        for s in STRATEGIES
    }
    ours, rand = curves["uncertainty+diversity"], curves["random"]
    wins = [i for i in range(1, rounds + 1) if ours[i]["mean"] > rand[i]["mean"]]
    return {"held_out_accuracy": curves, "rounds_won_over_random": wins}


def bench_active(
    enc: SentenceEncoder,
    rounds: int = 5,
    per_round: int = 10,
    seeds: int = 3,
    seed_per_label: int = 3,
    val_per_label: int = 10,
    by: str = "margin",
    radius: float = DEFAULT_RADIUS,
    slices: tuple[int | None, int | None] = (None, None),
    first_seed: int = 42,
) -> dict[str, Any]:
    """The protocol of the module doc over ``seeds`` seeds; figures per round and strategy."""
    train, test = load_public("banking77", *slices)
    batch = 64
    progress.log(f"active: embedding {len(train.texts)} train, {len(test.texts)} test texts")
    x, x_test = (enc.embed(d.texts, batch_size=batch, progress=True) for d in (train, test))
    settings = {
        "rounds": rounds,
        "per_round": per_round,
        "seed_per_label": seed_per_label,
        "val_per_label": val_per_label,
        "by": by,
        "radius": radius,
    }
    n_classes = len(train.labels)
    per_seed = [run_seed(x, train.y, n_classes, first_seed + i, settings) for i in range(seeds)]
    test_acc = {
        s: mean_std([_accuracy(r[s].pop("head"), x_test, test.y) for r in per_seed])
        for s in STRATEGIES
    }
    return {
        "benchmark": "active",
        "dataset": "banking77",
        "encoder": enc.handle,
        "head": f"softmax regression (L-BFGS, l2={L2})",
        "settings": settings,
        "seeds": seeds,
        "labels": n_classes,
        "train_texts": len(train.texts),
        "labelled_after": {s: per_seed[0][s]["labelled"] for s in STRATEGIES},
        **_summary(per_seed, rounds),
        "final_test_accuracy": test_acc,
        "per_seed": per_seed,
    }


def plot_curves(result: dict[str, Any], path: Path) -> Path:
    """The learning curves (mean ± std over seeds, held-out accuracy per labelled count)
    as a small PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = result["settings"]
    start = result["per_seed"][0]["seed_texts"]
    counts = [start + i * s["per_round"] for i in range(s["rounds"] + 1)]
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    for name, curve in result["held_out_accuracy"].items():
        mean = np.array([c["mean"] for c in curve]) * 100
        std = np.array([c["std"] for c in curve]) * 100
        ax.plot(counts, mean, marker="o", label=name)
        ax.fill_between(counts, mean - std, mean + std, alpha=0.15)
    ax.set_xlabel("labelled training texts")
    ax.set_ylabel("held-out train accuracy (%)")
    ax.set_title(f"BANKING77 active learning, {result['seeds']} seeds (mean ± std)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    print(f"wrote {path}", file=sys.stderr)
    return path
