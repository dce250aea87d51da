"""`python -m tfcls.evaluate`: metrics, calibration, error analysis and a self-contained report."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from conftest import INTENTS, child_env

from tfcls.errors import TfclsError
from tfcls.evaluation.evaluate import EvaluationResult, evaluate_run


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.srcs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.srcs.append(dict(attrs)["src"])


def run_evaluate(run_dir, cache_dir, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tfcls.evaluate", "--run", str(run_dir), *args],
        env=child_env(cache_dir),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_evaluating_the_test_split_matches_training_metrics(trained, cache_dir, monkeypatch):
    run_dir, _ = trained
    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    result = evaluate_run(run_dir)
    assert isinstance(result, EvaluationResult) and result.name == "test"
    train_metrics = json.loads((run_dir / "metrics.json").read_text())
    assert result.accuracy == pytest.approx(train_metrics["test"]["accuracy"])
    assert result.metrics["macro_f1"] == result.macro_f1
    assert result.macro_f1 == pytest.approx(train_metrics["test"]["macro_f1"])
    calib = json.loads((run_dir / "calibration.json").read_text())
    assert result.ece == pytest.approx(calib["test"]["ece_after"], abs=1e-6)
    out = run_dir / "evaluation" / "test"
    assert result.report == out / "report.html" and result.run_dir == run_dir
    # evaluation.json is the record; to_dict() adds the report (what --json writes)
    assert json.loads((out / "evaluation.json").read_text()) == json.loads(
        json.dumps(result.record)
    )
    assert result.to_dict() == {**result.record, "report": str(result.report)}
    assert result.at_threshold == result.record.get("at_threshold")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.ece = 0.0
    for name in (
        "evaluation.json",
        "curves.json",
        "confusion_matrix.png",
        "reliability.png",
        "roc_curves.png",
        "pr_curves.png",
        "confidence_histogram.png",
        "report.html",
    ):
        assert (out / name).is_file(), name
    assert (out / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    parser = _Images()
    parser.feed((out / "report.html").read_text())
    # confusion, reliability, confidence histogram, ROC, PR
    assert len(parser.srcs) == 5 and all(
        s.startswith("data:image/png;base64,") for s in parser.srcs
    )  # opens from disk
    errors = result.record["errors"]
    wrong = errors["misclassified"]
    assert all(e["true"] != e["predicted"] for e in wrong)
    assert [e["probability"] for e in wrong] == sorted(
        (e["probability"] for e in wrong), reverse=True
    )


def test_other_data_and_escaping_and_unknown_labels(trained, cache_dir, tmp_path):
    run_dir, _ = trained
    data = tmp_path / "extra.jsonl"
    rows = [
        {"text": "<script>alert(1)</script> wake me at 6", "label": "alarm_set"},
        {"text": "is it going to snow", "label": "weather_query"},
        {"text": "put on some jazz", "label": "play_music"},
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    proc = run_evaluate(
        run_dir, cache_dir, "--data", str(data), "--json", str(tmp_path / "out.json")
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1].startswith("accuracy ")
    assert json.loads((tmp_path / "out.json").read_text())["metrics"]["n"] == 3
    report = (run_dir / "evaluation" / "extra" / "report.html").read_text()
    assert "<script>" not in report  # cleaned away before it reaches the model
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        json.dumps({"text": "transfer money", "label": "bank_transfer"})
        + "\n"
        + json.dumps({"text": "hi", "label": INTENTS[0]})
        + "\n"
    )
    # a label the run does not know is scored by the unknown detection
    result = evaluate_run(run_dir, str(bad))
    unk = result.unknown
    assert unk is not None and unk == result.record["unknown"]
    assert unk["unknown_labels"] == ["bank_transfer"] and unk["n_unknown"] == 1
    assert unk["n_known"] == 1 and result.metrics["n"] == 1
    assert unk["unknown_recall"] in (0.0, 1.0) and unk["auroc"] in (0.0, 1.0)
    only_unknown = tmp_path / "only_unknown.jsonl"
    only_unknown.write_text(json.dumps({"text": "transfer money", "label": "bank_transfer"}))
    with pytest.raises(TfclsError, match="no example has a label the run knows"):
        evaluate_run(run_dir, str(only_unknown))
    # without unknown detection such labels are an error naming them
    plain = tmp_path / "run-without-unknown"
    shutil.copytree(run_dir, plain)
    calib = json.loads((plain / "calibration.json").read_text())
    del calib["unknown"]
    (plain / "calibration.json").write_text(json.dumps(calib))
    with pytest.raises(TfclsError, match="labels the run was not trained on: bank_transfer"):
        evaluate_run(plain, str(bad))


def test_report_tables_escape_text():
    from tfcls.evaluation.report import table_html

    cell = table_html(["text"], [['<img src=x onerror="alert(1)">']])
    assert "<img" not in cell and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in cell


def test_cross_validation_mode(trained, cache_dir, tmp_path):
    run_dir, _ = trained
    proc = run_evaluate(run_dir, cache_dir, "--cv", "2", "--json", str(tmp_path / "cv.json"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1].startswith("2-fold CV accuracy ")
    cv = json.loads((tmp_path / "cv.json").read_text())
    assert len(cv["folds"]) == 2 and sum(f["n"] for f in cv["folds"]) == 125
    assert 0.5 < cv["accuracy"]["mean"] <= 1.0 and cv["accuracy"]["std"] >= 0.0
    assert (run_dir / "evaluation" / "cv2" / "cross_validation.json").is_file()
