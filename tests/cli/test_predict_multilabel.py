"""`python -m tfcls.predict` on a multi-label run: each text's label set with its per-label
calibrated probabilities, decided by the run's own thresholds (calibration.json)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import child_env

from tfcls.decision.label_predictor import LabelSetPredictor

TEXTS = ["invoice refund payment", "crash error button layout"]


def _predict(run_dir, cache_dir, *args: str, stdin: str | None = None):
    return subprocess.run(
        [sys.executable, "-m", "tfcls.predict", "--run", str(run_dir), *args],
        input=stdin,
        env=child_env(cache_dir),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_json_lines_are_the_library_decision(tiny_multilabel_run, cache_dir, monkeypatch):
    run_dir = tiny_multilabel_run.run_dir
    proc = _predict(run_dir, cache_dir, "--json", "-k", "2", stdin="\n".join(TEXTS) + "\n")
    assert proc.returncode == 0, proc.stderr
    *lines, summary = proc.stdout.strip().splitlines()
    rows = [json.loads(line) for line in lines]
    assert summary.startswith("predicted 2 text(s) with ") and "with a label set" in summary
    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    predictor = LabelSetPredictor(run_dir)
    want = predictor.predict(TEXTS, k=2)
    thresholds = dict(zip(predictor.labels, predictor.decision.thresholds, strict=True))
    for row, text, expected in zip(rows, TEXTS, want, strict=True):
        assert row["text"] == text and row["labels"] == expected["labels"]
        probs = {p["label"]: p["probability"] for p in row["predictions"]}
        assert set(probs) == set(predictor.labels)  # every label's calibrated probability
        for label, p in probs.items():
            assert (p >= thresholds[label]) == (label in row["labels"])
            assert p == pytest.approx(
                {q["label"]: q["probability"] for q in expected["predictions"]}[label], abs=1e-5
            )
        assert len(row["suggestions"]) <= 2 and row["auto_select"] == bool(row["labels"])
    # the library's predict is text_scores of the cleaned, joined text
    proba, _ = predictor.text_scores(TEXTS)
    got = [{p["label"]: p["probability"] for p in r["predictions"]} for r in want]
    np.testing.assert_allclose(
        [[g[label] for label in predictor.labels] for g in got], proba, rtol=1e-6
    )


def test_table_shows_label_sets(tiny_multilabel_run, cache_dir):
    proc = _predict(tiny_multilabel_run.run_dir, cache_dir, *TEXTS, "--description", "help")
    assert proc.returncode == 0, proc.stderr
    *lines, summary = proc.stdout.strip().splitlines()
    assert len(lines) == 2 and all("labels: " in line for line in lines)
    assert summary.startswith("predicted 2 text(s)")


def test_no_texts_is_a_clear_error(tiny_multilabel_run, cache_dir):
    proc = _predict(tiny_multilabel_run.run_dir, cache_dir, stdin="")
    assert proc.returncode == 2 and "no texts" in proc.stderr and "Traceback" not in proc.stderr
