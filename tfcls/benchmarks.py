"""Public benchmarks: BANKING77 and HWU64 intent accuracy, few-shot and full, and unknown
intents.

Accuracy protocol (``python -m tfcls.bench banking77|hwu64 --shots 10|30|full``): for each
seed, sample ``shots`` texts per intent from the official train split (``full``: all of
it), carve a stratified validation part from that sample (``data.val_fraction``; it tunes
the head and stops training early, so few-shot runs never see more labelled texts than
the shots), train as ``python -m tfcls.train`` does (the config's levers included:
``train.contrastive``, ``train.fine_tune``, the tuner's search space), then (unless
``--no-refit``) retrain the chosen head on the whole sample for the epochs validation
chose, and score the official test split. Few-shot figures are mean ± std over seeds,
each seed drawing a new sample.

Unknown protocol (``python -m tfcls.bench unknown``): per seed, a random
``known_fraction`` of the intents is known; the model trains on their texts only and is
tested on the whole test split, where texts of the other intents should be flagged
unknown. Every score's threshold comes from known validation texts only
(``decision.known_recall``), as it must in deployment.
"""

from __future__ import annotations

import copy
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from tfcls import calibration, ood
from tfcls.config import Config, to_dict
from tfcls.data import Dataset, load_dataset
from tfcls.encoders.encoder import SentenceEncoder
from tfcls.errors import TfclsError
from tfcls.metrics import classification_metrics
from tfcls.splits import stratified_split, stratified_subsample

REPO = Path(__file__).resolve().parents[1]
DATASETS = ("banking77", "hwu64")
# Published test accuracies (%) beside which BENCHMARKS.md puts ours.
PUBLISHED: dict[str, dict[str, dict[str, float]]] = {
    "banking77": {
        "10": {
            "USE + MLP (Casanueva et al. 2020)": 84.23,
            "ConveRT + MLP (Casanueva et al. 2020)": 83.32,
            "USE+ConveRT + MLP (Casanueva et al. 2020)": 85.19,
        },
        "8": {"all-MiniLM-L6-v2 linear probe (MTEB)": 79.75},
        "full": {
            "USE+ConveRT + MLP (Casanueva et al. 2020)": 93.36,
            "BERT-large fine-tuned (Casanueva et al. 2020)": 93.66,
        },
    },
}
TARGETS = {("banking77", "10"): 85.2, ("banking77", "full"): 93.4}


def datasets_dir() -> Path:
    """Public benchmark datasets: $TFCLS_DATASETS, else ../shared/datasets beside the repo."""
    env = os.environ.get("TFCLS_DATASETS")
    return Path(env) if env else REPO.parent / "shared" / "datasets"


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


def _encoder_for(
    enc: SentenceEncoder, texts: list[str], y: np.ndarray, config: Config, work: Path
) -> tuple[SentenceEncoder, dict[str, Any] | None]:
    """The frozen encoder, or (train.contrastive) one tuned SetFit-style on the texts."""
    if not config.train.contrastive:
        return enc, None
    from tfcls.finetune import contrastive_fine_tune

    report = contrastive_fine_tune(enc.modules, texts, y, config, work / "contrastive")
    return _tuned(report["encoder"], config), report


def _tuned(path: str, config: Config) -> SentenceEncoder:
    """A tuned encoder, used once: its embeddings are not worth caching on disk."""
    from tfcls.encoders import load_encoder

    return load_encoder(path, cache_dir=config.encoder.cache_dir, use_cache=False)


def refit_head(
    x: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    hp: Any,
    history: dict[str, list[float]],
    seed: int,
) -> tuple[Any, int]:
    """The chosen head trained afresh on all of ``x`` (train + validation) for the number
    of epochs at which validation loss was lowest; few-shot runs then use every shot."""
    from tfcls.model import head_from_config, make_dataset, one_hot
    from tfcls.train import set_seed

    epochs = int(np.argmin(history["val_loss"])) + 1
    set_seed(seed)
    head = head_from_config(n_classes, x.shape[1], hp)
    head.fit(
        make_dataset(x, one_hot(y, n_classes), hp.batch_size, seed=seed),
        epochs=epochs,
        shuffle=False,
        verbose=0,
    )
    return head, epochs


def run_seed(
    enc: SentenceEncoder,
    train: Dataset,
    test: Dataset,
    shots: int | None,
    seed: int,
    config: Config,
    work: Path,
    refit: bool = True,
) -> dict[str, Any]:
    """One seed of the accuracy protocol; returns test accuracy, macro-F1 and what ran.

    With ``refit`` the head is finally retrained on the whole sample (see ``refit_head``);
    not with ``train.fine_tune``, whose keep-or-drop decision needs unseen validation.
    """
    from tfcls.train import select_and_fit, set_seed

    start = time.perf_counter()
    cfg = copy.deepcopy(config)
    cfg.train.seed = seed
    cfg.train.tensorboard = False
    set_seed(seed)
    sample = train.subset(stratified_subsample(train.y, shots, None, seed))
    tr, val, _ = stratified_split(sample.y, cfg.data.val_fraction, 0.0, seed, labels=sample.labels)
    texts, y = sample.texts, sample.y
    encoder, contrastive = _encoder_for(enc, [texts[i] for i in tr], y[tr], cfg, work)
    x = encoder.embed(texts, batch_size=cfg.encoder.batch_size)
    x_test = encoder.embed(test.texts, batch_size=cfg.encoder.batch_size)
    n = len(train.labels)
    head, hp, summary, history = select_and_fit(
        x[tr], y[tr], x[val], y[val], n, cfg, work, cfg.tuner.max_trials
    )
    out: dict[str, Any] = {"seed": seed, "train": len(tr), "val": len(val)}
    if refit and not cfg.train.fine_tune:
        head, out["refit_epochs"] = refit_head(x, y, n, hp, history, seed)
    if contrastive is not None:
        out["contrastive"] = contrastive
    if cfg.train.fine_tune:
        from tfcls.finetune import fine_tune

        report = fine_tune(
            encoder.modules,
            head,
            {"train": [texts[i] for i in tr], "val": [texts[i] for i in val]},
            {"train": y[tr], "val": y[val]},
            n,
            hp.label_smoothing,
            cfg,
            work,
        )
        out["fine_tune"] = report
        if report["kept"]:
            tuned = _tuned(report["encoder"], cfg)
            x_test = tuned.embed(test.texts, batch_size=cfg.encoder.batch_size)
    m = classification_metrics(test.y, head.predict(x_test, verbose=0), train.labels)
    out.update(
        accuracy=m["accuracy"],
        macro_f1=m["macro_f1"],
        hyperparameters=to_dict(hp),
        trials=len(summary),
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
    refit: bool = True,
) -> dict[str, Any]:
    """The accuracy protocol over ``seeds`` seeds (config.train.seed, +1, ...)."""
    train, test = load_public(name, labels, test_per_label)
    per_seed = []
    for i in range(seeds):
        seed = config.train.seed + i
        per_seed.append(
            run_seed(enc, train, test, shots, seed, config, work / f"seed{seed}", refit)
        )
        shutil.rmtree(work / f"seed{seed}", ignore_errors=True)  # tuned encoders are big
    key = "full" if shots is None else str(shots)
    return {
        "benchmark": name,
        "shots": key,
        "seeds": seeds,
        "refit": refit,
        "labels": len(train.labels),
        "train_texts": len(train.examples),
        "test_texts": len(test.examples),
        "accuracy": mean_std([s["accuracy"] for s in per_seed]),
        "macro_f1": mean_std([s["macro_f1"] for s in per_seed]),
        "per_seed": per_seed,
        "published": PUBLISHED.get(name, {}).get(key, {}),
        "target": None if labels or test_per_label else TARGETS.get((name, key)),
    }


def detection_scores(
    head: Any,
    temperature: float,
    x: np.ndarray,
    references: np.ndarray,
    class_centroids: np.ndarray,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every compared unknown score for ``x`` (higher = more known) and the predictions."""
    from tfcls.model import head_logits

    proba = calibration.apply_temperature(head.predict(x, verbose=0, batch_size=1024), temperature)
    scores = {
        "max_softmax": proba.max(axis=1),
        "energy": ood.energy(head_logits(head, x)),
        "centroid": ood.nearest_similarity(x, class_centroids),
        "nearest": ood.nearest_similarity(x, references),
    }
    return scores, proba.argmax(axis=1)


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
) -> dict[str, Any]:
    """Unknown-intent detection: every score in ``ood.SCORES`` on the same trained heads."""
    from tfcls.train import select_and_fit, set_seed

    if not 0 < known_fraction < 1:
        raise TfclsError(f"--known-fraction must be in (0, 1), got {known_fraction}")
    train, test = load_public(name, labels, test_per_label)
    x_all = enc.embed(train.texts, batch_size=config.encoder.batch_size)
    x_test = enc.embed(test.texts, batch_size=config.encoder.batch_size)
    n_known = max(2, round(known_fraction * len(train.labels)))
    per_seed = []
    for i in range(seeds):
        seed = config.train.seed + i
        cfg = copy.deepcopy(config)
        cfg.train.seed, cfg.train.tensorboard = seed, False
        set_seed(seed)
        known = np.sort(np.random.default_rng(seed).permutation(len(train.labels))[:n_known])
        remap = np.full(len(train.labels), -1)
        remap[known] = np.arange(n_known)
        rows = np.flatnonzero(remap[train.y] >= 0)
        y = remap[train.y[rows]]
        rows = rows[stratified_subsample(y, shots, None, seed)]
        y = remap[train.y[rows]]
        tr, val, _ = stratified_split(y, cfg.data.val_fraction, 0.0, seed)
        x_tr, x_val = x_all[rows[tr]], x_all[rows[val]]
        head, *_ = select_and_fit(
            x_tr, y[tr], x_val, y[val], n_known, cfg, work / f"seed{seed}", cfg.tuner.max_trials
        )
        temperature = calibration.fit_temperature(head.predict(x_val, verbose=0), y[val])
        cents = ood.centroids(x_tr, y[tr], n_known)
        val_scores, _ = detection_scores(head, temperature, x_val, x_tr, cents)
        test_scores, pred = detection_scores(head, temperature, x_test, x_tr, cents)
        y_test = remap[test.y]
        is_unknown = y_test < 0
        correct = pred == y_test
        result: dict[str, Any] = {"seed": seed, "known_labels": int(n_known)}
        for score in ood.SCORES:
            threshold = ood.unknown_threshold(val_scores[score], cfg.decision.known_recall)
            result[score] = ood.evaluate_detection(
                threshold, test_scores[score], is_unknown, correct
            )
        result["closed_set_accuracy"] = float(correct[~is_unknown].mean())
        per_seed.append(result)
        shutil.rmtree(work / f"seed{seed}", ignore_errors=True)
        print(
            f"seed {seed}: "
            + ", ".join(
                f"{s} AUROC {result[s]['auroc']:.4f} recall {result[s]['unknown_recall']:.4f}"
                for s in ood.SCORES
            ),
            file=sys.stderr,
            flush=True,
        )
    summary = {
        score: {
            key: mean_std([r[score][key] for r in per_seed])
            for key in ("auroc", "unknown_recall", "in_scope_accuracy", "known_kept")
        }
        for score in ood.SCORES
    }
    best = max(ood.SCORES, key=lambda s: summary[s]["auroc"]["mean"])
    return {
        "benchmark": "unknown",
        "dataset": name,
        "known_fraction": known_fraction,
        "known_recall": config.decision.known_recall,
        "shots": "full" if shots is None else str(shots),
        "seeds": seeds,
        "scores": summary,
        "best_auroc": best,
        "shipped": ood.SHIPPED,
        "closed_set_accuracy": mean_std([r["closed_set_accuracy"] for r in per_seed]),
        "per_seed": per_seed,
    }
