"""The ``python -m tfcls.bench`` argument parser: one subcommand per benchmark.

:mod:`tfcls.cli.bench` runs what it parses.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tfcls.bench.public import DATASETS
from tfcls.cli import common as cli


def parser() -> argparse.ArgumentParser:
    """The ``python -m tfcls.bench`` parser: one subcommand per benchmark."""
    p = cli.parser("python -m tfcls.bench", "Benchmarks; record the figures in BENCHMARKS.md.")
    sub = p.add_subparsers(dest="benchmark", required=True)
    _embed_arguments(sub)
    _train_arguments(sub)
    _quality_arguments(sub)
    for name in DATASETS:
        _accuracy_arguments(sub, name)
    _unknown_arguments(sub)
    _browser_arguments(sub)
    _feedback_arguments(sub)
    _retrain_arguments(sub)
    _quantization_arguments(sub)
    _goemotions_arguments(sub)
    _augment_arguments(sub)
    _active_arguments(sub)
    _drift_arguments(sub)
    for command in sub.choices.values():
        cli.add_config_arguments(command, subcommand=True)
    return p


Subparsers = Any  # argparse's _SubParsersAction, which it does not export


def _json_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the results here")


def _embed_arguments(sub: Subparsers) -> None:
    emb = sub.add_parser(
        "embed", help="embedding throughput, cold and warm", description=__doc__.split("\n\n", 2)[1]
    )
    emb.add_argument(
        "--texts",
        type=Path,
        help="JSONL file with a 'text' field (default: HWU64 train utterances)",
    )
    emb.add_argument("--n", type=int, default=1000, help="number of texts (default 1000)")
    emb.add_argument("--batch-size", type=int, help="default: encoder.batch_size")
    emb.add_argument("--repeats", type=int, default=3, help="warm passes (median is reported)")
    _json_argument(emb)


def _train_arguments(sub: Subparsers) -> None:
    tr = sub.add_parser(
        "train",
        help="default training time (cold, warm)",
        description="Times `python -m tfcls.train` with an empty and a warm cache.",
    )
    tr.add_argument("--data", default=None, help="dataset (default: data.path)")
    _json_argument(tr)


def _quality_arguments(sub: Subparsers) -> None:
    qu = sub.add_parser(
        "quality",
        help="repeated k-fold of the default procedure: accuracy, ECE, auto-select",
        description="Repeated stratified k-fold of the whole default procedure, each "
        "held-out fold scored at the threshold the procedure would ship.",
    )
    qu.add_argument("--data", default=None, help="dataset (default: data.path)")
    qu.add_argument("--folds", type=int, default=5, help="outer folds (default 5)")
    qu.add_argument("--repeats", type=int, default=2, help="repeats, new seeds (default 2)")
    _json_argument(qu)


def _accuracy_arguments(sub: Subparsers, name: str) -> None:
    acc = sub.add_parser(
        name,
        help=f"{name} test accuracy, few-shot or full",
        description=f"Train on {name} (--shots per intent, or all) and score its test "
        "split; levers come from the config (--set train.adapt.layers=0 for the frozen "
        "encoder, train.contrastive.enabled=true, model.*/tuner.*).",
    )
    acc.add_argument(
        "--shots", type=_shots, default=10, help="training texts per intent, or 'full'"
    )
    acc.add_argument("--seeds", type=int, help="seeds (default: 5 few-shot, 1 full)")
    _slice_arguments(acc)


def _unknown_arguments(sub: Subparsers) -> None:
    unk = sub.add_parser(
        "unknown",
        help="unknown-text detection by the shipped rule: held-out intents or another dataset",
        description="Train the default procedure on a share of the intents (or all, with "
        "--unknown-from), test on texts of known and unknown intents.",
    )
    unk.add_argument("--dataset", choices=DATASETS, default="banking77")
    unk.add_argument(
        "--known-fraction", type=float, default=0.75, help="share of intents known (0.75)"
    )
    unk.add_argument("--shots", type=_shots, default=None, help="texts per known intent or full")
    unk.add_argument(
        "--unknown-from",
        choices=DATASETS,
        help="cross-dataset: every intent of --dataset known, this dataset's test texts unknown",
    )
    unk.add_argument("--seeds", type=int, default=3, help="seeds (default 3)")
    _slice_arguments(unk)


def _browser_arguments(sub: Subparsers) -> None:
    br = sub.add_parser(
        "browser",
        help="the exported bundle in headless Chromium: visits, load time, prediction latency",
        description="Fresh and second visits of the app per network profile (time to the "
        "first suggestion, bytes transferred, bundle requests on return), cold and warm load, "
        "and p50/p95 latency over typed inputs, single-threaded vs threaded wasm.",
    )
    br.add_argument("--exported", type=Path, default=Path("exported"), help="bundle folder")
    br.add_argument("--version", help="bundle version (default: exported/current.json)")
    br.add_argument("--n", type=int, default=200, help="typed inputs to predict (default 200)")
    br.add_argument(
        "--network",
        default="none,20mbit",
        help="comma-separated link profiles for the app visits: none, <N>mbit (N Mbit/s down, "
        "40 ms per request; default none,20mbit)",
    )
    br.add_argument(
        "--rounds", type=int, default=2, help="alternating rounds per wasm variant (default 2)"
    )
    _json_argument(br)


def _client_levels(text: str) -> list[int]:
    """``--clients 50,200`` → [50, 200] (each level a run of its own)."""
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of client counts: {text!r}") from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError(f"client counts must be positive: {text!r}")
    return levels


def _feedback_arguments(sub: Subparsers) -> None:
    from tfcls.bench.feedback_load import DEFAULT_THREADS, DEFAULT_WORKERS

    fb = sub.add_parser(
        "feedback",
        help="feedback POST throughput and latency against gunicorn; rows lost",
        description="Concurrent POST /api/feedback against gunicorn with a fresh SQLite "
        "store, at each level of --clients.",
    )
    fb.add_argument("--exported", type=Path, default=Path("exported"), help="bundle folder")
    fb.add_argument(
        "--clients",
        type=_client_levels,
        default=[50, 200],
        help="concurrent clients, one run per comma-separated level (default 50,200)",
    )
    fb.add_argument("--requests", type=int, default=5000, help="POSTs per level (default 5000)")
    fb.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help=f"gunicorn workers ({DEFAULT_WORKERS})"
    )
    fb.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help=f"threads per gthread worker ({DEFAULT_THREADS}); 0: sync workers",
    )
    fb.add_argument("--preload", action="store_true", help="gunicorn --preload (fork the app)")
    fb.add_argument(
        "--rate-limits",
        action="store_true",
        help="check the rate limits on every request, set so high that none trips (their cost)",
    )
    _json_argument(fb)


def _retrain_arguments(sub: Subparsers) -> None:
    rt = sub.add_parser(
        "retrain",
        help="python -m tfcls.retrain after N new feedback rows (warm embedding cache)",
        description="Retrain time after --rows corrections on a copy of the exported model.",
    )
    rt.add_argument("--exported", type=Path, default=Path("exported"), help="bundle folder")
    rt.add_argument("--rows", type=int, default=100, help="new feedback rows (default 100)")
    rt.add_argument(
        "--scenario",
        choices=("rows", "new_category"),
        default="rows",
        help="rows: time after --rows corrections; new_category: 12 'Admin' verdicts by 3 "
        "clients, share of 10 held-out paraphrases predicted Admin (target ≥ 0.8)",
    )
    _json_argument(rt)


def _shots(value: str) -> int | None:
    if value == "full":
        return None
    try:
        shots = int(value)
    except ValueError:
        shots = 0
    if shots < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number or 'full', got {value!r}")
    return shots


def _slice_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--labels", type=int, help="only the first N intents (a quick slice)")
    p.add_argument("--test-per-label", type=int, help="at most M test texts per intent")
    _json_argument(p)


def _quantization_arguments(sub: Subparsers) -> None:
    qz = sub.add_parser(
        "quantization",
        help="per weight matrix: fidelity and gzip bytes at each bit width (int8 bundles)",
    )
    cli.add_run_argument(qz)
    qz.add_argument(
        "--bits", type=int, nargs="+", default=[8, 7, 6], help="widths to try (default 8 7 6)"
    )
    qz.add_argument(
        "--texts",
        type=Path,
        help="JSONL file with a 'text' field to measure on (default: the run's held-out split)",
    )
    qz.add_argument("--n", type=int, default=2000, help="texts taken from --texts (default 2000)")
    _json_argument(qz)


def _goemotions_arguments(sub: Subparsers) -> None:
    go = sub.add_parser(
        "goemotions",
        help="multi-label: GoEmotions (28 labels), official splits, thresholds on dev",
    )
    go.add_argument("--n-train", type=int, help="training texts used (default: all 43,410)")
    go.add_argument("--trials", type=int, help="tuner trials (default: tuner.max_trials)")
    go.add_argument(
        "--n-eval", type=int, help="dev and test texts used (default: all; quick runs only)"
    )
    go.add_argument(
        "--adapt-layers",
        type=int,
        default=0,
        help="also fine-tune the encoder's top N layers with the head (default 0: frozen)",
    )
    _json_argument(go)


def _augment_arguments(sub: Subparsers) -> None:
    au = sub.add_parser(
        "augment",
        help="data.augment on vs off: BANKING77/HWU64 few-shot and the bundled data",
        description="The default procedure with and without data.augment on the same texts, "
        "chosen on held-out training texts (never a published test split); the test accuracy "
        "of the choice is reported (tfcls.bench.augment).",
    )
    au.add_argument(
        "--datasets",
        default="banking77,hwu64,bundled",
        help="comma-separated: banking77, hwu64, bundled (data.path; default all three)",
    )
    au.add_argument("--shots", type=int, default=10, help="shots per intent (default 10)")
    au.add_argument("--seeds", type=int, default=3, help="seeds (default 3)")
    au.add_argument(
        "--val-per-label", type=int, default=10, help="held-out train texts per intent (10)"
    )
    au.add_argument(
        "--val-fraction", type=float, default=0.2, help="bundled data held out (default 0.2)"
    )
    _slice_arguments(au)


def _active_arguments(sub: Subparsers) -> None:
    from tfcls.labeling.rank import DEFAULT_RADIUS, UNCERTAINTY

    ac = sub.add_parser(
        "active",
        help="active learning on BANKING77: suggestion ranking vs random picks, per round",
        description="From a small labelled seed set, each round labels --per-round more "
        "train texts picked by the suggestion ranking (tfcls.label suggest) or at random; a "
        "quick head on frozen embeddings is scored on held-out train texts (tfcls.bench.active).",
    )
    ac.add_argument("--rounds", type=int, default=5, help="rounds of picking (default 5)")
    ac.add_argument("--per-round", type=int, default=10, help="texts labelled a round (10)")
    ac.add_argument("--seeds", type=int, default=3, help="seeds (default 3)")
    ac.add_argument("--seed-per-label", type=int, default=3, help="seed texts per intent (3)")
    ac.add_argument(
        "--val-per-label", type=int, default=10, help="held-out train texts per intent (10)"
    )
    ac.add_argument("--by", choices=UNCERTAINTY, default="margin", help="uncertainty (margin)")
    ac.add_argument(
        "--radius",
        type=float,
        default=DEFAULT_RADIUS,
        help="diversity distance (default %(default)s)",
    )
    ac.add_argument("--plot", type=Path, help="also draw the learning curves as a PNG here")
    _slice_arguments(ac)


def _drift_arguments(sub: Subparsers) -> None:
    dr = sub.add_parser(
        "drift",
        help="tfcls.monitor's data-drift check: false alarms (own texts) vs BANKING77 shifts",
        description="Alarm rates of the monitor's data-drift check over seeded samples of the "
        "bundled data's unseen part, mixed with BANKING77 train texts (monitor.* thresholds).",
    )
    dr.add_argument("--seeds", type=int, default=50, help="samples per scenario (default 50)")
    dr.add_argument(
        "--foreign-pool", type=int, default=600, help="BANKING77 train texts drawn (default 600)"
    )
    _json_argument(dr)
