"""``tfcls.train`` on a multi-label dataset (``data.task: multi_label``, or detected).

Steps: load and validate the label sets (:mod:`tfcls.data.multilabel`); split off a seeded
test split (only reported) and a validation part; embed every text once (cached); tune
the sigmoid head on the embeddings (:mod:`tfcls.training.multilabel`, macro-F1 on the
validation part); predict every training text out of fold with the tuned head
(``train.crossfit_folds`` folds); fit each label's Platt scaling and threshold on those
predictions (:mod:`tfcls.decision.label_thresholds`); fit the final head on train + val;
score the test split.

With ``train.adapt.layers`` > 0 (and a tfcls-built BERT encoder) the encoder's top layers
are adapted with the head (:mod:`tfcls.training.multilabel_adapt`): every fold adapts its
own encoder copy, so the out-of-fold outputs the thresholds and Platt scaling are chosen on
come from models that never saw those texts' labels; the epoch count with the best
out-of-fold macro-F1 trains the final model on train + val, whose adapted encoder is saved
in ``<run>/encoder/`` and named by the run's ``config.yaml`` (``run.json`` keeps the
``base_encoder``), as single-label runs do; the export reads it from there.

The run directory holds what a single-label run holds where it applies: ``config.yaml``,
``splits.json``, ``label_map.json``, ``data.json``, ``run.json`` (``task: multi_label``),
``head.keras`` (raw sigmoid outputs), ``best_hparams.json`` (what ``tfcls.retrain`` reuses),
``calibration.json`` (``{"task": "multi_label", "labels": {label: {a, b, threshold}}}``),
``metrics.json`` (out-of-fold and test metrics, trials, ``adapt``), ``encoder/`` when
adapted.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tfcls.config import Config, ModelConfig, to_dict
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
    if config.data.augment.enabled:
        print("note: data.augment is not applied to multi-label runs", file=sys.stderr)
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
    trials = config.train.dev_mode_trials if dev_mode else config.tuner.max_trials
    model = _Model(run_dir, config, enc, dataset.texts)
    _fit_and_score(model, (x, y, w), splits, dataset.labels, trials, metrics)
    metrics["timings_s"] = {"total": round(time.perf_counter() - start, 1)}
    return finish_run(run_dir, metrics)


@dataclass
class _Model:
    """What fitting needs beside the arrays: the run, its config, its encoder, all texts."""

    run_dir: Path
    config: Config
    encoder: Any
    texts: list[str]
    adapted: bool = False  # the encoder is the run's adapted one (saved in encoder/)

    def fit(
        self,
        data: tuple[np.ndarray, np.ndarray, np.ndarray],
        rows: np.ndarray,
        hp: ModelConfig,
        epochs: int,
        metrics: dict[str, Any],
    ) -> tuple[np.ndarray, Any]:
        """Out-of-fold raw outputs of ``rows`` and the final head trained on them: frozen,
        or with the encoder's top layers adapted (then saved in the run and made its
        encoder; ``metrics["adapt"]`` says how, ``adapt_skipped`` why not)."""
        from tfcls.training import multilabel as ml
        from tfcls.training.adapt import adaptable_lower

        x, y, w = (a[rows] for a in data)
        c = self.config
        texts = [self.texts[i] for i in rows]
        lower = adaptable_lower(self.encoder.modules, texts, c.train.adapt.layers, metrics)
        if lower is None:
            oof = ml.out_of_fold(x, y, w, hp, c, c.train.crossfit_folds, epochs)
            return oof, ml.fit_multilabel_head((x, y, w), None, hp, c, epochs)[0]
        from tfcls.training.multilabel_adapt import adapt_final, adapt_out_of_fold

        oof, metrics["adapt"] = adapt_out_of_fold(lower, (x, y, w), hp, c, epochs)
        adapter = adapt_final(lower, (x, y, w), hp, c, epochs, metrics["adapt"]["epochs_chosen"])
        self._adopt(adapter)
        return oof, adapter.head

    def _adopt(self, adapter: Any) -> None:
        """Save the adapted encoder in the run and make it the run's encoder (config.yaml;
        run.json keeps the one it started from, which retraining adapts again)."""
        from tfcls.encoders import load_encoder_from
        from tfcls.training.adapt import save_encoder

        c = self.config
        base = {"handle": c.encoder.handle, "preprocessor": c.encoder.preprocessor}
        saved = save_encoder(adapter, self.encoder.modules, self.run_dir / Run.ENCODER)
        Run(self.run_dir).use_encoder(c, str(saved))
        runs.update_json(self.run_dir / Run.INFO, base_encoder=base)
        self.encoder, self.adapted = load_encoder_from(c.encoder), True

    def embed(self, rows: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Embeddings of ``rows`` by the run's (final) encoder: ``x`` unless adapted."""
        if not self.adapted:
            return x[rows]
        texts = [self.texts[i] for i in rows]
        return self.encoder.embed(texts, batch_size=self.config.encoder.batch_size)


def _fit_and_score(
    model: _Model,
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    splits: dict[str, np.ndarray],
    labels: list[str],
    trials: int,
    metrics: dict[str, Any],
) -> None:
    """Tune, choose the decision out of fold, fit the final model, score; write the head,
    best_hparams.json, calibration.json and the metrics into ``metrics``."""
    from tfcls.decision.label_thresholds import choose
    from tfcls.evaluation.multilabel_metrics import multilabel_metrics
    from tfcls.training import multilabel as ml
    from tfcls.training.weights import training_weights

    run_dir, config = model.run_dir, model.config
    x, y, w = data
    t = config.train  # every fit weighs a text by its own weight times its labels' balance
    fw = training_weights(y, w, y.shape[1], t.class_weights, t.class_balance_beta)
    tr, va, te = splits["train"], splits["val"], splits["test"]
    if config.tuner.enabled and len(va):
        hp, epochs, summary = ml.tune(
            (x[tr], y[tr], fw[tr]), (x[va], y[va], fw[va]), config, run_dir / "tuner", trials
        )
        metrics["trials"] = summary
    else:
        hp, epochs = config.model, config.train.epochs
        if len(va):
            _, epochs = ml.fit_multilabel_head((x[tr], y[tr], fw[tr]), (x[va], y[va]), hp, config)
    runs.write_json(run_dir / Run.BEST_HPARAMS, to_dict(hp))
    fit = np.sort(np.concatenate([tr, va]))
    oof, head = model.fit((x, y, fw), fit, hp, epochs, metrics)
    decision = choose(
        oof,
        y[fit],
        labels,
        config.decision.label_thresholds,
        config.decision.target_precision,
        weights=w[fit],
        calibrate=config.decision.calibrate,
    )
    head.save(run_dir / Run.HEAD)
    runs.write_json(run_dir / Run.CALIBRATION, {"task": TASK, "labels": decision.to_dict()})
    metrics["hyperparameters"] = to_dict(hp)
    metrics["epochs"] = epochs
    metrics["oof"] = multilabel_metrics(
        y[fit], decision.predict(oof), decision.calibrate(oof), labels
    )
    if len(te):
        raw = ml.predict(head, model.embed(te, x))
        metrics["test"] = multilabel_metrics(
            y[te], decision.predict(raw), decision.calibrate(raw), labels
        )
        metrics["test_fixed_0_5"] = {
            k: v
            for k, v in multilabel_metrics(y[te], (raw >= 0.5).astype(np.int8), raw, labels).items()
            if k != "per_label"
        }
