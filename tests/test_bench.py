"""`python -m tfcls.bench embed` end to end on a small slice (figures: BENCHMARKS.md)."""

from __future__ import annotations

import json
import subprocess
import sys

from tfcls.bench import datasets_dir, read_texts
from tfcls.cli import child_env


def test_read_texts_is_seeded_and_distinct():
    path = datasets_dir() / "hwu64" / "train.jsonl"
    a, b = read_texts(path, 50), read_texts(path, 50)
    assert a == b and len(set(a)) == 50


def test_bench_embed_runs_on_a_small_slice(tiny_pair, tmp_path):
    out_json = tmp_path / "bench.json"
    env = child_env(tmp_path)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tfcls.bench",
            "--set",
            f"encoder.handle={tiny_pair}",
            "embed",
            "--n",
            "40",
            "--repeats",
            "1",
            "--json",
            str(out_json),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out_json.read_text())
    assert result["texts"] == 40 and result["warm_texts_per_s"] > 0
    assert result["cache_hits"] == 40 and result["machine"]["cores"] >= 1
    assert proc.stdout.strip().splitlines()[-1].startswith("embed: warm ")
