"""``python -m tfcls.bench embed|train|banking77|hwu64|unknown|augment``: figures for BENCHMARKS.md.

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
from tfcls.cli.bench_arguments import parser
from tfcls.errors import TfclsError


def _record(result: dict[str, Any], args: Any, hide: tuple[str, ...] = ("machine",)) -> None:
    """Stamp a result with date and machine, print it (less ``hide``), write --json."""
    result.update(
        date=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), machine=machine_info()
    )
    print(json.dumps({k: v for k, v in result.items() if k not in hide}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark ``argv`` names; prints its figures against their targets."""
    args = parser().parse_args(argv)
    config = cli.config_from(args)
    plain = {"browser": _main_browser, "feedback": _main_feedback, "retrain": _main_retrain}
    if args.benchmark in plain:
        return plain[args.benchmark](args)
    if args.benchmark in (*DATASETS, "unknown"):
        return _main_public(args, config)
    with_config = {
        "train": _main_train,
        "quality": _main_quality,
        "quantization": _main_quantization,
        "goemotions": _main_goemotions,
        "augment": _main_augment,
        "active": _main_active,
        "drift": _main_drift,
    }
    return with_config.get(args.benchmark, _main_embed)(args, config)


def _main_drift(args: Any, config: Any) -> int:
    from tfcls.bench.drift import bench_drift, summary

    result = bench_drift(config, args.seeds, args.foreign_pool)
    _record(result, args)
    print(summary(result), file=sys.stderr)
    return 0


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
    from tfcls.bench.feedback_load import bench_feedback

    if min(args.requests, args.workers) < 1 or args.threads < 0:
        raise TfclsError("--requests and --workers must be positive, --threads ≥ 0")
    result = bench_feedback(
        args.exported,
        args.clients,
        args.requests,
        args.workers,
        args.threads,
        args.preload,
        args.rate_limits,
    )
    _record(result, args)
    targets, ok = result["targets"], True
    for level in result["levels"]:
        lat = level["latency_ms"]
        verdict = ""
        if level["clients"] == targets["clients"]:
            meets = (
                level["throughput_per_s"] >= targets["throughput_per_s"]
                and lat["p99"] <= targets["p99_ms"]
                and level["created_201"] == level["requests"]  # every POST stored, or nothing
            )
            verdict = (
                f" ({'meets' if meets else 'MISSES'} ≥ {targets['throughput_per_s']:.0f}/s, "
                f"p99 ≤ {targets['p99_ms']:.0f} ms)"
            )
        print(
            f"feedback: {level['throughput_per_s']} POSTs/s from {level['clients']} clients "
            f"({result['server']}), p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms{verdict}, "
            f"{level['created_201']}/{level['requests']} created, {level['rows_lost']} rows "
            f"lost, {level['rows_per_transaction']} rows per transaction"
        )
        ok = ok and level["rows_lost"] == 0 and level["created_201"] == level["requests"]
    return 0 if ok else 1


def _main_browser(args: Any) -> int:
    from tfcls.bench.browser import TARGETS, bench_browser

    if args.n < 1 or args.rounds < 1:
        raise TfclsError("--n and --rounds must be positive")
    networks = [n.strip() for n in args.network.split(",") if n.strip()]
    result = bench_browser(args.exported, args.version, args.n, networks, args.rounds)
    _record(result, args)
    print(_browser_summary(result, TARGETS))
    return 0


def _browser_summary(result: dict[str, Any], targets: dict[str, float]) -> str:
    """The one summary line of ``bench browser``."""

    def ok(value: float, target: float) -> str:
        return "meets" if value <= target else "MISSES"

    lat, v = result["latency_ms"], result["variants"]
    visits = "; ".join(
        f"{a['network']}: first suggestion {a['fresh']['first_suggestion_s']:.2f} s, "
        f"bundle {a['fresh']['bytes'].get('bundle', 0) / 2**20:.1f} MiB on the wire, "
        f"{a['second']['bundle_requests']} bundle requests on return"
        for a in result["app_visits"]
    )
    first = result["first_prediction_ms"]
    return (
        f"browser: {result['quantization']} bundle {result['bundle_bytes'] / 2**20:.1f} MiB "
        f"({result['bundle_gzip_bytes'] / 2**20:.1f} MiB gzip) on {result['backend']} "
        f"({result['wasm']}): {visits}; warm load {result['warm_load_s']:.2f} s, "
        f"p50 {lat['p50']:.1f} ms ({ok(lat['p50'], targets['warm_p50_ms'])} ≤ "
        f"{targets['warm_p50_ms']:.0f} ms), p95 {lat['p95']:.1f} ms, first prediction "
        f"{first:.0f} ms ({ok(first, targets['first_prediction_ms'])} ≤ "
        f"{targets['first_prediction_ms']:.0f} ms); threads ({v['threads']['threads']}) p50 "
        f"{v['threads']['latency_ms']['p50']:.1f} ms = {v['threads_vs_single_p50']:.2f}× "
        "single-threaded"
    )


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


def _main_quantization(args: Any, config: Any) -> int:
    from tfcls.bench.quantization import bench_quantization

    if any(not 2 <= b <= 8 for b in args.bits):
        raise TfclsError(f"--bits must be between 2 and 8, got {args.bits}")
    run_dir = cli.run_dir_from(args)
    texts = None if args.texts is None else read_texts(args.texts, args.n)
    result = bench_quantization(run_dir, args.bits, texts)
    _record(result, args, hide=("machine", "per_matrix"))
    print(
        "quantization: every matrix at "
        + ", ".join(
            f"{b} bits {r['gzip_bytes'] / 2**20:.1f} MiB gzip, agreement "
            f"{r['argmax_agreement']:.4f}"
            for b, r in result["all_matrices"].items()
        )
        + f" ({result['texts']} {result['text_source']} texts of {run_dir})"
    )
    return 0


def _main_goemotions(args: Any, config: Any) -> int:
    from tfcls.bench.goemotions import bench_goemotions

    for name in ("n_train", "n_eval"):
        if getattr(args, name) is not None and getattr(args, name) < 100:
            raise TfclsError(f"--{name.replace('_', '-')} must be at least 100")
    result = bench_goemotions(config, args.n_train, args.trials, args.n_eval, args.adapt_layers)
    _record(result, args, hide=("machine", "trials", "dev_thresholds"))
    test, base = result["test"], result["baseline_macro_f1"]
    verdict = "meets" if test["macro_f1"] >= base else "MISSES"
    print(
        f"goemotions: test macro-F1 {test['macro_f1']:.4f} ({verdict} the fine-tuned BERT-base "
        f"baseline {base}), micro-F1 {test['micro_f1']:.4f}, fixed 0.5 threshold macro-F1 "
        f"{result['test_fixed_0_5']['macro_f1']:.4f}; {result['texts']['train']} training, "
        f"{result['texts']['test']} test texts"
    )
    return 0


def _main_augment(args: Any, config: Any) -> int:
    from tfcls.bench.augment import BUNDLED, bench_augment
    from tfcls.encoders import load_encoder_from

    names = [d.strip() for d in args.datasets.split(",") if d.strip()]
    if not names or set(names) - {*DATASETS, BUNDLED} or min(args.shots, args.seeds) < 1:
        raise TfclsError(f"--datasets from {', '.join((*DATASETS, BUNDLED))}; --shots, --seeds ≥ 1")
    enc = load_encoder_from(config.encoder)
    kwargs = {"seeds": args.seeds, "shots": args.shots, "val_per_label": args.val_per_label}
    kwargs.update(val_fraction=args.val_fraction, slices=(args.labels, args.test_per_label))
    with tempfile.TemporaryDirectory(prefix="tfcls-bench-augment-") as tmp:
        result = bench_augment(enc, names, config, Path(tmp), **kwargs)
    result["overrides"] = cli.config_args(args)[1]
    _record(result, args, hide=("machine",))
    print(
        "augment: "
        + "; ".join(
            f"{d['dataset']} held-out accuracy off {d['held_out_accuracy']['off']['mean']:.4f}, "
            f"on {d['held_out_accuracy']['on']['mean']:.4f} (+{d['added_texts']['mean']:.0f} "
            f"texts) → {d['chosen']}"
            + (
                f", test {d['test_accuracy_of_chosen']['mean']:.4f}"
                if d["test_accuracy_of_chosen"]
                else ""
            )
            for d in result["datasets"]
        )
    )
    return 0


def _main_active(args: Any, config: Any) -> int:
    from tfcls.bench.active import bench_active, plot_curves
    from tfcls.encoders import load_encoder_from

    if min(args.rounds, args.per_round, args.seeds, args.seed_per_label, args.val_per_label) < 1:
        raise TfclsError("--rounds, --per-round, --seeds and the --*-per-label must be ≥ 1")
    kwargs = {"seed_per_label": args.seed_per_label, "val_per_label": args.val_per_label}
    kwargs.update(by=args.by, radius=args.radius, slices=(args.labels, args.test_per_label))
    enc = load_encoder_from(config.encoder)
    result = bench_active(enc, args.rounds, args.per_round, args.seeds, **kwargs)
    if args.plot:
        result["plot"] = str(plot_curves(result, args.plot))
    _record(result, args, hide=("machine", "per_seed"))
    ours, rand = (
        result["held_out_accuracy"][s][-1]["mean"] for s in ("uncertainty+diversity", "random")
    )
    won = result["rounds_won_over_random"]
    print(
        f"active: after {args.rounds} rounds of {args.per_round}, held-out accuracy "
        f"uncertainty+diversity {ours:.4f} vs random {rand:.4f}; beats random in {len(won)}/"
        f"{args.rounds} rounds ({'meets' if len(won) == args.rounds else 'MISSES'} every round)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
