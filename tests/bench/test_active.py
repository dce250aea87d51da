"""``python -m tfcls.bench active`` on a tiny slice: it runs, records and plots every strategy."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from conftest import child_env

from tfcls.bench.active import STRATEGIES, fit_softmax, softmax_proba
from tfcls.cli.bench_arguments import parser


def test_bench_active_arguments():
    args = parser().parse_args(["active", "--rounds", "2", "--per-round", "4", "--by", "entropy"])
    assert (args.benchmark, args.rounds, args.per_round, args.seeds, args.by) == (
        "active",
        2,
        4,
        3,
        "entropy",
    )


def test_fit_softmax_learns_separable_points():
    x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    y = np.array([0, 0, 1, 1])
    w = fit_softmax(x, y, 2)
    assert np.array_equal(softmax_proba(w, x).argmax(axis=1), y)
    assert np.array_equal(w, fit_softmax(x, y, 2))  # deterministic


def test_bench_active_on_a_tiny_slice(cache_dir, minilm, tmp_path):
    out, png = tmp_path / "active.json", tmp_path / "curves.png"
    proc = subprocess.run(
        [
            sys.executable, "-m", "tfcls.bench", "active", "--rounds", "1", "--per-round", "2",
            "--seeds", "1", "--labels", "4", "--test-per-label", "5", "--seed-per-label", "2",
            "--val-per-label", "3", "--json", str(out), "--plot", str(png),
        ],
        env=child_env(cache_dir),
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    r = json.loads(out.read_text())
    assert r["labels"] == 4 and r["seeds"] == 1 and r["settings"]["per_round"] == 2
    assert set(r["held_out_accuracy"]) == set(STRATEGIES)
    assert all(len(curve) == 2 for curve in r["held_out_accuracy"].values())  # rounds 0 and 1
    assert r["labelled_after"] == {s: 4 * 2 + 2 for s in STRATEGIES}
    seed = r["per_seed"][0]
    assert (seed["held_out_texts"], seed["seed_texts"]) == (12, 8)
    assert len({c[0]["mean"] for c in r["held_out_accuracy"].values()}) == 1  # same start
    assert all(0 <= v["mean"] <= 1 for v in r["final_test_accuracy"].values())
    assert png.read_bytes().startswith(b"\x89PNG")
    assert proc.stdout.strip().splitlines()[-1].startswith("active: after 1 rounds of 2")
