"""Public benchmarks: BANKING77 and HWU64 intent accuracy, few-shot and full, and unknown
intents.

Accuracy protocol (``python -m tfcls.bench banking77|hwu64 --shots 10|30|full``): for each
seed, sample ``shots`` texts per intent from the official train split (``full``: all of
it), train on the sample exactly as ``python -m tfcls.train`` does (``tfcls.training.crossfit``:
the tuner on an internal validation part of the sample, encoder adaptation chosen out of
fold, the final model on every shot; the config's levers included: ``train.adapt``,
``train.contrastive``, the tuner's search space), so few-shot runs never see more labelled
texts than the shots, and score the official test split. Few-shot figures are mean ± std over seeds,
each seed drawing a new sample.

Unknown protocol (``python -m tfcls.bench unknown``): per seed, a random
``known_fraction`` of the intents is known (or, with ``--unknown-from OTHER``, all of
them, and every test text of the other dataset is unknown); the default procedure trains
on the known texts only and the test texts are decided by the rule it ships: the unknown
threshold from out-of-fold known texts only (``decision.known_recall``), as it must be in
deployment, then auto-select only above it.
"""

from __future__ import annotations

import copy
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from tfcls.config import Config, to_dict
from tfcls.data.dataset import Dataset, load_dataset
from tfcls.data.splits import stratified_subsample
from tfcls.decision import calibration
from tfcls.decision import unknown as ood
from tfcls.encoders.encoder import SentenceEncoder
from tfcls.errors import TfclsError
from tfcls.evaluation.metrics import classification_metrics
from tfcls.resources import datasets_dir

DATASETS = ("banking77", "hwu64")
# Published test accuracies (%) beside which BENCHMARKS.md puts ours.
PUBLISHED: dict[str, dict[str, dict[str, float]]] = {
    "banking77": {
        "10": {
            "USE + MLP (Casanueva et al. 2020)": 84.23,
            "ConveRT + MLP (Casanueva et al. 2020)": 83.32,
            "USE+ConveRT + MLP (Casanueva et al. 2020)": 85.19,
            "CPFT, fine-tuned RoBERTa-base (Zhang et al. 2021)": 87.2,
        },
        "8": {"all-MiniLM-L6-v2 linear probe (MTEB)": 79.75},
        "full": {
            "USE+ConveRT + MLP (Casanueva et al. 2020)": 93.36,
            "BERT-large fine-tuned (Casanueva et al. 2020)": 93.66,
        },
    },
    "hwu64": {"10": {"CPFT, fine-tuned RoBERTa-base (Zhang et al. 2021)": 87.1}},
}
# issue 11's targets: CPFT (Zhang et al. 2021) at 10 shots, fine-tuned BERT-large in full
TARGETS = {("banking77", "10"): 87.2, ("hwu64", "10"): 87.1, ("banking77", "full"): 93.7}


def load_public(
    name: str, labels: int | None = None, test_per_label: int | None = None
) -> tuple[Dataset, Dataset]:
    """(train, test) of a public dataset, test labels as train's class ids.

    ``labels`` keeps the first N intents (sorted) and ``test_per_label`` caps the test
    texts per intent: a small slice for tests of the benchmark itself.
    """
    root = datasets_dir() / name
    paths = [root / "train.jsonl", root / "test.jsonl"]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise TfclsError(
            f"{', '.join(missing)}: not found; set TFCLS_DATASETS to the folder holding "
            f"{name}/train.jsonl and {name}/test.jsonl"
        )
    train, test = (load_dataset(p, min_per_label=1) for p in paths)
    extra = sorted(set(test.labels) - set(train.labels))
    if extra:
        raise TfclsError(f"{paths[1]}: labels missing from train.jsonl: {', '.join(extra)}")
    keep = train.labels[:labels] if labels else train.labels
    train = _restrict(train, keep)
    test = _restrict(test, keep)
    if test_per_label:
        test = test.subset(stratified_subsample(test.y, test_per_label, None, 0))
    return train, test


def _restrict(ds: Dataset, labels: list[str]) -> Dataset:
    """The examples of ``labels`` only, with exactly those labels (class ids renumbered)."""
    keep = set(labels)
    picked = [e for e in ds.examples if e.label in keep]
    return Dataset(ds.path, ds.sha256, picked, sorted(keep), ds.report)


def mean_std(values: list[float]) -> dict[str, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    a = np.asarray(values, dtype=np.float64)
    return {"mean": float(a.mean()), "std": float(a.std(ddof=1)) if len(a) > 1 else 0.0}


def _unseen_separation(
    report: dict[str, Any],
    frozen: SentenceEncoder,
    tuned: SentenceEncoder,
    unseen: Dataset,
    cfg: Config,
) -> dict[str, Any]:
    """The contrastive report plus label separation, frozen vs tuned, on up to 20 texts
    per label of the train split that were not among the shots (never the test split):
    does the tuning generalise, or does it only pull its own few texts together?"""
    from tfcls.training.contrastive import label_separation

    seed = cfg.train.seed
    part = unseen.subset(stratified_subsample(unseen.y, 20, None, seed))
    batch = cfg.encoder.batch_size
    return {
        **report,
        "unseen_texts": len(part.texts),
        "unseen_separation_frozen": label_separation(frozen.embed(part.texts, batch), part.y, seed),
        "unseen_separation_tuned": label_separation(tuned.embed(part.texts, batch), part.y, seed),
    }


def run_seed(
    enc: SentenceEncoder,
    train: Dataset,
    test: Dataset,
    shots: int | None,
    seed: int,
    config: Config,
    work: Path,
) -> dict[str, Any]:
    """One seed of the accuracy protocol: the steps of ``tfcls.train``
    (``tfcls.training.steps``: contrastive tuning if enabled, embedding, the cross-fitted
    fit with encoder adaptation) on the sampled shots, then the official test split;
    returns test accuracy, macro-F1 and what ran."""
    from tfcls.training import steps
    from tfcls.training.head_fit import set_seed

    start = time.perf_counter()
    cfg = copy.deepcopy(config)
    cfg.train.seed = seed
    cfg.train.tensorboard = False
    set_seed(seed)
    picked = stratified_subsample(train.y, shots, None, seed)
    sample = train.subset(picked)
    texts, y = sample.texts, sample.y
    # a tuned encoder is used once: its embeddings are not worth caching on disk
    embedded = steps.shape_and_embed(enc, texts, y, cfg, work, use_cache=False)
    contrastive = embedded.contrastive
    if contrastive is not None:
        unseen = train.subset(np.setdiff1d(np.arange(len(train.y)), picked))
        contrastive = _unseen_separation(contrastive, enc, embedded.encoder, unseen, cfg)
    n = len(train.labels)
    fitted = steps.fit_step(embedded, texts, y, sample.weights, n, cfg, work, cfg.tuner.max_trials)
    proba = steps.predict_texts(fitted, embedded.encoder, test.texts, cfg)
    m = classification_metrics(test.y, proba, train.labels)
    out: dict[str, Any] = {"seed": seed, "train": len(texts), "crossfit": fitted.report}
    if contrastive is not None:
        out["contrastive"] = contrastive
    out.update(
        accuracy=m["accuracy"],
        macro_f1=m["macro_f1"],
        hyperparameters=to_dict(fitted.hp),
        trials=len(fitted.tuner_summary),
        seconds=round(time.perf_counter() - start, 1),
    )
    print(
        f"seed {seed}: test accuracy {m['accuracy']:.4f}, macro-F1 {m['macro_f1']:.4f} "
        f"({out['seconds']} s)",
        file=sys.stderr,
        flush=True,
    )
    return out


def bench_accuracy(
    enc: SentenceEncoder,
    name: str,
    shots: int | None,
    seeds: int,
    config: Config,
    work: Path,
    labels: int | None = None,
    test_per_label: int | None = None,
) -> dict[str, Any]:
    """The accuracy protocol over ``seeds`` seeds (config.train.seed, +1, ...)."""
    train, test = load_public(name, labels, test_per_label)
    per_seed = []
    for i in range(seeds):
        seed = config.train.seed + i
        per_seed.append(run_seed(enc, train, test, shots, seed, config, work / f"seed{seed}"))
        shutil.rmtree(work / f"seed{seed}", ignore_errors=True)  # tuned encoders are big
    key = "full" if shots is None else str(shots)
    return {
        "benchmark": name,
        "shots": key,
        "seeds": seeds,
        "adapt_layers": config.train.adapt.layers,
        "labels": len(train.labels),
        "train_texts": len(train.examples),
        "test_texts": len(test.examples),
        "accuracy": mean_std([s["accuracy"] for s in per_seed]),
        "macro_f1": mean_std([s["macro_f1"] for s in per_seed]),
        "per_seed": per_seed,
        "published": PUBLISHED.get(name, {}).get(key, {}),
        "target": None if labels or test_per_label else TARGETS.get((name, key)),
    }


def _unknown_seed(
    enc: SentenceEncoder,
    known: Dataset,
    test_texts: list[str],
    y_test: np.ndarray,
    config: Config,
    work: Path,
) -> dict[str, Any]:
    """Train the default procedure on ``known``; score ``test_texts`` (``y_test`` −1 for
    unknown) with the decision rule it ships: unknown first (its out-of-fold threshold),
    then auto-select (raised to the unknown threshold)."""
    from tfcls.training import crossfit, steps

    x = enc.embed(known.texts, batch_size=config.encoder.batch_size)
    n = len(known.labels)
    fitted = crossfit.fit(known.texts, known.y, known.weights, x, n, config, work, enc.modules)
    calib, _ = crossfit.calibrate(fitted, known.y, x, config.decision)
    raw = steps.predict_texts(fitted, enc, test_texts, config)
    proba = calibration.apply_temperature(raw, calib["temperature"])
    is_unknown, correct = y_test < 0, proba.argmax(axis=1) == y_test
    scores = proba.max(axis=1)
    result = ood.evaluate_detection(calib["unknown"]["threshold"], scores, is_unknown, correct)
    auto = scores >= calib["threshold"]["threshold"]
    result.update(
        known_labels=n,
        closed_set_accuracy=float(correct[~is_unknown].mean()),
        auto_select_threshold=calib["threshold"]["threshold"],
        unknown_auto_selected=float(auto[is_unknown].mean()),
        known_auto_selected=float(auto[~is_unknown].mean()),
    )
    return result


def bench_unknown(
    enc: SentenceEncoder,
    name: str,
    known_fraction: float,
    seeds: int,
    shots: int | None,
    config: Config,
    work: Path,
    labels: int | None = None,
    test_per_label: int | None = None,
    unknown_from: str | None = None,
) -> dict[str, Any]:
    """Unknown-text detection by the shipped decision rule of the default procedure.

    Within a dataset: per seed a random ``known_fraction`` of the intents is known, the
    others' test texts should be flagged unknown. Cross-dataset (``unknown_from``): every
    intent of ``name`` is known, and every test text of the other dataset is unknown.
    """
    if not 0 < known_fraction < 1:
        raise TfclsError(f"--known-fraction must be in (0, 1), got {known_fraction}")
    train, test = load_public(name, labels, test_per_label)
    other = None if unknown_from is None else load_public(unknown_from, labels, test_per_label)[1]
    n_known = max(2, round(known_fraction * len(train.labels)))
    per_seed = []
    for i in range(seeds):
        seed = config.train.seed + i
        cfg = copy.deepcopy(config)
        cfg.train.seed, cfg.train.tensorboard = seed, False
        sample, remap = _known_sample(train, n_known if other is None else None, shots, seed)
        test_texts, y_test = test.texts, remap[test.y]
        if other is not None:
            test_texts = test_texts + other.texts
            y_test = np.concatenate([y_test, np.full(len(other.examples), -1)])
        result = _unknown_seed(enc, sample, test_texts, y_test, cfg, work / f"seed{seed}")
        result["seed"] = seed
        per_seed.append(result)
        shutil.rmtree(work / f"seed{seed}", ignore_errors=True)
        print(
            f"seed {seed}: AUROC {result['auroc']:.4f}, unknown recall "
            f"{result['unknown_recall']:.4f}, in-scope accuracy {result['in_scope_accuracy']:.4f}",
            file=sys.stderr,
            flush=True,
        )
    return {
        "benchmark": "unknown",
        "dataset": name,
        "unknown_from": unknown_from or f"held-out {1 - known_fraction:.0%} of {name}'s intents",
        "known_fraction": None if other is not None else known_fraction,
        "known_recall": config.decision.known_recall,
        "shots": "full" if shots is None else str(shots),
        "seeds": seeds,
        "score": config.decision.unknown_score,
        **_unknown_means(per_seed),
        "per_seed": per_seed,
    }


def _known_sample(
    train: Dataset, n_known: int | None, shots: int | None, seed: int
) -> tuple[Dataset, np.ndarray]:
    """(the training sample of the known intents, train class id → known id or −1).

    ``n_known`` intents are drawn at random (``None``: all are known); then up to ``shots``
    texts of each known intent (``None``: all of them).
    """
    if n_known is not None:
        known = np.sort(np.random.default_rng(seed).permutation(len(train.labels))[:n_known])
    else:
        known = np.arange(len(train.labels))
    remap = np.full(len(train.labels), -1)
    remap[known] = np.arange(len(known))
    rows = np.flatnonzero(remap[train.y] >= 0)
    rows = rows[stratified_subsample(remap[train.y[rows]], shots, None, seed)]
    kept = [train.labels[k] for k in known]
    examples = [train.examples[r] for r in rows]
    return Dataset(train.path, train.sha256, examples, kept, train.report), remap


def _unknown_means(per_seed: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean ± std over the seeds of each unknown-detection figure."""
    keys = (
        "auroc",
        "unknown_recall",
        "in_scope_accuracy",
        "known_kept",
        "closed_set_accuracy",
        "unknown_auto_selected",
    )
    return {k: mean_std([r[k] for r in per_seed]) for k in keys}
