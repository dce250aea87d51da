"""``python -m tfcls.train``: dataset → embeddings (cached) → tuned head → run directory.

Steps: load and validate the dataset; split it (stratified, seeded); embed every text once
(the embedding cache makes a second run nearly free); search the head with KerasTuner on
the embeddings; fit the best head with early stopping, ReduceLROnPlateau and
best-checkpointing; evaluate on the held-out test split; save the head alone and the full
string-input model. ``--resume RUN_DIR`` continues an interrupted run, tuner included.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tfcls import cli

cli.quiet_tensorflow()

import keras
import numpy as np
import tensorflow as tf

from tfcls import calibration, ood, runs, tuning
from tfcls import data as data_mod
from tfcls import splits as splits_mod
from tfcls.config import Config, dump_yaml, load_config, to_dict
from tfcls.errors import TfclsError
from tfcls.metrics import classification_metrics
from tfcls.model import (
    full_model,
    head_from_config,
    hparams_to_config,
    make_dataset,
    one_hot,
)


def set_seed(seed: int) -> None:
    """Seed Python, numpy and TF, and make TF ops deterministic (same seed, same run)."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def make_strategy(name: str) -> tf.distribute.Strategy | None:
    """``train.strategy`` → a tf.distribute strategy (None: TensorFlow's default).

    ``mirrored`` replicates over this machine's GPUs (or the CPU); ``multi_worker`` runs
    synchronous training over the workers named in ``TF_CONFIG`` (a single worker without
    it). Create it before any other TensorFlow work: collective ops are set up at start.
    """
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return None


def class_weights(y: np.ndarray, n_classes: int) -> dict[int, float]:
    """Weights inversely proportional to class frequency (mean weight 1)."""
    counts = np.bincount(y, minlength=n_classes).astype(float)
    weights = len(y) / (n_classes * np.maximum(counts, 1))
    return {i: float(w) for i, w in enumerate(weights)}


def _prepare_run(config: Config, args: Any) -> tuple[Path, data_mod.Dataset, dict[str, Any]]:
    """Create (or reopen, on --resume) the run directory; load data; fix the splits."""
    if args.resume:
        run_dir = Path(args.resume)
        dataset = runs.load_run_data(
            run_dir, config.data.min_per_label, "start a new run instead of resuming"
        )
        splits = runs.read_json(run_dir / "splits.json")
        return run_dir, dataset, splits
    dataset = data_mod.load_dataset(config.data.path, config.data.min_per_label)
    print(dataset.report.summary(), file=sys.stderr)
    keep = np.arange(len(dataset.examples))
    if args.dev_mode:
        keep = splits_mod.stratified_subsample(
            dataset.y, config.train.dev_mode_per_label, None, config.train.seed
        )
    train, val, test = splits_mod.stratified_split(
        dataset.y[keep],
        config.data.val_fraction,
        config.data.test_fraction,
        config.train.seed,
        labels=dataset.labels,
    )
    splits = {"train": keep[train], "val": keep[val], "test": keep[test]}
    name = args.name
    if tuning.distributed_role() == "worker":  # one run directory per worker
        name = (
            f"{name or runs.default_run_name(dataset.sha256)}-{os.environ['KERASTUNER_TUNER_ID']}"
        )
    run_dir = runs.new_run_dir(config.train.output_dir, dataset.sha256, name)
    dump_yaml(config, run_dir / "config.yaml")
    runs.write_json(run_dir / "splits.json", splits)
    runs.write_json(run_dir / "label_map.json", dataset.label_map())
    runs.write_json(
        run_dir / "data.json",
        {
            "path": str(Path(config.data.path).resolve()),
            "sha256": dataset.sha256,
            "examples": len(dataset.examples),
            "labels": dataset.labels,
            "counts": {lab: int((dataset.y == i).sum()) for i, lab in enumerate(dataset.labels)},
            "split_sizes": {k: len(v) for k, v in splits.items()},
            "skipped_duplicates": dataset.report.duplicates,
            "dev_mode": bool(args.dev_mode),
        },
    )
    runs.write_json(
        run_dir / "run.json",
        {
            "status": "running",
            "started_at": runs.now(),
            "data_path": str(Path(config.data.path).resolve()),
            "data_sha256": dataset.sha256,
            "dev_mode": bool(args.dev_mode),
            "versions": {
                "tfcls": _version(),
                "tensorflow": tf.__version__,
                "keras": keras.__version__,
            },
        },
    )
    return run_dir, dataset, {k: np.asarray(v) for k, v in splits.items()}


def _version() -> str:
    from tfcls import __version__

    return __version__


def fit_head(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    n_classes: int,
    hp: Any,
    config: Config,
    run_dir: Path,
    weights: dict[int, float] | None,
    strategy: tf.distribute.Strategy | None = None,
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Final fit of the chosen head with the callbacks a long fit deserves."""
    set_seed(config.train.seed)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        head = head_from_config(n_classes, x_train.shape[1], hp)
    has_val = len(x_val) > 0
    monitor = "val_loss" if has_val else "loss"
    ckpt = run_dir / "checkpoints" / "head.weights.h5"
    ckpt.parent.mkdir(exist_ok=True)
    callbacks: list[keras.callbacks.Callback] = [
        keras.callbacks.EarlyStopping(
            monitor=monitor, patience=config.train.patience, restore_best_weights=True
        ),
        keras.callbacks.ReduceLROnPlateau(
            monitor=monitor,
            factor=config.train.reduce_lr_factor,
            patience=config.train.reduce_lr_patience,
            min_lr=1e-6,
        ),
        keras.callbacks.ModelCheckpoint(
            str(ckpt), monitor=monitor, save_best_only=True, save_weights_only=True
        ),
    ]
    if config.train.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(str(run_dir / "logs"), write_graph=False))
    history = head.fit(
        make_dataset(x_train, one_hot(y_train, n_classes), hp.batch_size, seed=config.train.seed),
        epochs=config.train.epochs,
        shuffle=False,  # make_dataset reshuffles every epoch itself
        verbose=0,
        callbacks=callbacks,
        class_weight=weights,
        validation_data=make_dataset(x_val, one_hot(y_val, n_classes), 1024) if has_val else None,
    )
    return head, {k: [float(v) for v in vals] for k, vals in history.history.items()}


def select_and_fit(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    n_classes: int,
    config: Config,
    work_dir: Path,
    trials: int,
    resume: bool = False,
    strategy: tf.distribute.Strategy | None = None,
) -> tuple[keras.Model | None, Any, list[dict[str, Any]], dict[str, list[float]]]:
    """Tune the head (if enabled) on train/val embeddings, then fit the best one.

    Writes tuner state, tuner_summary.json and best_hparams.json into ``work_dir``.
    Returns (head, hyperparameters, trial summary, training history); a distributed-search
    worker returns (None, None, the trials it ran, {}) since the chief fits the head.
    """
    weights = class_weights(y_train, n_classes) if config.train.class_weights else None
    summary: list[dict[str, Any]] = []
    if config.tuner.enabled:
        best, summary = tuning.search(
            x_train,
            one_hot(y_train, n_classes),
            x_val,
            one_hot(y_val, n_classes),
            n_classes,
            config.tuner,
            config.model,
            work_dir / "tuner",
            config.train.seed,
            trials,
            resume=resume,
            class_weight=weights,
            strategy=strategy,
        )
        if best is None:  # a distributed-search worker: the chief fits the head
            runs.write_json(work_dir / "tuner_summary.json", summary)
            return None, None, summary, {}
        hp = hparams_to_config(best, config.model)
    else:
        hp = config.model
    runs.write_json(work_dir / "tuner_summary.json", summary)
    runs.write_json(work_dir / "best_hparams.json", to_dict(hp))
    head, history = fit_head(
        x_train, y_train, x_val, y_val, n_classes, hp, config, work_dir, weights, strategy
    )
    return head, hp, summary, history


def train(config: Config, args: Any) -> dict[str, Any]:
    """Run the whole training; return metrics.json's content (also written to the run)."""
    from tfcls.encoders import load_encoder_from

    start = time.perf_counter()
    strategy = make_strategy(config.train.strategy)  # before any other TF work
    set_seed(config.train.seed)
    run_dir, dataset, splits = _prepare_run(config, args)
    print(f"run directory: {run_dir}", file=sys.stderr)
    enc = load_encoder_from(config.encoder)
    contrastive = None
    if config.train.contrastive:  # SetFit: shape the encoder on train pairs before the head
        from tfcls.finetune import contrastive_fine_tune

        contrastive = contrastive_fine_tune(
            enc.modules,
            [dataset.examples[int(i)].text for i in splits["train"]],
            dataset.y[splits["train"]],
            config,
            run_dir / "contrastive",
            strategy,
        )
        config.encoder.handle, config.encoder.preprocessor = contrastive["encoder"], None
        dump_yaml(config, run_dir / "config.yaml")
        enc = load_encoder_from(config.encoder)
    used = np.sort(np.concatenate(list(splits.values())))
    texts = [dataset.examples[i].text for i in used]
    t_embed = time.perf_counter()
    vectors = enc.embed(texts, batch_size=config.encoder.batch_size, progress=True)
    embed_s = time.perf_counter() - t_embed
    row = {int(i): r for r, i in enumerate(used)}
    x = {k: vectors[[row[int(i)] for i in v]] for k, v in splits.items()}
    y = {k: dataset.y[np.asarray(v, dtype=np.int64)] for k, v in splits.items()}
    n_classes = len(dataset.labels)
    trials = config.train.dev_mode_trials if args.dev_mode else config.tuner.max_trials
    t_tune = time.perf_counter()
    head, hp, summary, history = select_and_fit(
        x["train"],
        y["train"],
        x["val"],
        y["val"],
        n_classes,
        config,
        run_dir,
        trials,
        resume=bool(args.resume),
        strategy=strategy,
    )
    tune_s = time.perf_counter() - t_tune
    if head is None:  # distributed-search worker
        runs.update_json(
            run_dir / "run.json",
            status="worker-done",
            finished_at=runs.now(),
            trials_run=len(summary),
        )
        return {"worker": True, "trials_run": len(summary), "run_dir": str(run_dir)}
    metrics: dict[str, Any] = {"labels": dataset.labels, "hyperparameters": to_dict(hp)}
    if contrastive is not None:
        metrics["contrastive"] = contrastive
    if config.train.fine_tune:
        from tfcls.finetune import fine_tune

        by_split = {k: [dataset.examples[int(i)].text for i in v] for k, v in splits.items()}
        report = fine_tune(
            enc.modules,
            head,
            by_split,
            y,
            n_classes,
            hp.label_smoothing,
            config,
            run_dir,
            strategy,
        )
        metrics["fine_tune"] = report
        if report["kept"]:  # from now on the run's encoder is the fine-tuned one
            config.encoder.handle, config.encoder.preprocessor = report["encoder"], None
            dump_yaml(config, run_dir / "config.yaml")
            enc = load_encoder_from(config.encoder)
            # train only serves as unknown-detection references from here on
            nearest = (
                config.decision.unknown_detection and config.decision.unknown_score == "nearest"
            )
            needed = ("train", "val", "test") if nearest else ("val", "test")
            x.update(
                {k: enc.embed(by_split[k], batch_size=config.encoder.batch_size) for k in needed}
            )
    runs.write_json(run_dir / "history.json", history)
    head.save(run_dir / "head.keras")
    raw = {s: head.predict(x[s], verbose=0) for s in ("val", "test") if len(x[s])}
    calib = calibration.calibrate(
        raw.get("val", np.zeros((0, n_classes))),
        y["val"],
        raw.get("test"),
        y["test"],
        config.decision.calibrate,
        config.decision.target_precision,
    )
    temperature = calib["temperature"]
    references = None
    if config.decision.unknown_detection and len(x["val"]):
        score = config.decision.unknown_score
        if score == "nearest":
            references = x["train"].astype(np.float32)
            np.save(run_dir / "references.npy", references)
        scores = {
            split: ood.unknown_scores(
                score,
                calibration.apply_temperature(proba, temperature),
                None if references is None else ood.nearest_similarity(x[split], references),
            )
            for split, proba in raw.items()
        }
        auto = (calib.get("threshold") or {}).get("threshold")
        calib["unknown"] = ood.unknown_record(
            score,
            scores["val"],
            config.decision.known_recall,
            scores.get("test"),
            cap=auto if score == "max_softmax" else None,
        )
    runs.write_json(run_dir / "calibration.json", calib)
    full_model(enc.keras_layer(), head, temperature, references).save(run_dir / "model.keras")
    for split, proba in raw.items():
        metrics[split] = classification_metrics(
            y[split], calibration.apply_temperature(proba, temperature), dataset.labels
        )
    metrics["calibration"] = {k: v for k, v in calib.items() if k != "reliability"}
    metrics["timings_s"] = {
        "embedding": round(embed_s, 2),
        "tuning_and_fit": round(tune_s, 2),
        "total": round(time.perf_counter() - start, 2),
    }
    metrics["tuner"] = {
        "trials": len(summary),
        "completed": sum(t["status"] == "COMPLETED" for t in summary),
        "failed": sum(t["status"] == "FAILED" for t in summary),
    }
    metrics["embedding_cache"] = vars(enc.cache_stats)
    runs.write_json(run_dir / "metrics.json", metrics)
    runs.update_json(
        run_dir / "run.json", status="complete", finished_at=runs.now(), run_dir=str(run_dir)
    )
    runs.mark_latest(run_dir)
    metrics["run_dir"] = str(run_dir)
    return metrics


def _parser():
    p = cli.parser("python -m tfcls.train", __doc__.split("\n\n")[0])
    p.add_argument("--data", metavar="PATH", help="dataset file (overrides data.path)")
    p.add_argument("--output-dir", metavar="DIR", help="where runs go (train.output_dir)")
    p.add_argument("--name", help="run directory name (default: time + data hash)")
    p.add_argument("--max-trials", type=int, metavar="N", help="tuner.max_trials")
    p.add_argument(
        "--dev-mode",
        action="store_true",
        help="small stratified subset and few trials, for quick iteration",
    )
    p.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue an interrupted run (its config, data and splits)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.resume:
        if args.config or args.overrides or args.data or args.dev_mode:
            raise TfclsError(
                "--resume uses the run's own config and data; drop --config/--set/--data/--dev-mode"
            )
        config = load_config(Path(args.resume) / "config.yaml")
        args.dev_mode = runs.read_json(Path(args.resume) / "run.json").get("dev_mode", False)
    else:
        overrides = list(args.overrides)
        if args.data:
            overrides.append(f"data.path={args.data}")
        if args.output_dir:
            overrides.append(f"train.output_dir={args.output_dir}")
        if args.max_trials is not None:
            overrides.append(f"tuner.max_trials={args.max_trials}")
        config = load_config(args.config, overrides)
    metrics = train(config, args)
    if metrics.get("worker"):
        print(
            f"worker {os.environ.get('KERASTUNER_TUNER_ID')} ran {metrics['trials_run']} "
            f"trial(s) for the chief's search, run {metrics['run_dir']}"
        )
        return 0
    test = metrics.get("test") or metrics.get("val") or {}
    which = "test" if "test" in metrics else "val"
    print(
        f"{which} accuracy {test.get('accuracy', float('nan')):.4f}, macro-F1 "
        f"{test.get('macro_f1', float('nan')):.4f}, run {metrics['run_dir']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
