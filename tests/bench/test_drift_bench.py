"""`python -m tfcls.bench drift` on a small slice: the command runs, reports every scenario
and its false-alarm rate, and a foreign sample is flagged more often than an own one."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import child_env


def test_bench_drift_on_a_small_slice(small_dataset, cache_dir, minilm, tmp_path):
    out = tmp_path / "drift.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tfcls.bench",
            "drift",
            *("--seeds", "3", "--foreign-pool", "40", "--json", str(out)),
            *("--set", f"data.path={small_dataset}", "--set", "monitor.permutations=50"),
        ],
        env=child_env(cache_dir),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["benchmark"] == "drift" and result["seeds"] == 3
    by = {(s["recent"], s["foreign"]): s for s in result["scenarios"]}
    assert (30, 0) in by and (30, 30) in by  # 125 texts: 37 held out, 40 foreign
    assert by[(30, 30)]["alarm_rate"] >= by[(30, 0)]["alarm_rate"]
    assert by[(30, 30)]["median_p_value"] < by[(30, 0)]["median_p_value"]
    assert result["false_alarm_rate"] == by[(30, 0)]["alarm_rate"]
    assert proc.stderr.strip().splitlines()[-1].startswith("drift: false alarms")
