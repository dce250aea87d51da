"""``python -m tfcls.evaluate --run RUN_DIR [--data PATH] [--json OUT]``: how good is a run?

``--cv K`` cross-validates the run's procedure instead; ``--ab`` reports, from the feedback
store, each served version's acceptance rate (accepted / all verdicts) with 95% intervals.

Without ``--data`` the run's own held-out test split is evaluated; with it, any dataset in
a supported format. Texts of labels the run was not trained on count as unknown: the
report gives unknown recall, in-scope accuracy and AUROC of the unknown detection (the
classification metrics cover the known labels). Results (metrics, per-class table,
confusion matrix, calibration, the auto-select threshold's coverage and precision, error
analysis, one-vs-rest ROC and PR curves, the worst and best classes by F1) go to
``RUN_DIR/evaluation/<name>/``: evaluation.json, curves.json (the curves' points),
confusion_matrix.png, reliability.png, roc_curves.png, pr_curves.png,
confidence_histogram.png (top calibrated probability, correct vs wrong, with the auto-select
threshold) and a self-contained report.html. Accuracy and macro-F1 are printed last.

A multi-label run is evaluated by :mod:`tfcls.evaluation.multilabel_evaluate` (label sets,
per-label thresholds); :func:`evaluate_run` hands it over.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tfcls.data.dataset import Example, load_dataset
from tfcls.decision import calibration
from tfcls.decision import unknown as ood
from tfcls.decision.predictor import Predictor
from tfcls.errors import TfclsError
from tfcls.evaluation import curves as roc
from tfcls.evaluation.metrics import classification_metrics, rank_by_f1
from tfcls.evaluation.multilabel_evaluate import LabelSetEvaluationResult, evaluate_multilabel_run
from tfcls.evaluation.report import write_report
from tfcls.training import runs
from tfcls.training.runs import Run


def _examples(run_dir: Path, data_path: str | None) -> tuple[list[Example], str, str, str]:
    """(examples, data path, data sha256, evaluation name)."""
    if data_path is None:
        dataset = runs.load_run_data(
            run_dir, 1, "its test split is gone; pass --data to evaluate on a file"
        )
        splits = runs.read_json(run_dir / Run.SPLITS)
        name = "test" if splits["test"] else "val"
        return [dataset.examples[int(i)] for i in splits[name]], dataset.path, dataset.sha256, name
    dataset = load_dataset(data_path, min_per_label=1, min_labels=1)
    return dataset.examples, str(data_path), dataset.sha256, Path(data_path).stem


def _error_analysis(
    examples: list[Example], proba: np.ndarray, y: np.ndarray, labels: list[str], limit: int
) -> dict[str, list[dict[str, Any]]]:
    pred, conf = proba.argmax(axis=1), proba.max(axis=1)
    wrong = [i for i in np.argsort(-conf) if pred[i] != y[i]][:limit]
    right = [i for i in np.argsort(conf) if pred[i] == y[i]][:limit]
    return {
        "misclassified": [
            {
                "text": examples[i].text,
                "source": examples[i].source,
                "true": labels[y[i]],
                "predicted": labels[pred[i]],
                "probability": float(conf[i]),
                "true_probability": float(proba[i, y[i]]),
            }
            for i in wrong
        ],
        "least_confident_correct": [
            {
                "text": examples[i].text,
                "source": examples[i].source,
                "true": labels[y[i]],
                "probability": float(conf[i]),
            }
            for i in right
        ],
    }


@dataclass(frozen=True)
class EvaluationResult:
    """What :func:`evaluate_run` returns: the figures and where they were written.

    ``metrics`` are the classification metrics of the known labels (accuracy, macro-F1,
    per-class table, confusion matrix); ``at_threshold`` the auto-select threshold's
    coverage and precision (None: the run never auto-selects); ``unknown`` the unknown
    detection's figures (None: the run has none). ``record`` is evaluation.json's content;
    :meth:`to_dict` adds the report's path (what ``--json`` writes).
    """

    run_dir: Path
    name: str
    data: str
    report: Path
    metrics: dict[str, Any]
    ece: float
    nll: float
    at_threshold: dict[str, Any] | None
    unknown: dict[str, Any] | None
    record: dict[str, Any]

    @classmethod
    def from_record(cls, record: dict[str, Any], report: Path) -> EvaluationResult:
        return cls(
            run_dir=Path(record["run"]),
            name=record["name"],
            data=record["data"],
            report=report,
            metrics=record["metrics"],
            ece=record["ece"],
            nll=record["nll"],
            at_threshold=record.get("at_threshold"),
            unknown=record.get("unknown"),
            record=record,
        )

    @property
    def accuracy(self) -> float:
        return self.metrics["accuracy"]

    @property
    def macro_f1(self) -> float:
        return self.metrics["macro_f1"]

    def to_dict(self) -> dict[str, Any]:
        return {**self.record, "report": str(self.report)}


def evaluate_run(
    run_dir: str | Path, data_path: str | None = None, max_errors: int = 25
) -> EvaluationResult | LabelSetEvaluationResult:
    """Evaluate a run; write evaluation.json, curves.json, PNGs and report.html; return the
    results: an :class:`EvaluationResult`, or for a multi-label run a
    :class:`tfcls.evaluation.multilabel_evaluate.LabelSetEvaluationResult`."""
    run_dir = Path(run_dir)
    if Run(run_dir).finished("evaluation", multi_label=True).task() == "multi_label":
        return evaluate_multilabel_run(run_dir, data_path, max_errors)
    return _evaluate_single_label(run_dir, data_path, max_errors)


def _evaluate_single_label(
    run_dir: Path, data_path: str | None, max_errors: int
) -> EvaluationResult:
    """:func:`evaluate_run` of a single-label run."""
    predictor = Predictor(run_dir, purpose="evaluation")
    rule = predictor.calibration
    examples, data, sha, name = _examples(run_dir, data_path)
    index = {label: i for i, label in enumerate(predictor.labels)}
    unknown_labels = sorted({e.label for e in examples} - set(index))
    if unknown_labels and rule.unknown is None:
        raise TfclsError(
            f"{data}: labels the run was not trained on: {', '.join(unknown_labels)}; "
            f"the run knows {', '.join(predictor.labels)} and has no unknown detection "
            "(decision.unknown_detection) to evaluate the others with"
        )
    proba_all, similarity = predictor.predict_scores([e.text for e in examples])
    is_unknown = np.array([e.label not in index for e in examples], dtype=bool)
    if is_unknown.all():
        raise TfclsError(f"{data}: no example has a label the run knows ({', '.join(index)})")
    known = [e for e in examples if e.label in index]
    y = np.array([index[e.label] for e in known], dtype=np.int64)
    proba = proba_all[~is_unknown]
    curves = roc.curves_record(roc.one_hot(y, len(predictor.labels)), proba, predictor.labels)
    metrics = classification_metrics(y, proba, predictor.labels)
    result: dict[str, Any] = {
        "run": str(run_dir),
        "data": data,
        "data_sha256": sha,
        "name": name,
        "labels": predictor.labels,
        "temperature": rule.temperature,
        "metrics": metrics,
        "class_ranking": rank_by_f1(metrics["per_class"]),
        "curves": roc.summary(curves),
        "ece": calibration.ece(proba, y),
        "nll": calibration.nll(proba, y),
        "reliability": vars(calibration.reliability(proba, y)),
        "errors": _error_analysis(known, proba, y, predictor.labels, max_errors),
    }
    if rule.threshold is not None:
        result["at_threshold"] = calibration.evaluate_threshold(proba, y, rule.threshold)
    if rule.unknown is not None:
        correct = np.zeros(len(examples), dtype=bool)
        correct[~is_unknown] = proba.argmax(axis=1) == y
        scores = ood.unknown_scores(rule.unknown.score, proba_all, similarity)
        result["unknown"] = {
            **ood.evaluate_detection(rule.unknown.threshold, scores, is_unknown, correct),
            "score": rule.unknown.score,
            "unknown_labels": unknown_labels,
        }
    out_dir = run_dir / "evaluation" / name
    out_dir.mkdir(parents=True, exist_ok=True)
    runs.write_json(out_dir / "evaluation.json", result)
    runs.write_json(out_dir / "curves.json", curves)
    correct = proba.argmax(axis=1) == y
    report = write_report(out_dir, result, curves, proba.max(axis=1), correct)
    return EvaluationResult.from_record(result, report)


def cross_validate_run(run_dir: str | Path, folds: int) -> dict[str, Any]:
    """k-fold CV of the run's whole procedure (its config, tuning included) on its data."""
    from tfcls.config import load_config
    from tfcls.encoders import load_encoder_from
    from tfcls.evaluation.crossval import cross_validate_dataset

    run_dir = Path(run_dir)
    if Run(run_dir).task() == "multi_label":
        raise TfclsError(
            f"{run_dir}: a multi-label run; --cv cross-validates single-label runs only so far "
            "(evaluate it on its test split or --data instead)"
        )
    config = load_config(run_dir / Run.CONFIG)
    dataset = runs.load_run_data(
        run_dir, config.data.min_per_label, "cross-validate a new run instead"
    )
    out_dir = run_dir / "evaluation" / f"cv{folds}"
    base = runs.read_json(run_dir / Run.INFO).get("base_encoder")
    if base:  # the run's own encoder was adapted on all its data: start from its base
        config.encoder.handle, config.encoder.preprocessor = base["handle"], base["preprocessor"]
    result = cross_validate_dataset(
        load_encoder_from(config.encoder), dataset, config, folds, out_dir
    )
    result["run"] = str(run_dir)
    runs.write_json(out_dir / "cross_validation.json", result)
    return result
