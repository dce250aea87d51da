"""``tfcls.train`` on a multi-label dataset (``data.task: multi_label``, or detected).

Steps: load and validate the label sets (:mod:`tfcls.data.multilabel`); split off a seeded
test split (only reported) and a validation part; embed every text once (cached); tune
the sigmoid head on the embeddings (:mod:`tfcls.training.multilabel`, macro-F1 on the
validation part); predict every training text out of fold with the tuned head
(``train.crossfit_folds`` folds); fit each label's Platt scaling and threshold on those
predictions (:mod:`tfcls.decision.label_thresholds`); fit the final head on train + val;
score the test split. The encoder stays frozen (adaptation is single-label only).

The run directory holds what a single-label run holds where it applies: ``config.yaml``,
``splits.json``, ``label_map.json``, ``data.json``, ``run.json`` (``task: multi_label``),
``head.keras`` (raw sigmoid outputs), ``calibration.json`` (``{"task": "multi_label",
"labels": {label: {a, b, threshold}}}``), ``metrics.json`` (out-of-fold and test metrics,
trials). Export, prediction and evaluation of multi-label runs are not built yet; they
refuse such a run with an error naming it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from tfcls.config import Config, to_dict
from tfcls.training import runs
from tfcls.training.runs import Run

TASK = "multi_label"


def is_multi_label(config: Config) -> bool:
    """Whether ``config`` trains a multi-label model (``data.task``, or the data says)."""
    if config.data.task != "auto":
        return config.data.task == TASK
    from tfcls.data.multilabel import multi_label_file

    return multi_label_file(Path(config.data.path))


def _splits(n: int, config: Config, dev_mode: bool) -> dict[str, np.ndarray]:
    """Seeded random train / val / test row indices (``dev_mode``: at most
    ``train.dev_mode_per_label`` × 10 rows)."""
    order = np.random.default_rng(config.train.seed).permutation(n)
    if dev_mode:
        order = order[: config.train.dev_mode_per_label * 10]
    n_test = round(len(order) * config.data.test_fraction)
    n_val = round(len(order) * config.data.val_fraction)
    test, val, train = np.split(order, [n_test, n_test + n_val])
    return {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test)}


def train_multilabel(config: Config, dev_mode: bool = False, name: str | None = None) -> Any:
    """Train a multi-label run (the module doc); returns a :class:`TrainResult`."""
    from tfcls.data.multilabel import load_multilabel
    from tfcls.encoders import load_encoder_from
    from tfcls.training.pipeline import finish_run, record_run

    start = time.perf_counter()
    dataset = load_multilabel(
        config.data.path, config.data.min_per_label, config.data.label_delimiter
    )
    print(dataset.report.summary(), file=sys.stderr)
    splits = _splits(len(dataset.examples), config, dev_mode)
    run_dir = runs.new_run_dir(config.train.output_dir, dataset.sha256, name)
    record_run(run_dir, config, dataset, splits, dev_mode, dataset.label_counts(), TASK)
    print(f"run directory: {run_dir}", file=sys.stderr)
    enc = load_encoder_from(config.encoder)
    x = enc.embed(dataset.texts, batch_size=config.encoder.batch_size, progress=True)
    y, w = dataset.Y, dataset.weights
    metrics: dict[str, Any] = {"task": TASK, "labels": dataset.labels}
    if config.train.adapt.layers:  # said, not silently dropped
        metrics["adapt_skipped"] = (
            f"train.adapt.layers={config.train.adapt.layers}: multi-label runs keep the "
            "encoder frozen so far (bench goemotions --adapt-layers measures adaptation)"
        )
        print(f"note: {metrics['adapt_skipped']}", file=sys.stderr)
    trials = config.train.dev_mode_trials if dev_mode else config.tuner.max_trials
    _fit_and_score(run_dir, config, (x, y, w), splits, dataset.labels, trials, metrics)
    metrics["timings_s"] = {"total": round(time.perf_counter() - start, 1)}
    return finish_run(run_dir, metrics)


def _fit_and_score(
    run_dir: Path,
    config: Config,
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    splits: dict[str, np.ndarray],
    labels: list[str],
    trials: int,
    metrics: dict[str, Any],
) -> None:
    """Tune, choose the decision out of fold, fit the final head, score; write the head,
    calibration.json and the metrics into ``metrics``."""
    from tfcls.decision.label_thresholds import choose
    from tfcls.evaluation.multilabel_metrics import multilabel_metrics
    from tfcls.training import multilabel as ml

    x, y, w = data
    tr, va, te = splits["train"], splits["val"], splits["test"]
    if config.tuner.enabled and len(va):
        hp, epochs, summary = ml.tune(
            (x[tr], y[tr]), (x[va], y[va]), config, run_dir / "tuner", trials
        )
        metrics["trials"] = summary
    else:
        hp, epochs = config.model, config.train.epochs
        if len(va):
            _, epochs = ml.fit_multilabel_head((x[tr], y[tr], w[tr]), (x[va], y[va]), hp, config)
    fit = np.sort(np.concatenate([tr, va]))
    oof = ml.out_of_fold(x[fit], y[fit], w[fit], hp, config, config.train.crossfit_folds, epochs)
    decision = choose(
        oof,
        y[fit],
        labels,
        config.decision.label_thresholds,
        config.decision.target_precision,
        weights=w[fit],
        calibrate=config.decision.calibrate,
    )
    head, _ = ml.fit_multilabel_head((x[fit], y[fit], w[fit]), None, hp, config, epochs)
    head.save(run_dir / Run.HEAD)
    runs.write_json(run_dir / Run.CALIBRATION, {"task": TASK, "labels": decision.to_dict()})
    metrics["hyperparameters"] = to_dict(hp)
    metrics["epochs"] = epochs
    metrics["oof"] = multilabel_metrics(
        y[fit], decision.predict(oof), decision.calibrate(oof), labels
    )
    if len(te):
        raw = ml.predict(head, x[te])
        metrics["test"] = multilabel_metrics(
            y[te], decision.predict(raw), decision.calibrate(raw), labels
        )
        metrics["test_fixed_0_5"] = {
            k: v
            for k, v in multilabel_metrics(y[te], (raw >= 0.5).astype(np.int8), raw, labels).items()
            if k != "per_label"
        }
