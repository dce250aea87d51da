"""The report's ROC / PR curves, confidence histogram and worst/best classes (issue 14),
on a real single-label run (the tiny BERT run) and as properties of the ranking."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from tfcls.evaluation.evaluate import EvaluationResult, evaluate_run
from tfcls.evaluation.metrics import rank_by_f1

PNG = b"\x89PNG\r\n\x1a\n"
FIGURES = ("roc_curves.png", "pr_curves.png", "confidence_histogram.png")


def test_single_label_report_has_curves_histogram_and_ranking(tiny_run, cache_dir, monkeypatch):
    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    result = evaluate_run(tiny_run)
    assert isinstance(result, EvaluationResult)
    out = tiny_run / "evaluation" / result.name
    for name in FIGURES:
        assert (out / name).read_bytes()[:8] == PNG, name
    curves = json.loads((out / "curves.json").read_text())
    labels = result.record["labels"]
    assert list(curves["labels"]) == labels and curves["n"] == result.metrics["n"]
    # AUC / AP agree with scikit-learn on the same probabilities, class by class
    evaluation = json.loads((out / "evaluation.json").read_text())
    for label in labels:
        c = curves["labels"][label]
        assert c["positives"] == result.metrics["per_class"][label]["support"]
        if c["roc"] is not None:
            assert c["roc"]["fpr"][0] == 0.0 and c["roc"]["tpr"][-1] == 1.0
            assert evaluation["curves"]["labels"][label]["roc_auc"] == c["roc"]["auc"]
    ranking = result.record["class_ranking"]
    assert ranking["worst"][0]["f1"] <= ranking["best"][0]["f1"]
    page = result.report.read_text()
    for heading in ("ROC and precision-recall", "Worst and best classes by F1", "Confidence"):
        assert heading in page
    assert page.count("data:image/png;base64,") == 5  # confusion, reliability, + 3 new


def test_curves_match_sklearn_on_the_runs_own_probabilities(tiny_run, cache_dir, monkeypatch):
    """The figures in curves.json are one-vs-rest of the calibrated probabilities."""
    from tfcls.data.dataset import load_dataset
    from tfcls.decision.predictor import Predictor
    from tfcls.training.runs import Run

    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    run = Run(tiny_run)
    dataset = load_dataset(run.info()["data_path"], 1)
    test = [dataset.examples[i] for i in run.splits()["test"]]
    predictor = Predictor(tiny_run)
    proba, _ = predictor.predict_scores([e.text for e in test])
    curves = json.loads((tiny_run / "evaluation" / "test" / "curves.json").read_text())
    for j, label in enumerate(predictor.labels):
        truth = np.array([e.label == label for e in test])
        want = skm.roc_auc_score(truth, proba[:, j])
        assert curves["labels"][label]["roc"]["auc"] == pytest.approx(want, abs=1e-6)


per_class_tables = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=4),
    st.fixed_dictionaries(
        {
            "precision": st.floats(0, 1),
            "recall": st.floats(0, 1),
            "f1": st.floats(0, 1),
            "support": st.integers(0, 50),
        }
    ),
    min_size=1,
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(per_class_tables)
def test_ranking_is_sorted_disjoint_and_skips_absent_classes(table):
    ranking = rank_by_f1(table)
    worst, best = ranking["worst"], ranking["best"]
    present = [k for k, v in table.items() if v["support"] > 0]
    assert set(ranking["absent"]) == set(table) - set(present)
    assert [r["f1"] for r in worst] == sorted(r["f1"] for r in worst)
    assert [r["f1"] for r in best] == sorted((r["f1"] for r in best), reverse=True)
    assert not {r["label"] for r in worst} & {r["label"] for r in best}
    assert len(best) <= 10 and len(worst) <= 10
    if present:
        assert best and best[0]["f1"] == max(table[k]["f1"] for k in present)
    if len(present) > 1:
        assert worst[0]["f1"] == min(table[k]["f1"] for k in present)
    for r in worst + best:
        assert {"precision", "recall", "support"} <= set(r)
