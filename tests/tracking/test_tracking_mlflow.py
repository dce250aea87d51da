"""MLflow tracking: a run directory logged to a real local MLflow file store."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tfcls.config import dump_yaml, load_config
from tfcls.errors import TfclsError
from tfcls.tracking import mlflow as tracking

mlflow = pytest.importorskip("mlflow")  # the tfcls[mlflow] extra; `make test` installs it
from mlflow.tracking import MlflowClient  # noqa: E402

METRICS = {
    "labels": ["bug", "R&D"],
    "oof": {"accuracy": 0.875, "macro_f1": 0.81, "per_class": {"R&D": {"f1": 0.7}}},
    "test": {"accuracy": 0.9, "n": 40},
    "crossfit": {"adapt": {"oof_accuracy_per_epoch": [0.8, 0.85, 0.84]}, "folds": 5},
    "tuner": {"trials": 3, "distributed": False},
}


def _run_dir(root: Path, overrides: list[str]) -> Path:
    """A finished run's files (config, metrics, run.json, a model, tuner state)."""
    run = root / "runs" / "20261203-test"
    (run / "tuner" / "head" / "trial_00").mkdir(parents=True)
    (run / "tuner" / "head" / "trial_00" / "checkpoint.weights.h5").write_bytes(b"x" * 1000)
    (run / "encoder" / "encoder").mkdir(parents=True)
    (run / "encoder" / "encoder" / "saved_model.pb").write_bytes(b"pb")
    (run / "model.keras").write_bytes(b"keras")
    (run / "metrics.json").write_text(json.dumps(METRICS))
    (run / "run.json").write_text(json.dumps({"status": "complete", "task": "single_label"}))
    dump_yaml(load_config(None, overrides), run / "config.yaml")
    return run


def test_a_run_lands_in_a_local_file_store_with_params_metrics_tags_artifacts(tmp_path):
    store = tmp_path / "mlruns"
    overrides = [
        "tracking.mlflow.enabled=true",
        f"tracking.mlflow.tracking_uri={store}",
        "tracking.mlflow.experiment=tests",
        "tuner.max_trials=7",
    ]
    run_dir = _run_dir(tmp_path, overrides)
    run_id = tracking.log_run(run_dir)  # the run's own config.yaml
    assert run_id

    client = MlflowClient(tracking_uri=store.absolute().as_uri())
    run = client.get_run(run_id)
    assert client.get_experiment(run.info.experiment_id).name == "tests"
    assert run.info.status == "FINISHED" and run.info.run_name == run_dir.name
    params, metrics, tags = run.data.params, run.data.metrics, run.data.tags
    assert params["tuner.max_trials"] == "7" and params["tracking.mlflow.enabled"] == "true"
    assert params["encoder.handle"] == load_config().encoder.handle
    assert metrics["oof.accuracy"] == 0.875 and metrics["test.n"] == 40
    assert metrics["oof.per_class.R_D.f1"] == 0.7  # a label's "&" is not allowed in a key
    assert "tuner.distributed" not in metrics  # booleans are not metrics
    steps = client.get_metric_history(run_id, "crossfit.adapt.oof_accuracy_per_epoch")
    assert [(m.step, m.value) for m in steps] == [(0, 0.8), (1, 0.85), (2, 0.84)]
    assert tags["tfcls.task"] == "single_label" and tags["tfcls.version"]
    assert tags["tfcls.encoder"] == load_config().encoder.handle

    top = {a.path for a in client.list_artifacts(run_id)}
    assert top == {"config.yaml", "encoder", "metrics.json", "model.keras", "run.json"}
    assert [a.path for a in client.list_artifacts(run_id, "encoder/encoder")] == [
        "encoder/encoder/saved_model.pb"
    ]
    info = json.loads((run_dir / "run.json").read_text())
    assert info["mlflow"]["run_id"] == run_id and info["status"] == "complete"


def test_artifacts_are_optional_and_a_disabled_section_logs_nothing(tmp_path):
    store = tmp_path / "store"
    on = [
        "tracking.mlflow.enabled=true",
        f"tracking.mlflow.tracking_uri={store}",
        "tracking.mlflow.log_artifacts=false",
    ]
    run_dir = _run_dir(tmp_path, on)
    run_id = tracking.log_run(run_dir, load_config(None, on))
    client = MlflowClient(tracking_uri=store.absolute().as_uri())
    assert client.list_artifacts(run_id) == []
    assert client.get_run(run_id).data.metrics["oof.macro_f1"] == 0.81
    assert tracking.log_run(run_dir, load_config()) is None  # enabled: false


def test_none_means_mlruns_here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert tracking.store_uri(None) == (tmp_path / "mlruns").as_uri()
    assert tracking.store_uri("http://mlflow:5000") == "http://mlflow:5000"


def test_enabled_without_mlflow_installed_says_how_to_install(tmp_path, monkeypatch):
    on = ["tracking.mlflow.enabled=true", f"tracking.mlflow.tracking_uri={tmp_path / 's'}"]
    run_dir = _run_dir(tmp_path, on)
    monkeypatch.setitem(sys.modules, "mlflow", None)  # what an absent package imports as
    with pytest.raises(TfclsError, match=r"pip install 'tfcls\[mlflow\]'"):
        tracking.log_run(run_dir)
