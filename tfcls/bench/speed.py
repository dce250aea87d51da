"""Speed benchmarks: embedding throughput and the wall time of a default training.

Both record the machine (:func:`machine_info`) beside their figures; targets are checked
here, never by timed assertions in tests.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tfcls.cli.common import child_env
from tfcls.data.texts import read_texts  # noqa: F401  (the benchmarks' text reader)
from tfcls.errors import TfclsError

EMBED_TARGET = 200.0  # texts/s warm on the 2-core dev machine (issue 2)
TRAIN_TARGETS = {"cold": 180.0, "warm": 120.0}  # s, default train with adaptation (issue 11)
RETRAIN_TARGET = 30.0  # s after 100 feedback rows, warm embedding cache (issue 7)


def machine_info() -> dict[str, Any]:
    """CPU model, cores and memory, recorded with every benchmark figure."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        mem = f"{mem_kb / 2**20:.0f} GiB"
    except (OSError, StopIteration):
        mem = "unknown"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def bench_embed(
    handle: str, preprocessor: str | None, texts: list[str], batch_size: int, repeats: int
) -> dict[str, Any]:
    """Cold (build + first pass), warm (median of repeats) and cache-hit throughput."""
    from tfcls.encoders import load_encoder

    n = len(texts)
    with tempfile.TemporaryDirectory(prefix="tfcls-bench-") as tmp:
        t0 = time.perf_counter()
        enc = load_encoder(handle, preprocessor, cache_dir=tmp, use_cache=False)
        t1 = time.perf_counter()
        enc.embed(texts, batch_size=batch_size)
        t2 = time.perf_counter()
        warm_load = time.perf_counter()
        enc = load_encoder(handle, preprocessor, cache_dir=tmp, use_cache=False)
        warm_load = time.perf_counter() - warm_load
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            enc.embed(texts, batch_size=batch_size)
            runs.append(time.perf_counter() - start)
        cached = load_encoder(handle, preprocessor, cache_dir=tmp, use_cache=True)
        cached.embed(texts, batch_size=batch_size)
        start = time.perf_counter()
        cached.embed(texts, batch_size=batch_size)
        cached_s = time.perf_counter() - start
        tokens = None
        if enc.modules.preprocessor is not None:
            import tensorflow as tf

            mask = enc.modules.preprocessor(tf.constant(texts))["input_mask"].numpy()
            tokens = float(mask.sum(axis=1).mean())
    warm_s = statistics.median(runs)
    return {
        "benchmark": "embed",
        "handle": handle,
        "texts": n,
        "batch_size": batch_size,
        "mean_tokens_per_text": tokens,
        "cold_build_and_load_s": round(t1 - t0, 2),
        "cold_first_pass_texts_per_s": round(n / (t2 - t1), 1),
        "cold_total_texts_per_s": round(n / (t2 - t0), 1),
        "warm_load_s": round(warm_load, 2),
        "warm_runs_s": [round(r, 3) for r in runs],
        "warm_texts_per_s": round(n / warm_s, 1),
        "cache_hit_texts_per_s": round(n / cached_s, 1),
        "cache_hits": cached.cache_stats.hits,
        "target_warm_texts_per_s": EMBED_TARGET,
    }


def bench_train(
    data_path: str, config_path: str | None, overrides: list[str], work: Path
) -> dict[str, Any]:
    """Wall time of `python -m tfcls.train` cold (empty cache) and warm (``bench quality``
    cross-validates the procedure)."""
    import subprocess

    from tfcls.training import runs

    cache, out = work / "cache", work / "runs"
    config_args = [f"--set={o}" for o in overrides]
    if config_path:
        config_args = ["--config", config_path, *config_args]
    result: dict[str, Any] = {"benchmark": "train", "data": data_path}
    for phase in ("cold", "warm"):
        start = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "tfcls.train",
                "--data",
                data_path,
                "--output-dir",
                str(out),
                *config_args,
            ],
            env=child_env(cache),
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise TfclsError(f"tfcls.train failed ({phase}):\n{proc.stderr[-2000:]}")
        metrics = runs.Run.latest(out).metrics()
        result[phase] = {
            "wall_s": round(wall, 1),
            "timings_s": metrics["timings_s"],
            "target_s": TRAIN_TARGETS[phase],
        }
    result["test"] = {k: metrics["test"][k] for k in ("n", "accuracy", "macro_f1")}
    result["hyperparameters"] = metrics["hyperparameters"]
    return result
