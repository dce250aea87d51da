"""``python -m tfcls.train``: dataset → embeddings (cached) → the default procedure → run.

Steps: load and validate the dataset; split off a test split (stratified, seeded; only
reported); embed every text once (the embedding cache makes a second run nearly free);
run ``tfcls.crossfit`` on the rest (KerasTuner on the embeddings, encoder adaptation,
out-of-fold predictions of every training text, the final model on all of them);
calibrate and choose the thresholds out of fold; evaluate on the test split; save the
head, the adapted encoder and the full string-input model. ``--fast`` keeps the encoder
frozen. ``--resume RUN_DIR`` continues an interrupted run, tuner included.
"""

from __future__ import annotations

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

from tfcls import calibration, crossfit, ood, runs, tuning
from tfcls import data as data_mod
from tfcls import splits as splits_mod
from tfcls.config import Config, dump_yaml, load_config, to_dict
from tfcls.errors import TfclsError
from tfcls.head_fit import select_and_fit, set_seed
from tfcls.metrics import classification_metrics
from tfcls.model import full_model


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


def train(config: Config, args: Any) -> dict[str, Any]:
    """Run the whole training; return metrics.json's content (also written to the run)."""
    from tfcls.encoders import load_encoder_from

    start = time.perf_counter()
    strategy = make_strategy(config.train.strategy)  # before any other TF work
    set_seed(config.train.seed)
    run_dir, dataset, splits = _prepare_run(config, args)
    print(f"run directory: {run_dir}", file=sys.stderr)
    enc = load_encoder_from(config.encoder)
    # what the run started from, before contrastive tuning or adaptation replace it
    base = {"handle": config.encoder.handle, "preprocessor": config.encoder.preprocessor}
    fit_rows = np.sort(np.concatenate([splits["train"], splits["val"]])).astype(np.int64)
    test_rows = np.asarray(splits["test"], dtype=np.int64)
    metrics: dict[str, Any] = {"labels": dataset.labels}
    if config.train.contrastive:  # SetFit: shape the encoder on training pairs first
        enc, metrics["contrastive"] = _contrastive(enc, dataset, fit_rows, config, run_dir)
    texts = dataset.texts
    fit_texts, test_texts = [texts[i] for i in fit_rows], [texts[i] for i in test_rows]
    t_embed = time.perf_counter()
    x_fit = enc.embed(fit_texts + test_texts, batch_size=config.encoder.batch_size, progress=True)
    x_fit, x_test = x_fit[: len(fit_rows)], x_fit[len(fit_rows) :]
    embed_s = time.perf_counter() - t_embed
    cache_stats = dict(vars(enc.cache_stats))  # the data's embedding (not the adapted one's)
    y_fit, y_test = dataset.y[fit_rows], dataset.y[test_rows]
    n_classes = len(dataset.labels)
    trials = config.train.dev_mode_trials if args.dev_mode else config.tuner.max_trials
    if tuning.distributed_role() == "worker":
        return _worker(x_fit, y_fit, n_classes, config, run_dir, trials, strategy)
    t_fit = time.perf_counter()
    fitted = crossfit.fit(
        fit_texts,
        y_fit,
        dataset.weights[fit_rows],
        x_fit,
        n_classes,
        config,
        run_dir,
        enc.modules,
        trials,
        resume=bool(args.resume),
        strategy=strategy,
    )
    fit_s = time.perf_counter() - t_fit
    if fitted.adapter is not None:  # from now on the run's encoder is the adapted one
        from tfcls.adapt import save_encoder

        target = save_encoder(fitted.adapter, enc.modules, run_dir / "encoder")
        config.encoder.handle, config.encoder.preprocessor = str(target), None
        dump_yaml(config, run_dir / "config.yaml")
        enc = load_encoder_from(config.encoder)
        x_test = _embed(enc, test_texts, config)
        # only the nearest score keeps embeddings of the fit texts (its references)
        d = config.decision
        x_fit = _embed(enc, fit_texts, config) if d.unknown_score == "nearest" else None
    if config.encoder.handle != base["handle"]:
        runs.update_json(run_dir / "run.json", base_encoder=base)
    metrics.update(hyperparameters=to_dict(fitted.hp), crossfit=fitted.report)
    runs.write_json(run_dir / "history.json", fitted.history)
    fitted.head.save(run_dir / "head.keras")
    calib, references = crossfit.calibrate(fitted, y_fit, x_fit, config.decision)
    if references is not None:
        np.save(run_dir / "references.npy", references)
    test_raw = fitted.head.predict(x_test, verbose=0) if len(x_test) else None
    if test_raw is not None:
        calibration.report_test(calib, test_raw, y_test)
        if "unknown" in calib:
            calib["unknown"]["test_known_kept"] = _known_kept(calib, test_raw, x_test, references)
    runs.write_json(run_dir / "calibration.json", calib)
    temperature = calib["temperature"]
    full_model(enc.keras_layer(), fitted.head, temperature, references).save(
        run_dir / "model.keras"
    )
    metrics["oof"] = classification_metrics(
        y_fit, calibration.apply_temperature(fitted.oof, temperature), dataset.labels
    )
    if test_raw is not None:
        metrics["test"] = classification_metrics(
            y_test, calibration.apply_temperature(test_raw, temperature), dataset.labels
        )
    metrics["calibration"] = {k: v for k, v in calib.items() if k != "reliability"}
    metrics["timings_s"] = {
        "embedding": round(embed_s, 2),
        "tuning_and_fit": round(fit_s, 2),
        "total": round(time.perf_counter() - start, 2),
    }
    metrics["tuner"] = {
        "trials": len(fitted.tuner_summary),
        "completed": sum(t["status"] == "COMPLETED" for t in fitted.tuner_summary),
        "failed": sum(t["status"] == "FAILED" for t in fitted.tuner_summary),
    }
    metrics["embedding_cache"] = cache_stats
    runs.write_json(run_dir / "metrics.json", metrics)
    runs.update_json(
        run_dir / "run.json", status="complete", finished_at=runs.now(), run_dir=str(run_dir)
    )
    runs.mark_latest(run_dir)
    metrics["run_dir"] = str(run_dir)
    return metrics


def _embed(enc: Any, texts: list[str], config: Config) -> np.ndarray:
    return enc.embed(texts, batch_size=config.encoder.batch_size)


def _known_kept(
    calib: dict[str, Any], raw: np.ndarray, x: np.ndarray, references: np.ndarray | None
) -> float:
    """Share of the test split that the unknown threshold keeps known (reported only)."""
    unknown = calib["unknown"]
    proba = calibration.apply_temperature(raw, calib["temperature"])
    similarity = None if references is None else ood.nearest_similarity(x, references)
    scores = ood.unknown_scores(unknown["score"], proba, similarity)
    return float((scores >= unknown["threshold"]).mean())


def _contrastive(
    enc: Any, dataset: data_mod.Dataset, rows: np.ndarray, config: Config, run_dir: Path
) -> tuple[Any, dict[str, Any]]:
    """SetFit-style pair training of the encoder on the training texts; the run's encoder
    is the tuned one from then on."""
    from tfcls.encoders import load_encoder_from
    from tfcls.finetune import contrastive_fine_tune

    report = contrastive_fine_tune(
        enc.modules,
        [dataset.examples[int(i)].text for i in rows],
        dataset.y[rows],
        config,
        run_dir / "contrastive",
    )
    config.encoder.handle, config.encoder.preprocessor = report["encoder"], None
    dump_yaml(config, run_dir / "config.yaml")
    return load_encoder_from(config.encoder), report


def _worker(
    x: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    config: Config,
    run_dir: Path,
    trials: int,
    strategy: tf.distribute.Strategy | None,
) -> dict[str, Any]:
    """A distributed-search worker runs the chief's trials and stops (the chief fits)."""
    tr, val, _ = splits_mod.stratified_split(y, config.data.val_fraction, 0.0, config.train.seed)
    _, _, summary, _ = select_and_fit(
        x[tr], y[tr], x[val], y[val], n_classes, config, run_dir, trials, strategy=strategy
    )
    runs.update_json(
        run_dir / "run.json", status="worker-done", finished_at=runs.now(), trials_run=len(summary)
    )
    return {"worker": True, "trials_run": len(summary), "run_dir": str(run_dir)}


def _parser():
    p = cli.parser("python -m tfcls.train", __doc__.split("\n\n")[0])
    p.add_argument("--data", metavar="PATH", help="dataset file (overrides data.path)")
    p.add_argument("--output-dir", metavar="DIR", help="where runs go (train.output_dir)")
    p.add_argument("--name", help="run directory name (default: time + data hash)")
    p.add_argument("--max-trials", type=int, metavar="N", help="tuner.max_trials")
    p.add_argument(
        "--fast",
        action="store_true",
        help="frozen encoder, heads only (train.adapt_layers=0): for big datasets",
    )
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
        if args.config or args.overrides or args.data or args.dev_mode or args.fast:
            raise TfclsError(
                "--resume uses the run's own config and data; "
                "drop --config/--set/--data/--dev-mode/--fast"
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
        if args.fast:
            overrides.append("train.adapt_layers=0")
        config = load_config(args.config, overrides)
    metrics = train(config, args)
    if metrics.get("worker"):
        print(
            f"worker {os.environ.get('KERASTUNER_TUNER_ID')} ran {metrics['trials_run']} "
            f"trial(s) for the chief's search, run {metrics['run_dir']}"
        )
        return 0
    test = metrics.get("test") or metrics.get("oof") or {}
    which = "test" if "test" in metrics else "out-of-fold"
    print(
        f"{which} accuracy {test.get('accuracy', float('nan')):.4f}, macro-F1 "
        f"{test.get('macro_f1', float('nan')):.4f}, run {metrics['run_dir']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
