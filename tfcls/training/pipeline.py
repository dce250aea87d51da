"""The default training procedure: dataset → embeddings (cached) → crossfit → run directory.

:func:`train` is ``tfcls.train``; ``python -m tfcls.train`` (``tfcls.cli.train``) calls it.

Steps: load and validate the dataset; split off a test split (stratified, seeded; only
reported); make new texts from the rest (``data.augment``, off by default); embed every
text once (the embedding cache makes a second run nearly free); run
``tfcls.training.crossfit`` on the rest (KerasTuner on the embeddings, encoder adaptation,
out-of-fold predictions of every training text, the final model on all of them);
calibrate and choose the thresholds out of fold; evaluate on the test split; save the
head, the adapted encoder and the full string-input model. A multi-label dataset
(``data.task``, or list-valued labels) goes to :mod:`tfcls.training.multilabel_run`.
``train.adapt.layers: 0`` keeps the encoder frozen; ``resume=RUN_DIR`` continues an
interrupted run, tuner included.
"""

from __future__ import annotations

import copy
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfcls.config import Config, dump_yaml, load_config, to_dict
from tfcls.data import dataset as data_mod
from tfcls.data import splits as splits_mod
from tfcls.decision import calibration
from tfcls.decision import unknown as ood
from tfcls.errors import TfclsError
from tfcls.evaluation.metrics import classification_metrics
from tfcls.training import crossfit, runs, steps, tuning
from tfcls.training.head_fit import set_seed
from tfcls.training.model import full_model
from tfcls.training.multilabel_run import is_multi_label, train_multilabel
from tfcls.training.runs import Run


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


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train` returns: the run directory and its ``metrics.json``.

    ``metrics`` holds ``oof`` and ``test`` (classification metrics), ``calibration``,
    ``crossfit``, ``timings_s`` …; a distributed-search worker (``worker``) only ran trials.
    """

    run_dir: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    worker: bool = False

    @property
    def accuracy(self) -> float | None:
        """Test-split accuracy, else out-of-fold accuracy (a run without a test split)."""
        scores = self.metrics.get("test") or self.metrics.get("oof") or {}
        return scores.get("accuracy")


def _prepare_run(
    config: Config, resume: Path | None, dev_mode: bool, name: str | None
) -> tuple[Path, data_mod.Dataset, dict[str, np.ndarray]]:
    """Create (or reopen, on resume) the run directory; load data; fix the splits."""
    if resume:
        dataset = runs.load_run_data(
            resume, config.data.min_per_label, "start a new run instead of resuming"
        )
        return resume, dataset, runs.read_json(resume / Run.SPLITS)
    dataset = data_mod.load_dataset(config.data.path, config.data.min_per_label)
    print(dataset.report.summary(), file=sys.stderr)
    splits = _choose_splits(dataset, config, dev_mode)
    if tuning.distributed_role() == "worker":  # one run directory per worker
        name = (
            f"{name or runs.default_run_name(dataset.sha256)}-{os.environ['KERASTUNER_TUNER_ID']}"
        )
    run_dir = runs.new_run_dir(config.train.output_dir, dataset.sha256, name)
    counts = {lab: int((dataset.y == i).sum()) for i, lab in enumerate(dataset.labels)}
    record_run(run_dir, config, dataset, splits, dev_mode, counts)
    return run_dir, dataset, {k: np.asarray(v) for k, v in splits.items()}


def _choose_splits(
    dataset: data_mod.Dataset, config: Config, dev_mode: bool
) -> dict[str, np.ndarray]:
    """Row indices of the train, val and test splits (stratified, seeded); ``dev_mode``
    first keeps ``train.dev_mode_per_label`` examples of each label."""
    keep = np.arange(len(dataset.examples))
    if dev_mode:
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
    return {"train": keep[train], "val": keep[val], "test": keep[test]}


def record_run(
    run_dir: Path,
    config: Config,
    dataset: Any,
    splits: dict[str, np.ndarray],
    dev_mode: bool,
    counts: dict[str, int],
    task: str = "single_label",
) -> None:
    """Write what a new run starts from: config, splits, label map, data.json (``counts``:
    examples per label), run.json (``task``: single_label or multi_label)."""
    dump_yaml(config, run_dir / Run.CONFIG)
    runs.write_json(run_dir / Run.SPLITS, splits)
    runs.write_json(run_dir / Run.LABEL_MAP, dataset.label_map())
    data_path = str(Path(config.data.path).resolve())
    runs.write_json(
        run_dir / "data.json",
        {
            "path": data_path,
            "sha256": dataset.sha256,
            "task": task,
            "examples": len(dataset.examples),
            "labels": dataset.labels,
            "counts": counts,
            "split_sizes": {k: len(v) for k, v in splits.items()},
            "skipped_duplicates": dataset.report.duplicates,
            "dev_mode": bool(dev_mode),
        },
    )
    versions = {"tfcls": _version(), "tensorflow": tf.__version__, "keras": keras.__version__}
    runs.write_json(
        run_dir / Run.INFO,
        {
            "status": "running",
            "task": task,
            "started_at": runs.now(),
            "data_path": data_path,
            "data_sha256": dataset.sha256,
            "dev_mode": bool(dev_mode),
            "versions": versions,
        },
    )


def _version() -> str:
    from tfcls import __version__

    return __version__


def train(
    config: Config | None = None,
    *,
    data: str | Path | None = None,
    resume: str | Path | None = None,
    dev_mode: bool = False,
    name: str | None = None,
) -> TrainResult:
    """Train the default model; the run directory gets everything (see the module doc).

    ``config`` defaults to ``configs/default.yaml`` and is not changed (the run keeps its
    own copy); ``data`` replaces ``data.path``; ``dev_mode`` trains on a small stratified
    subset with few trials; ``name`` names the run directory. ``resume`` continues an
    interrupted run with the run's own config, data, splits and mode, so it takes none of
    the others.
    """
    from tfcls.encoders import load_encoder_from

    start = time.perf_counter()
    config, resume, dev_mode = _settings(config, data, resume, dev_mode)
    if resume is None and is_multi_label(config):
        return train_multilabel(config, dev_mode, name)
    strategy = make_strategy(config.train.strategy)  # before any other TF work
    set_seed(config.train.seed)
    run_dir, dataset, splits = _prepare_run(config, resume, dev_mode, name)
    print(f"run directory: {run_dir}", file=sys.stderr)
    fit_rows = np.sort(np.concatenate([splits["train"], splits["val"]]))
    fit, test = _Part.of(dataset, fit_rows), _Part.of(dataset, splits["test"])
    # what the run started from, before contrastive tuning or adaptation replace it
    base = {"handle": config.encoder.handle, "preprocessor": config.encoder.preprocessor}
    embedded = steps.shape_and_embed(
        load_encoder_from(config.encoder), fit.texts, fit.y, config, run_dir, test.texts, True
    )
    metrics: dict[str, Any] = {"labels": dataset.labels}
    if embedded.augmented is not None:  # new texts made from the fit rows (never the test's)
        metrics["augment"] = embedded.augment_report(fit.y, dataset.labels)
    if embedded.contrastive is not None:  # the run's encoder is the tuned one from now on
        Run(run_dir).use_encoder(config, embedded.contrastive["encoder"])
        metrics["contrastive"] = embedded.contrastive
    trials = config.train.dev_mode_trials if dev_mode else config.tuner.max_trials
    n_classes = len(dataset.labels)
    if tuning.distributed_role() == "worker":
        return _worker(embedded, fit, n_classes, config, run_dir, trials, strategy)
    t_fit = time.perf_counter()
    resuming = resume is not None
    fitted = steps.fit_step(
        embedded, fit.texts, fit.y, fit.w, n_classes, config, run_dir, trials, resuming, strategy
    )
    fit_s = time.perf_counter() - t_fit
    enc, x_fit, x_test = embedded.encoder, embedded.x, embedded.x_also
    if fitted.adapter is not None:  # from now on the run's encoder is the adapted one
        enc, x_fit, x_test = _adopt_adapted(fitted.adapter, enc, config, run_dir, fit, test)
    if config.encoder.handle != base["handle"]:
        runs.update_json(run_dir / Run.INFO, base_encoder=base)
    metrics.update(hyperparameters=to_dict(fitted.hp), crossfit=fitted.report)
    _save_and_score(
        run_dir, fitted, enc, config, dataset.labels, (x_fit, fit.y), (x_test, test.y), metrics
    )
    timings = (embedded.seconds, fit_s, time.perf_counter() - start)
    _add_summaries(metrics, fitted, embedded.cache_stats, timings)
    return finish_run(run_dir, metrics)


@dataclass(frozen=True)
class _Part:
    """Rows of the dataset that play one part (fit, test): their texts, labels, weights."""

    texts: list[str]
    y: np.ndarray
    w: np.ndarray

    @classmethod
    def of(cls, dataset: data_mod.Dataset, rows: np.ndarray) -> _Part:
        rows = np.asarray(rows, dtype=np.int64)
        texts = dataset.texts
        return cls([texts[i] for i in rows], dataset.y[rows], dataset.weights[rows])


def _add_summaries(
    metrics: dict[str, Any],
    fitted: crossfit.FitResult,
    cache_stats: dict[str, Any],
    seconds: tuple[float, float, float],
) -> None:
    """Timings (embedding, tuning and fit, total), the tuner's trial counts and the
    embedding cache's statistics (of the data's embedding, not the adapted one's)."""
    embed_s, fit_s, total_s = seconds
    metrics["timings_s"] = {
        "embedding": round(embed_s, 2),
        "tuning_and_fit": round(fit_s, 2),
        "total": round(total_s, 2),
    }
    metrics["tuner"] = {
        "trials": len(fitted.tuner_summary),
        "completed": sum(t["status"] == "COMPLETED" for t in fitted.tuner_summary),
        "failed": sum(t["status"] == "FAILED" for t in fitted.tuner_summary),
    }
    metrics["embedding_cache"] = cache_stats


def _adopt_adapted(
    adapter: Any, enc: Any, config: Config, run_dir: Path, fit: _Part, test: _Part
) -> tuple[Any, np.ndarray | None, np.ndarray]:
    """Save the adapted encoder in the run, make it the run's encoder (config.yaml) and
    embed with it: (encoder, fit embeddings or None, test embeddings). Only the nearest
    unknown score keeps embeddings of the fit texts (its references)."""
    from tfcls.encoders import load_encoder_from
    from tfcls.training.adapt import save_encoder

    saved = save_encoder(adapter, enc.modules, run_dir / Run.ENCODER)
    Run(run_dir).use_encoder(config, str(saved))
    enc = load_encoder_from(config.encoder)
    nearest = config.decision.unknown_score == "nearest"
    x_fit = _embed(enc, fit.texts, config) if nearest else None
    return enc, x_fit, _embed(enc, test.texts, config)


def _save_and_score(
    run_dir: Path,
    fitted: Any,
    enc: Any,
    config: Config,
    labels: list[str],
    fit: tuple[np.ndarray | None, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    metrics: dict[str, Any],
) -> None:
    """Write the head, history, calibration, references and full model; add the
    out-of-fold and test metrics and the calibration summary to ``metrics``."""
    (x_fit, y_fit), (x_test, y_test) = fit, test
    runs.write_json(run_dir / Run.HISTORY, fitted.history)
    fitted.head.save(run_dir / Run.HEAD)
    calib, references = crossfit.calibrate(fitted, y_fit, x_fit, config.decision)
    if references is not None:
        np.save(run_dir / Run.REFERENCES, references)
    test_raw = fitted.head.predict(x_test, verbose=0) if len(x_test) else None
    if test_raw is not None:
        calibration.report_test(calib, test_raw, y_test)
        if "unknown" in calib:
            calib["unknown"]["test_known_kept"] = _known_kept(calib, test_raw, x_test, references)
    runs.write_json(run_dir / Run.CALIBRATION, calib)
    temperature = calib["temperature"]
    full_model(enc.keras_layer(), fitted.head, temperature, references).save(run_dir / Run.MODEL)
    metrics["oof"] = classification_metrics(
        y_fit, calibration.apply_temperature(fitted.oof, temperature), labels
    )
    if test_raw is not None:
        metrics["test"] = classification_metrics(
            y_test, calibration.apply_temperature(test_raw, temperature), labels
        )
    metrics["calibration"] = {k: v for k, v in calib.items() if k != "reliability"}


def finish_run(run_dir: Path, metrics: dict[str, Any]) -> TrainResult:
    """Write metrics.json, mark the run complete and the output folder's latest, then do
    what ``tracking`` asks (TensorBoard HParams of the trials, MLflow:
    :func:`tfcls.tracking.run.track_run`)."""
    from tfcls.tracking.run import track_run

    runs.write_json(run_dir / Run.METRICS, metrics)
    runs.update_json(
        run_dir / Run.INFO, status="complete", finished_at=runs.now(), run_dir=str(run_dir)
    )
    runs.mark_latest(run_dir)
    track_run(run_dir)
    return TrainResult(run_dir, metrics)


def _settings(
    config: Config | None, data: str | Path | None, resume: str | Path | None, dev_mode: bool
) -> tuple[Config, Path | None, bool]:
    """(a private copy of the config, the run to resume, dev mode), checked."""
    if resume is not None:
        if config is not None or data is not None or dev_mode:
            raise TfclsError(
                "resume uses the run's own config, data and mode; "
                "pass no config, data or dev_mode with it"
            )
        resume = Path(resume)
        config = load_config(resume / Run.CONFIG)
        return config, resume, bool(runs.read_json(resume / Run.INFO).get("dev_mode", False))
    config = copy.deepcopy(config) if config is not None else load_config()
    if data is not None:
        config.data.path = str(data)
    return config, None, dev_mode


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


def _worker(
    embedded: steps.Embedded,
    fit: _Part,
    n_classes: int,
    config: Config,
    run_dir: Path,
    trials: int,
    strategy: tf.distribute.Strategy | None,
) -> TrainResult:
    """A distributed-search worker runs the chief's trials (on the same rows, weights and
    split as the chief's search) and stops: the chief fits."""
    data = crossfit.training_rows(
        fit.texts, fit.y, fit.w, embedded.x, n_classes, config,
        embedded.augmented, embedded.x_augmented,
    )  # fmt: skip
    _, _, summary, _ = crossfit.tune(data, n_classes, config, run_dir, trials, strategy=strategy)
    runs.update_json(
        run_dir / Run.INFO, status="worker-done", finished_at=runs.now(), trials_run=len(summary)
    )
    return TrainResult(run_dir, {"trials_run": len(summary)}, worker=True)
