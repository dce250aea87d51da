"""tfcls: train short-text classifiers with TensorFlow/Keras and run them in the browser.

The library is the product; the commands (``tfcls <command>``, ``python -m
tfcls.<command>``, in :mod:`tfcls.cli`) are thin wrappers around it::

    import tfcls

    result = tfcls.train(tfcls.load_config(overrides=["train.adapt.layers=0"]))
    tfcls.evaluate(result.run_dir).accuracy   # EvaluationResult; evaluation.json + report.html
    tfcls.export(result.run_dir, "exported").version  # ExportResult: a TF.js bundle, measured
    tfcls.Predictor(result.run_dir).predict(["Fix login redirect bug"])
    tfcls.monitor(config).verdict              # MonitorReport: drift, acceptance, corrections
    tfcls.suggest(tfcls.Predictor(run_dir), texts, n=50)  # what to label next

Stages, as the flow runs: :mod:`tfcls.data`, :mod:`tfcls.encoders`, :mod:`tfcls.training`,
:mod:`tfcls.decision`, :mod:`tfcls.evaluation`, :mod:`tfcls.bundle` (export and the bundle
registry), :mod:`tfcls.serving`, :mod:`tfcls.feedback` (store, retraining),
:mod:`tfcls.monitoring` (drift and acceptance of the served model), :mod:`tfcls.labeling`
(what to label next) and :mod:`tfcls.bench` (benchmarks, off the runtime path). Results
are dataclasses (``TrainResult``, ``EvaluationResult``, ``ExportResult``,
``RetrainResult``, ``MonitorReport``, ``Suggestion``; a bundle's metadata is
``BundleMetadata``). A multi-label run (label sets, e.g. emotions) trains and exports the
same way; ``tfcls.evaluate`` returns a ``LabelSetEvaluationResult`` for it and
``tfcls.LabelSetPredictor`` predicts its label sets. Names load lazily, so ``import
tfcls`` imports no TensorFlow and changes no logging.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "train": ("tfcls.training.pipeline", "train"),
    "TrainResult": ("tfcls.training.pipeline", "TrainResult"),
    "evaluate": ("tfcls.evaluation.evaluate", "evaluate_run"),
    "EvaluationResult": ("tfcls.evaluation.evaluate", "EvaluationResult"),
    "LabelSetEvaluationResult": (
        "tfcls.evaluation.multilabel_evaluate",
        "LabelSetEvaluationResult",
    ),
    "export": ("tfcls.bundle.export", "export"),
    "ExportResult": ("tfcls.bundle.export", "ExportResult"),
    "BundleMetadata": ("tfcls.bundle.metadata", "BundleMetadata"),
    "retrain": ("tfcls.feedback.retrain", "retrain"),
    "RetrainResult": ("tfcls.feedback.retrain", "RetrainResult"),
    "monitor": ("tfcls.monitoring.report", "monitor"),
    "MonitorReport": ("tfcls.monitoring.report", "MonitorReport"),
    "suggest": ("tfcls.labeling.suggest", "suggest"),
    "Suggestion": ("tfcls.labeling.suggest", "Suggestion"),
    "Predictor": ("tfcls.decision.predictor", "Predictor"),
    "LabelSetPredictor": ("tfcls.decision.label_predictor", "LabelSetPredictor"),
    "Config": ("tfcls.config", "Config"),
    "load_config": ("tfcls.config", "load_config"),
    "TfclsError": ("tfcls.errors", "TfclsError"),
}
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'tfcls' has no attribute {name!r}")
    module, attr = _API[name]
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
