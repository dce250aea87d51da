"""Does ``data.augment`` help? Augmentation on vs off, chosen on held-out training texts.

Protocol (``python -m tfcls.bench augment``): per dataset and seed, the default procedure
(``tfcls.training.steps``: embedding, augmentation when on, the cross-fitted fit) trains
twice on the same texts, ``data.augment.enabled`` off and on, and both score the same
held-out part, which is never a published test split:

- BANKING77, HWU64 (``--shots`` per intent, 10): the shots are drawn from the official
  train split (``tfcls.bench.public``'s few-shot sample), the held-out part is
  ``--val-per-label`` other train texts per intent;
- the bundled data (``data.path``): a stratified ``--val-fraction`` of it is held out,
  the procedure trains on the rest.

The choice (on or off) is made per dataset on the mean held-out accuracy over the seeds;
only then is the official test accuracy of the chosen setting reported (public datasets).
Seeds draw new shots, held-out parts and augmentations.
"""

from __future__ import annotations

import copy
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from tfcls.bench.public import load_public, mean_std
from tfcls.config import Config
from tfcls.data.dataset import Dataset, load_dataset
from tfcls.data.splits import stratified_split, stratified_subsample
from tfcls.encoders.encoder import SentenceEncoder
from tfcls.evaluation.metrics import classification_metrics

BUNDLED = "bundled"


def _fit_and_score(
    enc: SentenceEncoder,
    train: Dataset,
    scored: list[tuple[list[str], np.ndarray]],
    labels: list[str],
    config: Config,
    work: Path,
) -> dict[str, Any]:
    """Train the default procedure on ``train``; accuracy and macro-F1 of each scored part."""
    from tfcls.training import steps

    texts, y = train.texts, train.y
    embedded = steps.shape_and_embed(enc, texts, y, config, work, use_cache=False)
    n = len(labels)
    fitted = steps.fit_step(embedded, texts, y, train.weights, n, config, work)
    out: dict[str, Any] = {
        "added": 0 if embedded.augmented is None else len(embedded.augmented.texts)
    }
    for name, (part_texts, part_y) in zip(("held_out", "test"), scored, strict=False):
        proba = steps.predict_texts(fitted, embedded.encoder, part_texts, config)
        m = classification_metrics(part_y, proba, labels)
        out[name] = {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"]}
    shutil.rmtree(work, ignore_errors=True)
    return out


def _parts(
    name: str, config: Config, shots: int, val_per_label: int, val_fraction: float, seed: int,
    slices: tuple[int | None, int | None],
) -> tuple[Dataset, list[tuple[list[str], np.ndarray]], list[str]]:  # fmt: skip
    """(training texts, [held-out part, test split if any], labels) of one seed."""
    if name == BUNDLED:
        data = load_dataset(config.data.path, config.data.min_per_label)
        train, held, _ = stratified_split(data.y, val_fraction, 0.0, seed, labels=data.labels)
        part = data.subset(held)
        return data.subset(train), [(part.texts, part.y)], data.labels
    train, test = load_public(name, *slices)
    picked = stratified_subsample(train.y, shots, None, seed)
    rest = np.setdiff1d(np.arange(len(train.y)), picked)
    held = rest[stratified_subsample(train.y[rest], val_per_label, None, seed + 1000)]
    part = train.subset(held)
    return train.subset(picked), [(part.texts, part.y), (test.texts, test.y)], train.labels


def bench_dataset(
    enc: SentenceEncoder,
    name: str,
    config: Config,
    work: Path,
    seeds: int = 3,
    shots: int = 10,
    val_per_label: int = 10,
    val_fraction: float = 0.2,
    slices: tuple[int | None, int | None] = (None, None),
    settings: tuple[str, ...] = ("off", "on"),
) -> dict[str, Any]:
    """Augmentation off vs on over ``seeds`` seeds of one dataset (module doc), the choice
    on held-out accuracy and the test accuracy of the choice. ``settings`` runs one half
    only (its per-seed runs, no choice): each fit is seeded, so halves run apart give the
    figures the whole gives."""
    from tfcls.training.head_fit import set_seed

    runs: dict[str, list[dict[str, Any]]] = {s: [] for s in settings}
    for i in range(seeds):
        seed = config.train.seed + i
        train, scored, labels = _parts(
            name, config, shots, val_per_label, val_fraction, seed, slices
        )
        for setting in settings:
            set_seed(seed)
            cfg = copy.deepcopy(config)
            cfg.train.seed, cfg.train.tensorboard = seed, False
            cfg.data.augment.enabled = setting == "on"
            start = time.perf_counter()
            r = _fit_and_score(enc, train, scored, labels, cfg, work / f"{name}-{seed}-{setting}")
            r.update(seed=seed, seconds=round(time.perf_counter() - start, 1))
            runs[setting].append(r)
            print(
                f"{name} seed {seed} augment {setting}: held-out accuracy "
                f"{r['held_out']['accuracy']:.4f} (+{r['added']} texts, {r['seconds']} s)",
                file=sys.stderr,
                flush=True,
            )
    if set(runs) != {"off", "on"}:
        return {"dataset": name, "per_seed": runs}
    return _decide(name, runs, len(train.texts), len(scored[0][0]), shots)


def _decide(
    name: str, runs: dict[str, list[dict[str, Any]]], n_train: int, n_held: int, shots: int
) -> dict[str, Any]:
    """Held-out means per setting, the paired difference, the choice and its test figure."""
    held = {s: [r["held_out"]["accuracy"] for r in runs[s]] for s in runs}
    diff = [on - off for on, off in zip(held["on"], held["off"], strict=True)]
    chosen = "on" if np.mean(diff) > 0 else "off"
    tests = [r["test"]["accuracy"] for r in runs[chosen] if "test" in r]
    return {
        "dataset": name,
        "shots": None if name == BUNDLED else shots,
        "train_texts": n_train,
        "held_out_texts": n_held,
        "seeds": len(held["off"]),
        "added_texts": mean_std([float(r["added"]) for r in runs["on"]]),
        "held_out_accuracy": {s: mean_std(v) for s, v in held.items()},
        "held_out_macro_f1": {
            s: mean_std([r["held_out"]["macro_f1"] for r in runs[s]]) for s in runs
        },
        "on_minus_off": mean_std(diff),
        "seeds_on_better": int(sum(d > 0 for d in diff)),
        "chosen": chosen,
        "test_accuracy_of_chosen": mean_std(tests) if tests else None,
        "per_seed": runs,
    }


def bench_augment(
    enc: SentenceEncoder, datasets: list[str], config: Config, work: Path, **kwargs: Any
) -> dict[str, Any]:
    """:func:`bench_dataset` of each dataset (``banking77``, ``hwu64``, ``bundled``)."""
    a = config.data.augment
    return {
        "benchmark": "augment",
        "augment": {"copies": a.copies, "rate": a.rate, "operations": list(a.operations)},
        "adapt_layers": config.train.adapt.layers,
        "trials": config.tuner.max_trials,
        "datasets": [bench_dataset(enc, d, config, work, **kwargs) for d in datasets],
    }
