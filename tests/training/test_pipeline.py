"""Training end to end with the real encoder on a small real dataset: the command
(`python -m tfcls.train`: its output, its errors, a killed and resumed run, a second
process reproducing the first) and, in process, the library (`tfcls.train`)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from conftest import INTENTS, TRAIN_OVERRIDES, child_env, run_train, train_cmd

from tfcls.decision.calibration import apply_temperature
from tfcls.decision.unknown import nearest_similarity
from tfcls.errors import TfclsError
from tfcls.training.model import load_model


def test_run_directory_holds_everything(trained):
    run_dir, proc = trained
    summary = proc.stdout.strip().splitlines()[-1]
    assert summary.startswith("test accuracy ") and f"run {run_dir}" in summary
    for name in (
        "config.yaml",
        "data.json",
        "splits.json",
        "label_map.json",
        "run.json",
        "tuner_summary.json",
        "best_hparams.json",
        "head.keras",
        "model.keras",
        "history.json",
        "metrics.json",
        "checkpoints/head.weights.h5",
        "encoder/encoder/saved_model.pb",  # the adapted encoder (train.adapt.layers: 4)
        "encoder/preprocessor/saved_model.pb",
    ):
        assert (run_dir / name).exists(), name
    assert list((run_dir / "logs").rglob("*tfevents*")), "no TensorBoard logs"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["tuner"] == {"trials": 3, "completed": 3, "failed": 0}
    assert metrics["test"]["accuracy"] > 0.6  # 5 well-separated intents
    assert set(metrics["test"]["per_class"]) == set(INTENTS)
    data = json.loads((run_dir / "data.json").read_text())
    assert data["examples"] == 125 and len(data["sha256"]) == 64
    assert json.loads((run_dir / "run.json").read_text())["status"] == "complete"
    splits = json.loads((run_dir / "splits.json").read_text())
    assert not set(splits["train"]) & set(splits["test"])
    assert "trial 3: completed" in proc.stderr
    # the default procedure: cross-fitted, encoder adapted, the run names its own encoder
    crossfit = metrics["crossfit"]
    assert crossfit["folds"] == 3 and crossfit["adapt"]["layers"] == 4
    assert 1 <= crossfit["adapt"]["epochs_chosen"] <= crossfit["adapt"]["epochs_scheduled"]
    assert f"handle: {run_dir / 'encoder'}\n" in (run_dir / "config.yaml").read_text()
    base = json.loads((run_dir / "run.json").read_text())["base_encoder"]
    assert base["handle"] == "all-MiniLM-L6-v2"
    assert "cross-fitting fold 3/3" in proc.stderr


def test_full_model_takes_strings_and_head_takes_embeddings(trained, cache_dir, monkeypatch):
    from tfcls.encoders import load_encoder

    run_dir, _ = trained
    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    labels = json.loads((run_dir / "metrics.json").read_text())["labels"]
    model = load_model(run_dir / "model.keras")
    texts = ["wake me up at seven tomorrow", "will it rain in paris today"]
    proba = model.predict(tf.constant(texts), verbose=0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert [labels[i] for i in proba.argmax(1)] == ["alarm_set", "weather_query"]
    head = load_model(run_dir / "head.keras")
    temperature = json.loads((run_dir / "calibration.json").read_text())["temperature"]
    adapted = load_encoder(str(run_dir / "encoder"), cache_dir=cache_dir, use_cache=False)
    raw = head.predict(adapted.embed(texts), verbose=0)
    np.testing.assert_allclose(apply_temperature(raw, temperature), proba, atol=1e-5)


def test_nearest_unknown_score_travels_inside_the_model(
    tiny_run, tiny_pair, cache_dir, monkeypatch
):
    from tfcls.encoders import load_encoder

    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    model = load_model(tiny_run / "model.keras")
    texts = ["wake me up at seven tomorrow", "will it rain in paris today"]
    out = model.predict(tf.constant(texts), verbose=0)
    references = np.load(tiny_run / "references.npy")
    splits = json.loads((tiny_run / "splits.json").read_text())
    assert references.shape[0] == len(splits["train"]) + len(splits["val"])
    # the run's own (adapted) encoder embeds what the references are compared with
    own = load_encoder(str(tiny_run / "encoder"), cache_dir=cache_dir, use_cache=False)
    assert own.fingerprint != load_encoder(str(tiny_pair), cache_dir=cache_dir).fingerprint
    vectors = own.embed(texts)
    np.testing.assert_allclose(
        out["similarity"], nearest_similarity(vectors, references), atol=1e-5
    )
    assert out["probabilities"].shape == (2, 5)
    unknown = json.loads((tiny_run / "calibration.json").read_text())["unknown"]
    assert unknown["score"] == "nearest" and unknown["oof_known_kept"] >= 0.95


def test_run_is_calibrated_with_a_threshold_that_meets_its_target(trained):
    run_dir, _ = trained
    calib = json.loads((run_dir / "calibration.json").read_text())
    assert 0.05 < calib["temperature"] < 20
    threshold = calib["threshold"]
    assert threshold["target_precision"] == 0.95
    assert threshold["precision"] >= 0.95 or threshold["coverage"] == 0.0
    assert calib["oof"]["nll_after"] <= calib["oof"]["nll_before"] + 1e-9
    assert set(calib["test"]["at_threshold"]) == {"threshold", "coverage", "precision"}
    # chosen on out-of-fold predictions of every training text, not a validation split
    splits = json.loads((run_dir / "splits.json").read_text())
    assert calib["oof"]["n"] == len(splits["train"]) + len(splits["val"])
    assert sum(calib["reliability"]["oof"]["counts"]) == calib["oof"]["n"]
    assert len(calib["spread"]["threshold_per_fold"]) == 3
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["calibration"]["temperature"] == calib["temperature"]


def test_same_data_config_and_seed_give_the_same_metrics(trained, small_dataset, cache_dir):
    run_dir, _ = trained
    again = run_train(
        train_cmd(small_dataset, run_dir.parent, "--max-trials", "3", "--name", "b"), cache_dir
    )
    assert again.returncode == 0, again.stderr
    first = json.loads((run_dir / "metrics.json").read_text())
    second = json.loads((run_dir.parent / "b" / "metrics.json").read_text())
    for key in ("hyperparameters", "oof", "test"):
        assert first[key] == second[key], key
    assert second["embedding_cache"]["misses"] == 0  # every text came from the cache


@pytest.mark.slow
def test_resume_after_a_killed_run_finishes_the_remaining_trials(
    small_dataset, cache_dir, tmp_path
):
    args = train_cmd(
        small_dataset, tmp_path, "--max-trials", "6", "--name", "r",
        "--set", "train.adapt.layers=0",  # resuming is the search's; adaptation is not needed
    )  # fmt: skip
    env = child_env(cache_dir)
    proc = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    tuner_dir = tmp_path / "r" / "tuner" / "head"
    deadline = time.time() + 300
    while time.time() < deadline:
        done = [json.loads(p.read_text()) for p in tuner_dir.glob("trial_*/trial.json")]
        if sum(t["status"] == "COMPLETED" for t in done) >= 2:
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {
        p.parent.name: json.loads(p.read_text()) for p in tuner_dir.glob("trial_*/trial.json")
    }
    finished_before = {k: v["score"] for k, v in before.items() if v["status"] == "COMPLETED"}
    assert 2 <= len(finished_before) < 6
    assert json.loads((tmp_path / "r" / "run.json").read_text())["status"] == "running"

    resumed = run_train(
        [sys.executable, "-m", "tfcls.train", "--resume", str(tmp_path / "r")], cache_dir
    )
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads((tmp_path / "r" / "tuner_summary.json").read_text())
    assert sum(t["status"] == "COMPLETED" for t in summary) == 6
    scores = {f"trial_{t['trial_id']}": t["score"] for t in summary}
    for trial, score in finished_before.items():  # finished trials were kept, not rerun
        assert scores[trial] == score
    assert json.loads((tmp_path / "r" / "run.json").read_text())["status"] == "complete"


def test_resume_refuses_changed_data_and_extra_options(trained, small_dataset, tmp_path, cache_dir):
    import tfcls
    from tfcls.cli.train import main

    run_dir, _ = trained
    with pytest.raises(TfclsError, match="--resume uses the run's own config"):
        main(["--resume", str(run_dir), "--set", "tuner.max_trials=9"])  # the command
    with pytest.raises(TfclsError, match="resume uses the run's own config, data and mode"):
        tfcls.train(tfcls.load_config(), resume=run_dir)  # the library
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    changed = tmp_path / "changed.jsonl"
    changed.write_text(small_dataset.read_text() + '{"text": "one more", "label": "play_music"}\n')
    run = json.loads((copy / "run.json").read_text())
    run["data_path"] = str(changed)
    (copy / "run.json").write_text(json.dumps(run))
    with pytest.raises(TfclsError, match="changed since"):
        tfcls.train(resume=copy)


def test_bad_dataset_is_a_one_line_error(tmp_path, cache_dir):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a", "label": "x"}\n{"text": 3, "label": "y"}\n')
    # the data is refused before training: no overrides needed (and none that could warn)
    args = [sys.executable, "-m", "tfcls.train", "--data", str(bad), "--output-dir", str(tmp_path)]
    proc = run_train(args, cache_dir)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ")
    assert f"{bad}:2" in proc.stderr and "Traceback" not in proc.stderr


def test_run_ships_unknown_detection(trained, cache_dir, monkeypatch):
    from tfcls.decision.predictor import Predictor

    run_dir, _ = trained
    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    calib = json.loads((run_dir / "calibration.json").read_text())
    unknown = calib["unknown"]
    assert unknown["score"] == "max_softmax" and unknown["known_recall"] == 0.95
    assert unknown["oof_known_kept"] >= 0.95 and 0 <= unknown["test_known_kept"] <= 1
    # unknown is decided first and never capped; auto-select is raised to it instead
    assert unknown["threshold"] <= calib["threshold"]["threshold"]
    assert "capped_at_auto_select" not in unknown
    assert not (run_dir / "references.npy").exists()  # max_softmax needs no embeddings
    predictor = Predictor(run_dir)
    texts = [
        "set an alarm for 6am",
        "quarterly revenue of the mining company fell by three percent",
        "hmm",
    ]
    proba = predictor.predict_proba(texts)
    for p, r in zip(proba, predictor.predict(texts), strict=True):
        assert r["unknown"] == (p.max() < unknown["threshold"])
        assert not (r["unknown"] and r["auto_select"])  # an unknown text is never auto-selected
    assert not predictor.predict(texts[:1])[0]["unknown"]


@pytest.mark.slow
def test_train_with_contrastive_tuning_then_adaptation(
    small_dataset, cache_dir, tmp_path, monkeypatch
):
    import tfcls
    from tfcls.decision.predictor import Predictor

    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    config = tfcls.load_config(
        None,
        [
            *TRAIN_OVERRIDES,
            "tuner.max_trials=2",
            f"train.output_dir={tmp_path}",
            "train.contrastive.enabled=true",  # SetFit pairs first, then the adaptation
            "train.contrastive.iterations=1",
            "train.contrastive.learning_rate=0.0001",
            "train.adapt.layers=1",  # quicker
            "train.crossfit_folds=2",
        ],
    )
    result = tfcls.train(config, data=small_dataset, name="ft")
    assert result.run_dir == tmp_path / "ft"
    assert config.encoder.handle == "all-MiniLM-L6-v2"  # the caller's config is not changed
    metrics = json.loads((tmp_path / "ft" / "metrics.json").read_text())
    assert metrics == result.metrics
    pairs = metrics["contrastive"]
    assert pairs["separation_after"] > pairs["separation_before"], pairs
    assert pairs["encoder"] == str(tmp_path / "ft" / "contrastive" / "encoder")
    adapt = metrics["crossfit"]["adapt"]
    assert len(adapt["oof_accuracy_per_epoch"]) == 2
    run_config = (tmp_path / "ft" / "config.yaml").read_text()
    assert f"handle: {tmp_path / 'ft' / 'encoder'}\n" in run_config  # adapted from the tuned one
    assert "  contrastive:\n    enabled: true\n" in run_config  # the nested sections
    base = json.loads((tmp_path / "ft" / "run.json").read_text())["base_encoder"]
    assert base["handle"] == "all-MiniLM-L6-v2"  # cross-validation starts from it
    assert (
        Predictor(result.run_dir).predict(["set an alarm"])[0]["predictions"][0]["label"]
        == "alarm_set"
    )
