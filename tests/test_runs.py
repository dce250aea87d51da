"""Run-directory helpers: JSON with numpy types, atomic writes, the LATEST marker."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tfcls import runs
from tfcls.errors import TfclsError


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
