"""``python -m tfcls.evaluate`` of a multi-label run: how good are its label sets?

The run's own held-out test split (its validation part when it has no test split) is
evaluated, or any multi-label file given by ``--data`` (:mod:`tfcls.data.multilabel`, the
run's ``data.label_delimiter``; texts repeated with other label sets are kept, as public sets
have them). Each text's calibrated per-label probabilities come from
:class:`tfcls.decision.label_predictor.LabelSetPredictor`, its label set from the run's
per-label thresholds (``calibration.json``). Labels in the data the run was not trained on
are set aside (counted in ``unknown_labels``): a multi-label run has no unknown detection,
and the labels it knows are still scored on those texts.

Written to ``RUN_DIR/evaluation/<name>/``: evaluation.json (micro / macro / weighted F1,
per-label precision / recall / F1 / support / ROC-AUC / AP, subset accuracy, Hamming loss,
cardinalities, thresholds used, worst and best labels, the texts most wrong), curves.json,
roc_curves.png, pr_curves.png, probability_histogram.png and report.html
(:mod:`tfcls.evaluation.multilabel_report`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tfcls.data.multilabel import LabelSetExample, load_multilabel
from tfcls.decision.label_predictor import LabelSetPredictor
from tfcls.errors import TfclsError
from tfcls.evaluation import curves as roc
from tfcls.evaluation.metrics import rank_by_f1
from tfcls.evaluation.multilabel_metrics import multilabel_metrics
from tfcls.evaluation.multilabel_report import write_multilabel_report
from tfcls.training import runs
from tfcls.training.runs import Run


@dataclass(frozen=True)
class LabelSetEvaluationResult:
    """What evaluating a multi-label run returns: the figures and where they were written.

    ``metrics`` is :func:`tfcls.evaluation.multilabel_metrics.multilabel_metrics` of the
    evaluated texts; ``record`` evaluation.json's content; :meth:`to_dict` adds the
    report's path (what ``--json`` writes). ``accuracy`` is the subset accuracy (the whole
    label set right), so code reading ``result.accuracy`` works for both kinds of run.
    """

    run_dir: Path
    name: str
    data: str
    report: Path
    metrics: dict[str, Any]
    record: dict[str, Any]

    task = "multi_label"

    @property
    def accuracy(self) -> float:
        return self.metrics["subset_accuracy"]

    @property
    def subset_accuracy(self) -> float:
        return self.metrics["subset_accuracy"]

    @property
    def micro_f1(self) -> float:
        return self.metrics["micro_f1"]

    @property
    def macro_f1(self) -> float:
        return self.metrics["macro_f1"]

    def to_dict(self) -> dict[str, Any]:
        return {**self.record, "report": str(self.report)}


def _examples(run: Run, data_path: str | None) -> tuple[list[LabelSetExample], str, str, str]:
    """(examples, data path, data sha256, evaluation name)."""
    if data_path is None:
        dataset = run.label_sets("its test split is gone; pass --data to evaluate on a file")
        splits = run.splits()
        name = "test" if len(splits["test"]) else "val"
        return dataset.subset(splits[name]).examples, dataset.path, dataset.sha256, name
    delimiter = run.config().data.label_delimiter
    dataset = load_multilabel(data_path, 1, delimiter, min_labels=1, conflicts="keep")
    return dataset.examples, str(data_path), dataset.sha256, Path(data_path).stem


def _truth(
    examples: list[LabelSetExample], labels: list[str], data: str
) -> tuple[np.ndarray, dict[str, int]]:
    """0/1 [n, labels] in the run's label order, and the data's labels the run does not
    know with their counts (set aside; an error when the data has no label the run knows)."""
    index = {label: j for j, label in enumerate(labels)}
    y = np.zeros((len(examples), len(labels)), np.int8)
    unknown: Counter[str] = Counter()
    for i, example in enumerate(examples):
        for label in example.labels:
            if label in index:
                y[i, index[label]] = 1
            else:
                unknown[label] += 1
    if unknown and not y.any():
        raise TfclsError(
            f"{data}: no example has a label the run knows ({', '.join(labels)}); its labels "
            f"are {', '.join(sorted(unknown))}: is this the run's kind of data?"
        )
    return y, dict(sorted(unknown.items()))


def _errors(
    examples: list[LabelSetExample],
    proba: np.ndarray,
    y: np.ndarray,
    pred: np.ndarray,
    labels: list[str],
    limit: int,
) -> list[dict[str, Any]]:
    """The texts whose label set is wrong, the most confidently wrong first (largest total
    distance of the probabilities from the truth), with the labels missed and the extra ones."""
    wrong = np.flatnonzero((y != pred).any(axis=1))
    distance = np.abs(proba - y).sum(axis=1)
    out = []
    for i in wrong[np.argsort(-distance[wrong], kind="stable")][:limit]:

        def named(mask: np.ndarray, row: int = int(i)) -> list[dict[str, Any]]:
            return [
                {"label": labels[j], "probability": float(proba[row, j])}
                for j in np.flatnonzero(mask)
            ]

        out.append(
            {
                "text": examples[i].text,
                "source": examples[i].source,
                "true": [labels[j] for j in np.flatnonzero(y[i])],
                "predicted": [labels[j] for j in np.flatnonzero(pred[i])],
                "missed": named((y[i] > 0) & (pred[i] == 0)),
                "extra": named((y[i] == 0) & (pred[i] > 0)),
            }
        )
    return out


def evaluate_multilabel_run(
    run_dir: str | Path, data_path: str | None = None, max_errors: int = 25
) -> LabelSetEvaluationResult:
    """Evaluate a multi-label run (the module doc); write evaluation.json, curves.json,
    the PNGs and report.html; return the results."""
    run_dir = Path(run_dir)
    predictor = LabelSetPredictor(run_dir, purpose="evaluation")
    labels = predictor.labels
    examples, data, sha, name = _examples(predictor.run, data_path)
    y, unknown = _truth(examples, labels, data)
    proba, _ = predictor.text_scores([e.text for e in examples])
    thresholds = predictor.decision.thresholds
    pred = (proba >= thresholds).astype(np.int8)
    metrics = multilabel_metrics(y, pred, proba, labels)
    curves = roc.curves_record(y, proba, labels)
    result: dict[str, Any] = {
        "run": str(run_dir),
        "task": "multi_label",
        "data": data,
        "data_sha256": sha,
        "name": name,
        "labels": labels,
        "thresholds": predictor.decision.to_dict(),
        "metrics": metrics,
        "class_ranking": rank_by_f1(metrics["per_label"]),
        "curves": roc.summary(curves),
        "unknown_labels": unknown,
        "errors": {"wrong_label_sets": _errors(examples, proba, y, pred, labels, max_errors)},
    }
    out_dir = run_dir / "evaluation" / name
    out_dir.mkdir(parents=True, exist_ok=True)
    runs.write_json(out_dir / "evaluation.json", result)
    runs.write_json(out_dir / "curves.json", curves)
    report = write_multilabel_report(out_dir, result, curves, proba, y)
    return LabelSetEvaluationResult(
        run_dir=run_dir, name=name, data=data, report=report, metrics=metrics, record=result
    )
