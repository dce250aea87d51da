"""`python -m tfcls.predict` and the Predictor API on a trained run."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from conftest import child_env

from tfcls.decision.predictor import Predictor
from tfcls.errors import TfclsError


def test_predictor_top_k_sorted_and_summing_to_one(trained, cache_dir, monkeypatch):
    run_dir, _ = trained
    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    predictor = Predictor(run_dir)
    proba = predictor.predict_proba(["set an alarm for 6am", "what's the forecast"])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    top = predictor.predict(["set an alarm for 6am"], k=3)[0]["predictions"]
    assert top[0]["label"] == "alarm_set" and len(top) == 3
    assert top[0]["probability"] >= top[1]["probability"] >= top[2]["probability"]
    # the description joins the title exactly as in training
    with_desc = predictor.predict_proba(["alarm"], ["wake me at 7"])
    np.testing.assert_allclose(
        with_desc, predictor.predict_proba(["alarm. wake me at 7"]), atol=1e-6
    )
    # model texts as they are give the same scores as the joined title and description
    given, _ = predictor.text_scores(["alarm. wake me at 7"])
    np.testing.assert_allclose(given, with_desc, atol=1e-6)
    # the run's state is its calibration; no alias attributes beside it
    assert predictor.run.dir == run_dir and predictor.calibration.temperature > 0
    for alias in ("run_dir", "temperature", "threshold", "unknown", "batch_size"):
        assert not hasattr(predictor, alias), alias


def test_cli_reads_stdin_and_defaults_to_the_latest_run(trained, cache_dir):
    import subprocess

    run_dir, _ = trained
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tfcls.predict",
            "--set",
            f"train.output_dir={run_dir.parent}",
            "--json",
        ],
        input="play some jazz\nemail from my boss?\n",
        env=child_env(cache_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    *lines, summary = proc.stdout.strip().splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["predictions"][0]["label"] for r in rows] == ["play_music", "email_query"]
    assert summary.startswith("predicted 2 text(s) with ")


def test_not_a_run_directory(tmp_path):
    with pytest.raises(TfclsError, match=r"no head\.keras; prediction needs a finished run"):
        Predictor(tmp_path)
    with pytest.raises(TfclsError, match=r"no head\.keras; export needs a finished run"):
        Predictor(tmp_path, purpose="export")
