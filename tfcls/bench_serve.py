"""``python -m tfcls.bench feedback``: feedback POST throughput and latency under load.

Starts the production server (gunicorn, ``--workers`` processes) on 127.0.0.1 with an
empty SQLite store, fires ``--requests`` POSTs from ``--clients`` concurrent clients
(threads with keep-alive-less HTTP, as browsers' one-off POSTs are), then counts the rows:
every 201 must be a stored row and every row a 201 (zero lost).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tfcls.bench_browser import percentile
from tfcls.errors import TfclsError


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise TfclsError(
                f"gunicorn exited:\n{proc.stderr.read()[-2000:] if proc.stderr else ''}"
            )
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise TfclsError("gunicorn did not become healthy")


def bench_feedback(exported: Path, clients: int, requests: int, workers: int) -> dict[str, Any]:
    """Throughput and p50/p99 latency of POST /api/feedback; rows lost (must be 0)."""
    from tfcls.store import FeedbackStore

    pointer = exported / "current.json"
    if not pointer.is_file():
        raise TfclsError(f"{pointer}: no exported bundle; run `python -m tfcls.export` first")
    version = json.loads(pointer.read_text())["version"]
    with tempfile.TemporaryDirectory(prefix="tfcls-bench-feedback-") as tmp:
        db = Path(tmp) / "feedback.sqlite3"
        config = Path(tmp) / "config.yaml"
        config.write_text(f"serving:\n  exported: {exported.resolve()}\nstorage:\n  path: {db}\n")
        port = _free_port()
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        proc = subprocess.Popen(
            [gunicorn, "-w", str(workers), "-b", f"127.0.0.1:{port}", "tfcls.server:create_app()"],
            env={**os.environ, "TFCLS_CONFIG": str(config)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _wait(port, proc)

            def post(i: int) -> tuple[int, float]:
                body = json.dumps(
                    {
                        "title": f"benchmark task {i}",
                        "description": "",
                        "predicted_label": None,
                        "confidence": None,
                        "chosen_label": "Development",
                        "action": "corrected",
                        "model_version": version,
                        "client_id": f"bench-{i % clients}",
                    }
                )
                start = time.perf_counter()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("POST", "/api/feedback", body, {"Content-Type": "application/json"})
                status = conn.getresponse().status
                conn.close()
                return status, time.perf_counter() - start

            start = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                results = list(pool.map(post, range(requests)))
            wall = time.perf_counter() - start
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        store = FeedbackStore.from_url(f"sqlite:///{db}")
        stored = store.count()
        store.close()
    created = sum(s == 201 for s, _ in results)
    times = [t * 1000 for _, t in results]
    return {
        "benchmark": "feedback",
        "server": f"gunicorn -w {workers}",
        "clients": clients,
        "requests": requests,
        "created_201": created,
        "other_statuses": sorted({s for s, _ in results if s != 201}),
        "rows_stored": stored,
        "rows_lost": created - stored,
        "throughput_per_s": round(requests / wall, 1),
        "latency_ms": {
            "p50": round(statistics.median(times), 2),
            "p99": round(percentile(times, 99), 2),
            "max": round(max(times), 2),
        },
    }


def bench_retrain(exported: Path, rows: int, config_path: str | None) -> dict[str, Any]:
    """``python -m tfcls.retrain`` after ``rows`` new feedback verdicts, warm cache.

    A copy of ``exported`` and a fresh store get ``rows`` corrections: titles of the
    current run's training data with a follow-up suffix (new texts, so they are embedded,
    while the base data hits the embedding cache). Timed twice: retrain (data, training,
    the gate) and, for a promoted candidate, the export that publishes it.
    """
    import shutil

    from tfcls.config import load_config
    from tfcls.export import current_version
    from tfcls.retrain import retrain
    from tfcls.runs import load_run_data
    from tfcls.store import FeedbackStore

    version = current_version(exported)
    if version is None:
        raise TfclsError(f"{exported}/current.json: no exported bundle; export one first")
    meta = json.loads((exported / version / "metadata.json").read_text())
    dataset = load_run_data(Path(meta["run"]), 1, "export a run whose data file exists")
    with tempfile.TemporaryDirectory(prefix="tfcls-bench-retrain-") as tmp:
        copy = Path(tmp) / "exported"
        shutil.copytree(exported / version, copy / version)
        (copy / "current.json").write_text(json.dumps({"version": version}))
        config = load_config(
            config_path,
            [
                f"serving.exported={copy}",
                f"storage.path={Path(tmp) / 'fb.sqlite3'}",
                f"train.output_dir={Path(tmp) / 'runs'}",
            ],
        )
        store = FeedbackStore.open(config.storage)
        store.add_many(
            [
                {
                    "title": f"{e.text} (follow-up {i})",
                    "description": "",
                    "predicted_label": None,
                    "confidence": None,
                    "chosen_label": e.label,
                    "action": "corrected",
                    "model_version": version,
                    "client_id": f"bench-{i % 10}",
                }
                for i, e in enumerate(dataset.examples[:rows])
            ]
        )
        store.close()
        record = retrain(config)
    return {
        "benchmark": "retrain",
        "feedback_rows": rows,
        "retrain_seconds": record.get("retrain_seconds"),
        "total_seconds_with_export": record.get("total_seconds"),
        "verdict": record["verdict"],
        "training_examples": record["training_examples"],
        "holdouts": record["holdouts"],
        "current": record.get("current"),
        "candidate": record.get("candidate"),
    }
