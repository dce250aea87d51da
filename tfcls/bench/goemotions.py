"""``python -m tfcls.bench goemotions``: multi-label emotions, 28 labels, official splits.

GoEmotions (Demszky et al. 2020; ``$TFCLS_DATASETS/goemotions``, ``SOURCE.md`` there) has
official train / dev / test files. The protocol follows the paper's baseline: fit on
train, choose each label's threshold on dev, score test once. Here: the browser-sized
encoder's embeddings (cached), KerasTuner over the sigmoid head with dev as its validation
part (:mod:`tfcls.training.multilabel`), the head refitted on train with early stopping on
dev, per-label Platt scaling and thresholds fitted on dev
(:mod:`tfcls.decision.label_thresholds`), and test metrics
(:mod:`tfcls.evaluation.multilabel_metrics`), beside a fixed 0.5 threshold for contrast.
The published fine-tuned BERT-base baseline: test macro-F1 0.46.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from tfcls.bench.speed import machine_info
from tfcls.config import Config
from tfcls.resources import datasets_dir

BASELINE_MACRO_F1 = 0.46  # Demszky et al. 2020, BERT-base fine-tuned, thresholds on dev
SPLITS = ("train", "dev", "test")
HPARAMS = ("units", "dropout", "learning_rate", "l2", "batch_size", "loss")


def _sample(part: Any, n: int | None) -> Any:
    """At most ``n`` rows of a split (seeded, in file order)."""
    if n is None or n >= len(part.examples):
        return part
    rows = np.random.default_rng(0).permutation(len(part.examples))[:n]
    return part.subset(np.sort(rows))


def _load(folder: Path, n_train: int | None, n_eval: int | None) -> dict[str, Any]:
    """The three splits on one label list (train's); at most ``n_train`` training texts and
    ``n_eval`` dev and test texts (quick runs; the figures use every text)."""
    from tfcls.data.multilabel import load_multilabel

    # the official files repeat some texts with other label sets (raters disagree): every
    # row is kept, as the paper's baseline keeps them
    parts = {
        s: load_multilabel(folder / f"{s}.jsonl", min_per_label=1, conflicts="keep") for s in SPLITS
    }
    labels = parts["train"].labels
    for name, part in parts.items():
        if part.labels != labels:
            missing = sorted(set(labels) ^ set(part.labels))
            raise ValueError(f"{folder / name}.jsonl: labels differ from train's: {missing}")
    limits = {"train": n_train, "dev": n_eval, "test": n_eval}
    return {"labels": labels, **{s: _sample(parts[s], limits[s]) for s in SPLITS}}


def _adapt(
    modules: Any,
    head: Any,
    texts: dict[str, list[str]],
    y: dict[str, np.ndarray],
    layers: int,
    config: Config,
    hp: Any,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Adapt the top ``layers`` layers with the (warm) head on train
    (:func:`tfcls.training.multilabel_adapt.adapt_scored`, what multi-label ``tfcls.train``
    runs per fold); score dev after each epoch; return the dev and test outputs of the best
    dev epoch and a report."""
    from tfcls.training.adapt import AdaptSettings, lower_states
    from tfcls.training.multilabel_adapt import adapt_scored, best_epoch

    lower = {s: lower_states(modules, texts[s], layers) for s in SPLITS}
    rows = {s: np.arange(len(texts[s])) for s in SPLITS}
    train = (rows["train"], y["train"], np.ones(len(rows["train"]), np.float32))
    targets = {s: (lower[s], rows[s]) for s in ("dev", "test")}
    settings = AdaptSettings.of(config.train.adapt, config.train.seed, hp, multi_label=True)
    _, per_epoch = adapt_scored(lower["train"], head, train, settings, targets)
    best, scores = best_epoch([e["dev"] for e in per_epoch], y["dev"])
    for epoch, score in enumerate(scores, 1):
        print(f"adaptation epoch {epoch}: dev macro-F1 {score:.4f}", file=sys.stderr)
    report = {
        "layers": layers,
        "epochs_scheduled": config.train.adapt.epochs,
        "epoch_chosen_on_dev": best + 1,
        "dev_macro_f1_per_epoch": scores,
    }
    return per_epoch[best]["dev"], per_epoch[best]["test"], report


def bench_goemotions(
    config: Config,
    n_train: int | None = None,
    trials: int | None = None,
    n_eval: int | None = None,
    adapt_layers: int = 0,
) -> dict[str, Any]:
    """The protocol of the module doc; returns the figures (JSON-able). ``adapt_layers``
    > 0 also fine-tunes the encoder's top layers with the head (:mod:`tfcls.training.
    multilabel_adapt`) on train, keeping the epoch with the best dev macro-F1."""
    from tfcls.decision.label_thresholds import choose
    from tfcls.encoders import load_encoder_from
    from tfcls.evaluation.multilabel_metrics import multilabel_metrics
    from tfcls.training import multilabel as ml

    t0 = time.perf_counter()
    data = _load(datasets_dir() / "goemotions", n_train, n_eval)
    labels, enc = data["labels"], load_encoder_from(config.encoder)
    x = {s: enc.embed(data[s].texts, config.encoder.batch_size, progress=True) for s in SPLITS}
    y = {s: data[s].Y for s in SPLITS}
    embed_s = time.perf_counter() - t0
    trials = trials or config.tuner.max_trials
    with tempfile.TemporaryDirectory(prefix="tfcls-goemotions-") as tmp:
        hp, epochs, summary = ml.tune(
            (x["train"], y["train"], None), (x["dev"], y["dev"], None), config, Path(tmp), trials
        )
    head, kept = ml.fit_multilabel_head(
        (x["train"], y["train"], data["train"].weights), (x["dev"], y["dev"]), hp, config
    )
    p_dev, p_test = ml.predict(head, x["dev"]), ml.predict(head, x["test"])
    adapted = None
    if adapt_layers:
        texts = {s: data[s].texts for s in SPLITS}
        p_dev, p_test, adapted = _adapt(enc.modules, head, texts, y, adapt_layers, config, hp)
    decision = choose(
        p_dev, y["dev"], labels, config.decision.label_thresholds, config.decision.target_precision
    )
    test = multilabel_metrics(
        y["test"], decision.predict(p_test), decision.calibrate(p_test), labels
    )
    fixed = multilabel_metrics(y["test"], (p_test >= 0.5).astype(np.int8), p_test, labels)
    print(f"goemotions: test macro-F1 {test['macro_f1']:.4f}", file=sys.stderr, flush=True)
    return {
        "benchmark": "goemotions",
        "encoder": config.encoder.handle,
        "labels": len(labels),
        "texts": {s: len(data[s].examples) for s in SPLITS},
        "conflicting_rows_kept": {s: len(data[s].conflicts) for s in SPLITS},
        "hyperparameters": {k: getattr(hp, k) for k in HPARAMS},
        "epochs": kept,
        "tuner_epochs": epochs,
        "adaptation": adapted,
        "trials": summary,
        "test": test,
        "test_fixed_0_5": {k: v for k, v in fixed.items() if k != "per_label"},
        "dev_thresholds": decision.to_dict(),
        "baseline_macro_f1": BASELINE_MACRO_F1,
        "seconds": {"embed": round(embed_s, 1), "total": round(time.perf_counter() - t0, 1)},
        "machine": machine_info(),
    }
