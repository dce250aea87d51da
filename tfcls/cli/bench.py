"""``python -m tfcls.bench embed|train|banking77|hwu64|unknown``: figures for BENCHMARKS.md.

Targets are checked here, never by timed assertions in tests.

embed: texts/s embedding task-like short texts (default: 1,000 HWU64 utterances from
``../shared/datasets``), cold (building the TF Hub modules from the weights into an
empty cache, then the first pass) and warm (modules loaded, embedding cache off), plus
the rate at which the embedding cache serves texts it has seen.

train: wall time of the default ``python -m tfcls.train`` (cold, warm) and k-fold CV.

banking77, hwu64: test accuracy few-shot (``--shots N``, mean ± std over ``--seeds``) or
with all training data, beside published results; unknown: unknown-intent detection with
held-out intents, every score compared (protocols in ``tfcls.bench.public``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tfcls.bench.public import DATASETS, datasets_dir
from tfcls.bench.speed import (
    EMBED_TARGET,
    RETRAIN_TARGET,
    TRAIN_TARGETS,
    bench_embed,
    bench_train,
    machine_info,
    read_texts,
)
from tfcls.cli import common as cli
from tfcls.errors import TfclsError


def _record(result: dict[str, Any], args: Any, hide: tuple[str, ...] = ("machine",)) -> None:
    """Stamp a result with date and machine, print it (less ``hide``), write --json."""
    result.update(
        date=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), machine=machine_info()
    )
    print(json.dumps({k: v for k, v in result.items() if k not in hide}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


def _parser() -> argparse.ArgumentParser:
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
        "split; levers come from the config (--set train.adapt_layers=0 for the frozen "
        "encoder, train.contrastive=true, model.*/tuner.*).",
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
        help="the exported bundle in headless Chromium: load time, prediction latency",
        description="Cold and warm load and p50/p95 latency over typed inputs.",
    )
    br.add_argument("--exported", type=Path, default=Path("exported"), help="bundle folder")
    br.add_argument("--version", help="bundle version (default: exported/current.json)")
    br.add_argument("--n", type=int, default=200, help="typed inputs to predict (default 200)")
    _json_argument(br)


def _feedback_arguments(sub: Subparsers) -> None:
    fb = sub.add_parser(
        "feedback",
        help="feedback POST throughput and latency against gunicorn; rows lost",
        description="Concurrent POST /api/feedback against gunicorn with a fresh SQLite store.",
    )
    fb.add_argument("--exported", type=Path, default=Path("exported"), help="bundle folder")
    fb.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    fb.add_argument("--requests", type=int, default=5000, help="POSTs in all (default 5000)")
    fb.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark ``argv`` names; prints its figures against their targets."""
    args = _parser().parse_args(argv)
    config = cli.config_from(args)
    if args.benchmark == "train":
        return _main_train(args, config)
    if args.benchmark == "quality":
        return _main_quality(args, config)
    if args.benchmark in (*DATASETS, "unknown"):
        return _main_public(args, config)
    if args.benchmark == "browser":
        return _main_browser(args)
    if args.benchmark == "feedback":
        return _main_feedback(args)
    if args.benchmark == "retrain":
        return _main_retrain(args)
    return _main_embed(args, config)


def _main_embed(args: Any, config: Any) -> int:
    if args.n < 1 or args.repeats < 1:
        raise TfclsError("--n and --repeats must be positive")
    texts = read_texts(args.texts or datasets_dir() / "hwu64" / "train.jsonl", args.n)
    result = bench_embed(
        config.encoder.handle,
        config.encoder.preprocessor,
        texts,
        args.batch_size or config.encoder.batch_size,
        args.repeats,
    )
    result.update(
        date=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        machine=machine_info(),
        source=str(args.texts or "hwu64/train.jsonl"),
    )
    for key, value in result.items():
        if key != "machine":
            print(f"{key:>30}: {value}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    verdict = "meets" if result["warm_texts_per_s"] >= EMBED_TARGET else "MISSES"
    print(
        f"embed: warm {result['warm_texts_per_s']} texts/s ({verdict} target "
        f"≥ {EMBED_TARGET:.0f}), cold build+load {result['cold_build_and_load_s']} s then "
        f"{result['cold_first_pass_texts_per_s']} texts/s, cache hits "
        f"{result['cache_hit_texts_per_s']} texts/s"
    )
    return 0


def _main_train(args: Any, config: Any) -> int:
    path, overrides = cli.config_args(args)
    with tempfile.TemporaryDirectory(prefix="tfcls-bench-train-") as tmp:
        result = bench_train(args.data or config.data.path, path, overrides, Path(tmp))
    _record(result, args)
    print(
        f"train: cold {result['cold']['wall_s']} s (target ≤ {TRAIN_TARGETS['cold']:.0f}), "
        f"warm {result['warm']['wall_s']} s (target ≤ {TRAIN_TARGETS['warm']:.0f}), test "
        f"accuracy {result['test']['accuracy']:.4f}, macro-F1 "
        f"{result['test']['macro_f1']:.4f}"
    )
    return 0


def _main_quality(args: Any, config: Any) -> int:
    from tfcls.bench.quality import TARGETS, bench_quality

    if args.folds < 2 or args.repeats < 1:
        raise TfclsError("--folds must be ≥ 2 and --repeats ≥ 1")
    with tempfile.TemporaryDirectory(prefix="tfcls-bench-quality-") as tmp:
        result = bench_quality(config, args.data, args.folds, args.repeats, Path(tmp))
    _record(result, args, hide=("machine", "per_fold"))

    def fig(key: str) -> str:
        v = result[key]
        ok = "meets" if v["mean"] >= TARGETS.get(key, 0) else "MISSES"
        return f"{key.replace('_', ' ')} {v['mean']:.3f} ± {v['std']:.3f} ({ok} ≥ {TARGETS[key]})"

    print(
        f"quality ({result['k']}-fold × {result['repeats']}, out of fold): {fig('accuracy')}, "
        f"{fig('auto_select_coverage')}, {fig('auto_select_precision')}, macro-F1 "
        f"{result['macro_f1']['mean']:.3f}, ECE {result['ece']['mean']:.3f}; one training "
        f"{result['full_training']['seconds_warm_cache']} s (warm cache)"
    )
    return 0


def _main_retrain(args: Any) -> int:
    from tfcls.bench.serving import bench_retrain

    if args.rows < 1:
        raise TfclsError("--rows must be positive")
    path, overrides = cli.config_args(args)
    result = bench_retrain(args.exported, args.rows, path, args.scenario, overrides)
    _record(result, args)
    if args.scenario == "new_category":
        acc = result["new_label_accuracy"]
        print(
            f"retrain (new category): held-out paraphrases predicted with it "
            f"{acc['current']:.2f} → {acc['candidate']:.2f} "
            f"({'meets' if result['meets_target'] else 'MISSES'} ≥ {result['target']}); "
            f"{result['verdict']}"
        )
        return 0
    verdict = "meets" if (result["retrain_seconds"] or 1e9) <= RETRAIN_TARGET else "MISSES"
    print(
        f"retrain: {result['retrain_seconds']} s after {result['feedback_rows']} feedback rows "
        f"({verdict} target ≤ {RETRAIN_TARGET:.0f} s), {result['total_seconds_with_export']} s "
        f"with the export; {result['verdict']}"
    )
    return 0


def _main_feedback(args: Any) -> int:
    from tfcls.bench.serving import bench_feedback

    if min(args.clients, args.requests, args.workers) < 1:
        raise TfclsError("--clients, --requests and --workers must be positive")
    result = bench_feedback(args.exported, args.clients, args.requests, args.workers)
    _record(result, args)
    lat = result["latency_ms"]
    print(
        f"feedback: {result['throughput_per_s']} POSTs/s from {result['clients']} clients "
        f"({result['server']}), p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms, "
        f"{result['created_201']}/{result['requests']} created, {result['rows_lost']} rows lost"
    )
    return 0 if result["rows_lost"] == 0 and result["created_201"] == result["requests"] else 1


def _main_browser(args: Any) -> int:
    from tfcls.bench.browser import TARGETS, bench_browser

    if args.n < 1:
        raise TfclsError("--n must be positive")
    result = bench_browser(args.exported, args.version, args.n)
    _record(result, args)
    lat = result["latency_ms"]
    p50_ok = "meets" if lat["p50"] <= TARGETS["warm_p50_ms"] else "MISSES"
    load_ok = "meets" if result["warm_load_s"] <= TARGETS["warm_load_s"] else "MISSES"
    print(
        f"browser: {result['quantization']} bundle {result['bundle_bytes'] / 2**20:.1f} MiB "
        f"({result['bundle_gzip_bytes'] / 2**20:.1f} MiB gzip) on {result['backend']}: cold "
        f"load {result['cold_load_s']:.2f} s, warm load {result['warm_load_s']:.2f} s ({load_ok} "
        f"≤ {TARGETS['warm_load_s']:.0f} s), p50 {lat['p50']:.1f} ms ({p50_ok} ≤ "
        f"{TARGETS['warm_p50_ms']:.0f} ms), p95 {lat['p95']:.1f} ms"
    )
    return 0


def _main_public(args: Any, config: Any) -> int:
    from tfcls.bench import public as benchmarks
    from tfcls.encoders import load_encoder_from

    for key in ("seeds", "labels", "test_per_label"):
        value = getattr(args, key)
        if value is not None and value < (2 if key == "labels" else 1):
            raise TfclsError(f"--{key.replace('_', '-')} must be ≥ {2 if key == 'labels' else 1}")
    enc = load_encoder_from(config.encoder)
    with tempfile.TemporaryDirectory(prefix="tfcls-bench-") as tmp:
        common = (config, Path(tmp), args.labels, args.test_per_label)
        if args.benchmark == "unknown":
            fraction, seeds, shots = args.known_fraction, args.seeds, args.shots
            result = benchmarks.bench_unknown(
                enc, args.dataset, fraction, seeds, shots, *common, args.unknown_from
            )
        else:
            seeds = args.seeds or (1 if args.shots is None else 5)
            result = benchmarks.bench_accuracy(enc, args.benchmark, args.shots, seeds, *common)
    result["overrides"] = cli.config_args(args)[1]
    _record(result, args, hide=("machine", "per_seed"))
    if args.benchmark == "unknown":
        print(
            "unknown: " + f"{result['dataset']} known, unknown: {result['unknown_from']}; "
            f"{result['score']} AUROC {result['auroc']['mean']:.4f}, unknown recall "
            f"{result['unknown_recall']['mean']:.4f}, in-scope accuracy "
            f"{result['in_scope_accuracy']['mean']:.4f}, unknown auto-selected "
            f"{result['unknown_auto_selected']['mean']:.4f}"
        )
        return 0
    acc, target = result["accuracy"], result["target"]
    shots = "full data" if result["shots"] == "full" else f"{result['shots']}-shot"
    verdict = ""
    if target is not None:
        met = "meets" if 100 * acc["mean"] >= target else "MISSES"
        verdict = f" ({met} target ≥ {target})"
    print(
        f"{args.benchmark} {shots}: test accuracy {100 * acc['mean']:.2f} ± "
        f"{100 * acc['std']:.2f}{verdict}, macro-F1 {100 * result['macro_f1']['mean']:.2f} "
        f"over {result['seeds']} seed(s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
