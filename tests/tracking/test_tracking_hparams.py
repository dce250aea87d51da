"""Tuner trials in TensorBoard's HParams tab: a real KerasTuner search, real event files."""

from __future__ import annotations

import io
import json
from pathlib import Path

import keras
import keras_tuner as kt
import numpy as np
import pytest
import tensorflow as tf
from tensorboard.plugins.hparams import metadata, plugin_data_pb2

from tfcls.config import load_config
from tfcls.progress_keras import EpochProgress, TrialProgress
from tfcls.tracking.hparams import write_hparams, write_run_hparams
from tfcls.training.tuning import trial_summary


def _build(hp: kt.HyperParameters) -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(hp.Int("units", 4, 16, step=4), activation="relu"),
            keras.layers.Dropout(hp.Float("dropout", 0.0, 0.5)),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    optimizer = hp.Choice("optimizer", ["adam", "sgd"])
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory):
    """A 3-trial random search with the progress hook, and what the hook printed."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    stream = io.StringIO()

    class Tuner(kt.RandomSearch):
        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            self.progress.trial_end(trial)

    tuner = Tuner(
        _build,
        objective="val_accuracy",
        max_trials=3,
        seed=1,
        directory=str(tmp_path_factory.mktemp("tuner")),
        project_name="head",
    )
    tuner.progress = TrialProgress.for_tuner(tuner, 3, stream=stream, interval=0.0)
    epochs = EpochProgress("fit", stream=stream, interval=0.0)
    tuner.search(x, y, validation_split=0.25, epochs=2, verbose=0, callbacks=[epochs])
    tuner.progress.close()
    return tuner, stream.getvalue()


def _plugin_data(event_dir: Path) -> list[tuple[str, plugin_data_pb2.HParamsPluginData]]:
    """(tag, HParams plugin data) of every hparams summary in a folder's event files."""
    out = []
    for path in sorted(event_dir.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == metadata.PLUGIN_NAME:
                    data = plugin_data_pb2.HParamsPluginData.FromString(
                        value.metadata.plugin_data.content
                    )
                    out.append((value.tag, data))
    return out


def _scalars(event_dir: Path) -> dict[str, float]:
    out = {}
    for path in event_dir.glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "scalars":
                    out[value.tag] = float(tf.make_ndarray(value.tensor))
    return out


def test_the_hooks_report_trials_with_the_best_score_and_epochs(searched):
    tuner, printed = searched
    lines = printed.splitlines()
    best = max(t.score for t in tuner.oracle.trials.values())
    assert [ln for ln in lines if ln.startswith("tuner: ")][-1].startswith("tuner: 3/3 trials")
    assert lines[-1].endswith(f"; best val_accuracy {best:.4f}")
    assert any(ln.startswith("fit: 1/2 epochs") and "val_accuracy" in ln for ln in lines)


def test_a_resumed_search_starts_its_count_from_the_trials_it_has(searched):
    tuner, _ = searched
    again = kt.RandomSearch(
        _build,
        objective="val_accuracy",
        max_trials=5,
        directory=tuner.directory,
        project_name="head",
        overwrite=False,
    )
    resumed = TrialProgress.for_tuner(again, 5, stream=io.StringIO())
    assert resumed.bar.done == 3
    assert resumed.best == max(t.score for t in tuner.oracle.trials.values())
    resumed.close()


def test_every_trial_is_a_session_of_the_hparams_experiment(searched, tmp_path):
    tuner, _ = searched
    trials = trial_summary(tuner)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "tuner_summary.json").write_text(json.dumps(trials))
    config = load_config(None, ["train.tensorboard=true", "tracking.hparams=true"])
    log_dir = write_run_hparams(run_dir, config)
    assert log_dir == run_dir / "logs" / "hparams"

    ((tag, experiment),) = _plugin_data(log_dir)
    assert tag == metadata.EXPERIMENT_TAG
    info = experiment.experiment
    assert {h.name for h in info.hparam_infos} == {"units", "dropout", "optimizer"}
    assert [m.name.tag for m in info.metric_infos] == ["val_accuracy"]
    sessions = sorted(p for p in log_dir.iterdir() if p.is_dir())
    assert [p.name for p in sessions] == [f"trial_{t['trial_id']}" for t in trials]
    for trial, session in zip(trials, sessions, strict=True):
        ((tag, start),) = _plugin_data(session)
        assert tag == metadata.SESSION_START_INFO_TAG
        values = start.session_start_info.hparams
        assert values["units"].number_value == trial["hyperparameters"]["units"]
        assert values["optimizer"].string_value == trial["hyperparameters"]["optimizer"]
        assert _scalars(session)["val_accuracy"] == pytest.approx(trial["score"])


def test_failed_trials_are_left_out_and_switches_are_honoured(tmp_path):
    trials = [
        {"trial_id": "0", "status": "COMPLETED", "score": 0.5, "hyperparameters": {"lr": 1}},
        {"trial_id": "1", "status": "COMPLETED", "score": 0.7, "hyperparameters": {"lr": 0.1}},
        {"trial_id": "2", "status": "FAILED", "score": None, "hyperparameters": {"lr": 0.01}},
    ]
    assert write_hparams(tmp_path / "hp", trials, "val_loss") == 2
    ((_, first),) = _plugin_data(tmp_path / "hp" / "trial_0")
    assert first.session_start_info.hparams["lr"].number_value == 1.0  # int in a float range
    off = load_config(None, ["train.tensorboard=false"])
    assert write_run_hparams(tmp_path, off) is None
    assert write_run_hparams(tmp_path, load_config()) is None  # no tuner_summary.json


def test_track_run_writes_hparams_then_logs_them_to_mlflow(tmp_path):
    """A multi-label run (flat trial rows in metrics.json, its own objective), end to end."""
    mlflow = pytest.importorskip("mlflow")
    from tfcls.config import dump_yaml
    from tfcls.tracking.run import track_run

    run_dir, store = tmp_path / "run", tmp_path / "mlruns"
    run_dir.mkdir()
    trials = [
        {"trial_id": "00", "score": 0.61, "units": 128, "dropout": 0.1},
        {"trial_id": "01", "score": 0.66, "units": 256, "dropout": 0.3},
        {"trial_id": "02", "score": None, "units": 64, "dropout": 0.2},
    ]
    metrics = {"task": "multi_label", "trials": trials, "test": {"macro_f1": 0.6}}
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    (run_dir / "run.json").write_text(json.dumps({"status": "complete", "task": "multi_label"}))
    on = ["tracking.mlflow.enabled=true", f"tracking.mlflow.tracking_uri={store}"]
    dump_yaml(load_config(None, on), run_dir / "config.yaml")

    done = track_run(run_dir)
    assert done["hparams"] == run_dir / "logs" / "hparams"
    ((_, experiment),) = _plugin_data(done["hparams"])
    assert [m.name.tag for m in experiment.experiment.metric_infos] == ["val_macro_f1"]
    assert sorted(p.name for p in done["hparams"].iterdir() if p.is_dir()) == [
        "trial_00",
        "trial_01",
    ]
    assert _scalars(done["hparams"] / "trial_01") == {"val_macro_f1": pytest.approx(0.66)}
    client = mlflow.tracking.MlflowClient(tracking_uri=store.absolute().as_uri())
    logged = {a.path for a in client.list_artifacts(done["mlflow_run_id"], "logs/hparams")}
    assert "logs/hparams/trial_01" in logged
    assert client.get_run(done["mlflow_run_id"]).data.metrics["test.macro_f1"] == 0.6
