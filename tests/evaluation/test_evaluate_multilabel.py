"""`python -m tfcls.evaluate` of a multi-label run: label-set metrics, per-label curves,
the thresholds used, and clear errors for data that does not fit the run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import child_env, write_label_sets

from tfcls.errors import TfclsError
from tfcls.evaluation.evaluate import evaluate_run
from tfcls.evaluation.multilabel_evaluate import LabelSetEvaluationResult

PNG = b"\x89PNG\r\n\x1a\n"


def test_test_split_matches_the_training_metrics(tiny_multilabel_run, cache_dir, monkeypatch):
    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    run_dir = tiny_multilabel_run.run_dir
    result = evaluate_run(run_dir)
    assert isinstance(result, LabelSetEvaluationResult) and result.name == "test"
    trained = json.loads((run_dir / "metrics.json").read_text())["test"]
    for key in ("micro_f1", "macro_f1", "subset_accuracy", "hamming_loss", "n"):
        assert result.metrics[key] == pytest.approx(trained[key], abs=1e-6), key
    assert result.accuracy == result.subset_accuracy == result.metrics["subset_accuracy"]
    out = run_dir / "evaluation" / "test"
    record = json.loads((out / "evaluation.json").read_text())
    assert record == json.loads(json.dumps(result.record)) and record["task"] == "multi_label"
    calibration = json.loads((run_dir / "calibration.json").read_text())["labels"]
    assert record["thresholds"] == calibration  # the thresholds used
    curves = json.loads((out / "curves.json").read_text())
    assert list(curves["labels"]) == record["labels"]
    for label, c in curves["labels"].items():
        assert c["positives"] == record["metrics"]["per_label"][label]["support"]
        if c["roc"]:  # the same AUC as multilabel_metrics' rank-based one
            assert c["roc"]["auc"] == pytest.approx(
                record["metrics"]["per_label"][label]["roc_auc"]
            )
    for name in ("roc_curves.png", "pr_curves.png", "probability_histogram.png"):
        assert (out / name).read_bytes()[:8] == PNG, name
    page = result.report.read_text()
    assert "Worst and best labels by F1" in page and "Platt a" in page
    assert page.count("data:image/png;base64,") == 3
    for wrong in record["errors"]["wrong_label_sets"]:
        assert set(wrong["true"]) != set(wrong["predicted"])
        assert {m["label"] for m in wrong["missed"]} == set(wrong["true"]) - set(wrong["predicted"])


def test_other_data_an_absent_label_and_unknown_labels(
    tiny_multilabel_run, cache_dir, tmp_path, monkeypatch
):
    """A label with no text in the data has no ROC (null + reason, said on the page); a
    label the run does not know is set aside and counted; the command prints a summary."""
    run_dir = tiny_multilabel_run.run_dir
    rows = [
        {"text": "<b>invoice</b> refund crash", "labels": ["billing", "bug"]},
        {"text": "payment charge", "labels": ["billing"]},
        {"text": "error exception broken", "labels": ["bug", "security"]},
        {"text": "refund please", "labels": ["billing"]},
    ]
    data = tmp_path / "no_ui.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tfcls.evaluate",
            "--run",
            str(run_dir),
            "--data",
            str(data),
            "--json",
            str(tmp_path / "out.json"),
        ],
        env=child_env(cache_dir),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("micro-F1 ") and "subset accuracy" in last and "(n = 4)" in last
    assert "set aside, labels the run does not know: security" in proc.stdout
    out = json.loads((tmp_path / "out.json").read_text())
    assert out["unknown_labels"] == {"security": 1} and out["report"].endswith("report.html")
    curves = json.loads((run_dir / "evaluation" / "no_ui" / "curves.json").read_text())
    ui = curves["labels"]["ui"]
    assert ui["roc"] is None and ui["pr"] is None and "no positive" in ui["roc_undefined"]
    assert out["curves"]["labels"]["ui"]["roc_auc"] is None
    assert out["class_ranking"]["absent"] == ["ui"]
    page = (run_dir / "evaluation" / "no_ui" / "report.html").read_text()
    assert "Undefined curves" in page and "no positive example" in page
    assert "<b>" not in page  # cleaned before the model, escaped on the page
    # data whose labels the run knows none of is an error naming them
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"text": "hello", "labels": ["joy"]}) + "\n")
    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    with pytest.raises(TfclsError, match=r"no example has a label the run knows.*joy"):
        evaluate_run(run_dir, str(other))


def test_bad_data_and_cross_validation_are_clear_errors(tiny_multilabel_run, cache_dir, tmp_path):
    run_dir = tiny_multilabel_run.run_dir
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "crash", "labels": ["bug"]}\n{"text": "", "labels": ["bug"]}\n')
    for args, message in (
        (["--data", str(bad)], "bad.jsonl"),
        (["--cv", "2"], "a multi-label run; --cv cross-validates single-label runs only"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "tfcls.evaluate", "--run", str(run_dir), *args],
            env=child_env(cache_dir),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 2, proc.stdout
        assert message in proc.stderr and "Traceback" not in proc.stderr


def test_a_bigger_file_evaluates_in_process(tiny_multilabel_run, cache_dir, tmp_path, monkeypatch):
    """Any multi-label file the run's labels fit (here: fresh texts of the same topics)."""
    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    data = tmp_path / "fresh.jsonl"
    write_label_sets(data, n=40, seed=7)
    result = evaluate_run(tiny_multilabel_run.run_dir, str(data))
    assert result.name == "fresh" and result.metrics["n"] == 40
    assert result.to_dict()["report"] == str(result.report)
    assert 0.0 <= result.macro_f1 <= 1.0 and 0.0 <= result.micro_f1 <= 1.0
