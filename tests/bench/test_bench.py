"""`python -m tfcls.bench embed` end to end on a small slice (figures: BENCHMARKS.md)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import pytest

from tfcls.bench.public import datasets_dir
from tfcls.bench.speed import read_texts
from tfcls.cli.common import child_env


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


def run_bench(cache_dir, *args):
    return subprocess.run(
        [sys.executable, "-m", "tfcls.bench", *args],
        env=child_env(cache_dir),
        capture_output=True,
        text=True,
        timeout=600,
    )


# small slices: few trials and epochs, 2 cross-fitting folds, 1 adaptation epoch
QUICK = [  # the default procedure, small: adaptation of one layer for one epoch
    *("--set", "tuner.max_trials=2", "--set", "tuner.epochs=8", "--set", "train.epochs=20"),
    *("--set", "train.crossfit_folds=2", "--set", "train.adapt.epochs=1"),
    *("--set", "train.adapt.layers=1"),
]


def test_bench_banking77_few_shot_on_a_small_slice(cache_dir, minilm, tmp_path):
    out = tmp_path / "b77.json"
    # --set after the subcommand's name is merged with the one before it
    proc = run_bench(
        cache_dir,
        "--set",
        "tuner.kind=random",
        "banking77",
        "--shots",
        "4",
        "--labels",
        "4",
        "--test-per-label",
        "8",
        "--seeds",
        "2",
        "--json",
        str(out),
        *QUICK,
    )
    assert proc.returncode == 0, proc.stderr
    r = json.loads(out.read_text())
    assert (r["labels"], r["test_texts"], r["shots"], r["seeds"]) == (4, 32, "4", 2)
    assert r["overrides"][0] == "tuner.kind=random" and "tuner.max_trials=2" in r["overrides"]
    assert r["target"] is None  # a slice is never compared with the published targets
    seeds = r["per_seed"]
    assert [s["seed"] for s in seeds] == [42, 43]
    assert all((s["train"], s["trials"]) == (16, 2) for s in seeds)  # every shot trains
    assert r["adapt_layers"] == 1 and all(s["crossfit"]["adapt"]["layers"] == 1 for s in seeds)
    accs = [s["accuracy"] for s in seeds]
    assert r["accuracy"]["mean"] == pytest.approx(sum(accs) / 2)
    assert all(0.25 <= a <= 1 for a in accs)  # 4 distinct banking intents, better than chance
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("banking77 4-shot: test accuracy ") and "over 2 seed(s)" in last


def test_bench_contrastive_reports_separation_on_unseen_train_texts(cache_dir, minilm, tmp_path):
    out = tmp_path / "b77c.json"
    proc = run_bench(
        cache_dir,
        "banking77",
        *("--shots", "4", "--labels", "3", "--test-per-label", "4", "--seeds", "1"),
        *("--json", str(out), *QUICK),
        *("--set", "train.contrastive.enabled=true", "--set", "train.contrastive.iterations=1"),
        *("--set", "train.adapt.layers=0"),
    )
    assert proc.returncode == 0, proc.stderr
    c = json.loads(out.read_text())["per_seed"][0]["contrastive"]
    assert c["pairs"] > 0 and c["unseen_texts"] == 3 * 20  # 20 per label, none of the shots
    for key in ("unseen_separation_frozen", "unseen_separation_tuned"):
        assert -1.0 <= c[key] <= 2.0


def test_bench_unknown_scores_the_shipped_rule_on_a_small_slice(cache_dir, minilm, tmp_path):
    out = tmp_path / "unknown.json"
    proc = run_bench(
        cache_dir,
        "unknown",
        "--labels",
        "6",
        "--known-fraction",
        "0.5",
        "--shots",
        "10",
        "--test-per-label",
        "8",
        "--seeds",
        "1",
        "--json",
        str(out),
        *QUICK,
    )
    assert proc.returncode == 0, proc.stderr
    r = json.loads(out.read_text())
    seed = r["per_seed"][0]
    assert seed["known_labels"] == 3 and r["score"] == "max_softmax"
    assert (seed["n_known"], seed["n_unknown"]) == (24, 24)
    assert 0 <= seed["auroc"] <= 1 and 0 <= seed["unknown_recall"] <= 1
    # the shipped rule: an unknown text is never auto-selected
    assert seed["auto_select_threshold"] >= seed["threshold"]
    assert proc.stdout.strip().splitlines()[-1].startswith("unknown: banking77 known")


def test_bench_unknown_across_datasets_on_a_small_slice(cache_dir, minilm, tmp_path):
    out = tmp_path / "cross.json"
    proc = run_bench(
        cache_dir,
        "unknown",
        "--dataset",
        "hwu64",
        "--unknown-from",
        "banking77",
        "--labels",
        "4",
        "--shots",
        "6",
        "--test-per-label",
        "5",
        "--seeds",
        "1",
        "--json",
        str(out),
        *QUICK,
        "--set",
        "train.adapt.layers=0",
    )
    assert proc.returncode == 0, proc.stderr
    r = json.loads(out.read_text())
    seed = r["per_seed"][0]
    # every hwu64 intent of the slice known; every banking77 test text of it unknown
    assert (seed["known_labels"], seed["n_known"], seed["n_unknown"]) == (4, 20, 20)
    assert r["unknown_from"] == "banking77" and r["known_fraction"] is None


def test_bench_quality_cross_validates_the_default_procedure(
    small_dataset, cache_dir, minilm, tmp_path
):
    out = tmp_path / "quality.json"
    proc = run_bench(
        cache_dir,
        "quality",
        "--data",
        str(small_dataset),
        "--folds",
        "2",
        "--repeats",
        "1",
        "--json",
        str(out),
        *QUICK,
    )
    assert proc.returncode == 0, proc.stderr
    r = json.loads(out.read_text())
    assert (r["k"], r["repeats"], r["examples"]) == (2, 1, 125)
    folds = r["per_fold"]
    assert len(folds) == 2 and sum(f["n"] for f in folds) == 125  # every text held out once
    for key in ("accuracy", "auto_select_coverage", "auto_select_precision", "ece"):
        values = [f[key] for f in folds]
        assert r[key]["mean"] == pytest.approx(sum(values) / 2) and min(values) >= 0
    assert r["procedure"]["adapt_layers"] == 1 and r["full_training"]["seconds_warm_cache"] > 0
    assert r["accuracy"]["mean"] > 0.5  # 5 distinct intents
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("quality (2-fold × 1, out of fold): accuracy ")


def test_bench_rejects_bad_arguments(cache_dir):
    proc = run_bench(cache_dir, "hwu64", "--shots", "0")
    assert proc.returncode == 2 and "expected a positive number or 'full'" in proc.stderr
    proc = run_bench(cache_dir, "unknown", "--known-fraction", "1.5", "--labels", "4")
    assert proc.returncode == 2 and "--known-fraction must be in (0, 1)" in proc.stderr


def test_bench_browser_in_headless_chromium(tiny_bundle, cache_dir, tmp_path):
    """The whole benchmark on the tiny bundle, throttled visit included: structure and
    invariants, never timings."""
    out = tmp_path / "browser.json"
    proc = run_bench(
        cache_dir,
        *("browser", "--exported", str(tiny_bundle), "--n", "20", "--rounds", "1"),
        *("--network", "none,20mbit", "--json", str(out)),
    )
    assert proc.returncode == 0, proc.stderr
    r = json.loads(out.read_text())
    assert r["predictions"] == 20 and r["backend"] == "wasm" and r["cross_origin_isolated"]
    assert 0 < r["latency_ms"]["p50"] <= r["latency_ms"]["p95"] <= r["latency_ms"]["max"]
    assert r["cold_load_s"] > 0 and r["warm_load_s"] > 0 and r["bundle_gzip_bytes"] > 0
    assert r["first_prediction_ms"] > 0 and r["simd"] == ("simd" in r["wasm"])
    assert "HeadlessChrome" in r["browser"]
    single, threads = r["variants"]["single"], r["variants"]["threads"]
    assert single["threads"] == 1 and "threaded" not in single["wasm"]
    assert threads["wasm"] == "tfjs-backend-wasm-threaded-simd.wasm"
    assert threads["threads"] == r["cores"]  # navigator.hardwareConcurrency
    assert [a["network"] for a in r["app_visits"]] == ["none", "20mbit"]
    throttled = r["app_visits"][1]
    assert throttled["link"] == {"down_bytes_per_s": 2_500_000.0, "latency_ms": 40}
    for visit in r["app_visits"]:
        fresh, second = visit["fresh"], visit["second"]
        assert fresh["typed_kept"] and fresh["offline_ready"] and fresh["first_suggestion_s"] > 0
        assert fresh["loading_percentages"] == sorted(fresh["loading_percentages"])
        assert all(0 <= n <= 100 for n in fresh["loading_percentages"])
        assert fresh["bundle_downloads_per_file_max"] == 1  # the bundle crossed the wire once
        assert fresh["requests"]["bundle"] >= 4  # metadata, vocab, model.json, a shard
        assert 0 < fresh["bytes"]["bundle"] < r["bundle_bytes"]  # precompressed
        assert fresh["bytes"]["tfjs"] > 0 and fresh["wasm"] == [r["wasm"]]
        assert second["bundle_requests"] == 0 and "bundle" not in second["bytes"]
        assert second["first_prediction_ms"] > 0
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("browser: float16 bundle ") and "20mbit: first suggestion" in last
    assert "round 1/1" in proc.stderr  # progress on stderr


def test_typed_inputs_are_prefixes_of_titles():
    from tfcls.bench.browser import percentile, typed_inputs

    texts = typed_inputs(50)
    assert len(texts) == 50 and all(texts)
    assert any(b.startswith(a + " ") for a, b in itertools.pairwise(texts))
    assert percentile([1, 2, 3, 4], 50) == 2 and percentile(list(range(1, 101)), 95) == 95


def test_bench_feedback_stores_every_created_row(tiny_bundle):
    """Two levels of clients in one result, each on its own gunicorn and store."""
    from tfcls.bench.feedback_load import bench_feedback

    r = bench_feedback(tiny_bundle, clients=[4, 8], requests=40, workers=1, threads=4)
    assert r["server"] == "gunicorn -k gthread -w 1 --threads 4" and r["requests"] == 40
    assert [level["clients"] for level in r["levels"]] == [4, 8]
    for level in r["levels"]:
        assert level["created_201"] == level["rows_stored"] == 40 and level["rows_lost"] == 0
        assert level["other_statuses"] == [] and level["throughput_per_s"] > 0
        assert 1 <= level["transactions"] <= 40
        lat = level["latency_ms"]
        assert 0 < lat["p50"] <= lat["p99"] <= lat["max"]


def test_bench_feedback_arguments_and_config(tmp_path):
    """--clients takes levels; the generated config turns the rate limits off, or with
    --rate-limits checks limits none reaches."""
    from tfcls.bench.feedback_load import write_config
    from tfcls.cli.bench_arguments import parser
    from tfcls.config import load_config

    args = parser().parse_args(["feedback", "--clients", "50,200", "--threads", "0"])
    assert args.clients == [50, 200] and args.threads == 0 and args.workers >= 1
    assert parser().parse_args(["feedback"]).clients == [50, 200]
    for bad in ("0", "x", ","):
        with pytest.raises(SystemExit):
            parser().parse_args(["feedback", "--clients", bad])
    config = load_config(str(write_config(tmp_path, tmp_path / "exported", tmp_path / "f.db")))
    assert config.serving.rate_limits.enabled is False
    assert config.storage.path == str(tmp_path / "f.db")
    assert parser().parse_args(["feedback", "--rate-limits"]).rate_limits
    limited = write_config(tmp_path, tmp_path / "exported", tmp_path / "f.db", rate_limits=True)
    limits = load_config(str(limited)).serving.rate_limits
    assert limits.enabled and limits.feedback_per_client == "1000000/minute"


def test_bench_goemotions_on_a_small_slice(cache_dir, minilm, tmp_path):
    """The multi-label protocol on slices of the official splits (thresholds on dev)."""
    out = tmp_path / "go.json"
    proc = run_bench(
        cache_dir,
        "goemotions",
        *("--n-train", "400", "--n-eval", "200", "--trials", "1", "--json", str(out)),
        *("--adapt-layers", "1", "--set", "train.adapt.epochs=2"),
        *("--set", "tuner.epochs=5", "--set", "tuner.kind=random"),
    )
    assert proc.returncode == 0, proc.stderr
    r = json.loads(out.read_text())
    assert r["labels"] == 28 and r["texts"] == {"train": 400, "dev": 200, "test": 200}
    assert set(r["dev_thresholds"]) == set(r["test"]["per_label"]) and len(r["trials"]) == 1
    assert 0 <= r["test"]["macro_f1"] <= 1 and r["baseline_macro_f1"] == 0.46
    adapted = r["adaptation"]  # one layer fine-tuned, the epoch chosen on dev
    assert adapted["layers"] == 1 and len(adapted["dev_macro_f1_per_epoch"]) == 2
    assert adapted["epoch_chosen_on_dev"] in (1, 2)
    assert proc.stdout.strip().splitlines()[-1].startswith("goemotions: test macro-F1 ")
