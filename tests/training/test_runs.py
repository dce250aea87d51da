"""Run-directory helpers: JSON with numpy types, atomic writes, the LATEST marker."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tfcls.decision.rule import Calibration
from tfcls.errors import TfclsError
from tfcls.training import runs


def test_numpy_values_become_plain_json(tmp_path):
    data = {
        "a": np.float32(0.5),
        "b": np.int64(3),
        "c": np.arange(3),
        "d": [np.bool_(True)],
        "e": Path("/x"),
        1: (np.float64(2.0),),
    }
    runs.write_json(tmp_path / "m.json", data)
    assert json.loads((tmp_path / "m.json").read_text()) == {
        "a": 0.5,
        "b": 3,
        "c": [0, 1, 2],
        "d": [True],
        "e": "/x",
        "1": [2.0],
    }
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


def test_read_json_errors_name_the_file(tmp_path):
    with pytest.raises(TfclsError, match=r"missing; is .* a tfcls run directory"):
        runs.read_json(tmp_path / "run.json")
    (tmp_path / "bad.json").write_text("{\n  oops\n}")
    with pytest.raises(TfclsError, match=r"bad\.json: line 2: invalid JSON"):
        runs.read_json(tmp_path / "bad.json")


def test_new_run_dir_refuses_to_reuse_a_name_and_latest_marker(tmp_path):
    run = runs.new_run_dir(tmp_path, "ab" * 32, "x")
    with pytest.raises(TfclsError, match="exists; pick another --name or use --resume"):
        runs.new_run_dir(tmp_path, "ab" * 32, "x")
    with pytest.raises(TfclsError, match="no finished training run yet"):
        runs.latest_run(tmp_path)
    runs.mark_latest(run)
    assert runs.latest_run(tmp_path) == run
    default = runs.new_run_dir(tmp_path, "cd" * 32)
    assert default.name.endswith("-cdcdcdcd")


def test_run_reads_the_files_of_a_finished_run(tiny_run):
    """One reader for every stage: labels, splits, typed calibration, references."""
    run = runs.Run(tiny_run).finished("this test")
    assert run.labels() == run.metrics()["labels"]  # label_map.json in index order
    splits = run.splits()
    assert set(splits) == {"train", "val", "test"} and splits["test"].dtype == np.int64
    calib = run.calibration()
    assert calib.temperature > 0 and calib.record["temperature"] == calib.temperature
    assert calib.unknown is not None and calib.unknown.score == "nearest"
    refs = run.references(calib)
    assert refs is not None and refs.shape[0] == len(splits["train"]) + len(splits["val"])


def test_run_errors_name_what_is_missing(tmp_path, tiny_run):
    with pytest.raises(TfclsError, match=r"no head\.keras; export needs a finished run"):
        runs.Run(tmp_path).finished("export")
    assert runs.Run(tmp_path).calibration() == Calibration()  # a run without one
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / runs.Run.CALIBRATION).write_text((tiny_run / runs.Run.CALIBRATION).read_text())
    run = runs.Run(copy)
    with pytest.raises(TfclsError, match=r"references\.npy: missing; calibration\.json needs it"):
        run.references(run.calibration())
