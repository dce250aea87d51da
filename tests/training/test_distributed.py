"""tf.distribute strategies and KerasTuner's distributed search (chief + two workers)."""

from __future__ import annotations

import json
import socket
import subprocess

import pytest
from conftest import child_env, run_train, train_cmd


@pytest.mark.parametrize("strategy", ["mirrored", "multi_worker"])
def test_training_under_a_distribution_strategy(strategy, small_dataset, cache_dir, tmp_path):
    proc = run_train(
        train_cmd(
            small_dataset,
            tmp_path,
            "--dev-mode",
            "--name",
            strategy,
            "--set",
            f"train.strategy={strategy}",
            "--set",
            "train.adapt.layers=0",  # the strategy runs the head's fits; adaptation has none
        ),
        cache_dir,
    )
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((tmp_path / strategy / "metrics.json").read_text())
    assert metrics["tuner"]["completed"] == 3 and "test" in metrics


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_distributed_search_with_a_chief_and_two_workers(small_dataset, cache_dir, tmp_path):
    port = str(_free_port())
    procs = {}
    for tuner_id in ("chief", "tuner0", "tuner1"):
        env = dict(
            child_env(cache_dir),
            KERASTUNER_ORACLE_IP="127.0.0.1",
            KERASTUNER_ORACLE_PORT=port,
            KERASTUNER_TUNER_ID=tuner_id,
        )
        args = train_cmd(
            small_dataset, tmp_path / tuner_id, "--max-trials", "6", "--name", "dist",
            "--set", "train.adapt.layers=0",  # the search is distributed, not adaptation
        )  # fmt: skip
        procs[tuner_id] = subprocess.Popen(
            args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    out = {k: p.communicate(timeout=600) for k, p in procs.items()}
    for tuner_id, p in procs.items():
        assert p.returncode == 0, f"{tuner_id}: {out[tuner_id][1][-3000:]}"

    chief_run = tmp_path / "chief" / "dist"
    summary = json.loads((chief_run / "tuner_summary.json").read_text())
    assert sum(t["status"] == "COMPLETED" for t in summary) == 6
    assert json.loads((chief_run / "metrics.json").read_text())["test"]["accuracy"] > 0.5
    ran = {}
    for worker in ("tuner0", "tuner1"):
        run = json.loads((tmp_path / worker / f"dist-{worker}" / "run.json").read_text())
        assert run["status"] == "worker-done"
        ran[worker] = run["trials_run"]
        assert f"worker {worker} ran" in out[worker][0]
    assert sum(ran.values()) == 6  # every trial was run by a worker, none by the chief
    assert all(n >= 1 for n in ran.values()), ran
