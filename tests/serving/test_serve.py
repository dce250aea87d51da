"""Real server processes: `python -m tfcls.serve`, gunicorn, concurrency and durability."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import SERVE, child_env, free_port, request, serve_config, server_process

from tfcls.feedback.store import FeedbackStore

GUNICORN = str(Path(sys.executable).parent / "gunicorn")
APP = "tfcls.serving.app:create_app()"  # the production command in the README


def feedback(version: str, client: str, seq: int) -> dict:
    return {
        "title": f"task {seq} from {client}",
        "description": "",
        "predicted_label": "alarm_set",
        "confidence": 0.5,
        "chosen_label": "alarm_set",
        "action": "accepted",
        "model_version": version,
        "client_id": client,
    }


def test_an_accepted_post_survives_kill_9(dev_server):
    base, proc, db = dev_server.base, dev_server.proc, dev_server.db
    version = request(base + "/api/model")[1]["version"]
    status, body = request(base + "/api/feedback", feedback(version, "durable", 1))
    assert status == 201
    os.kill(proc.pid, signal.SIGKILL)  # right after the 201: no clean shutdown
    proc.wait()
    store = FeedbackStore.from_url(f"sqlite:///{db}")
    rows = store.rows()
    store.close()
    assert [(r["id"], r["client_id"], r["title"]) for r in rows] == [
        (body["id"], "durable", "task 1 from durable")
    ]


def test_server_side_predictions_in_a_fresh_process(dev_server):
    """/api/predict in a process that has not imported TensorFlow Text before."""
    status, body = request(
        dev_server.base + "/api/predict", {"texts": ["set an alarm", "rain today?"]}
    )
    assert status == 200, body
    assert len(body["results"]) == 2 and body["results"][0]["predictions"]


def test_serve_refuses_to_start_without_a_bundle(tmp_path, cache_dir):
    config = serve_config(tmp_path, tmp_path / "none", tmp_path / "fb.db")
    proc = subprocess.run(
        [*SERVE, "--port", str(free_port()), "--config", str(config)],
        env=child_env(cache_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "nothing exported yet" in proc.stderr


@pytest.mark.slow
def test_gunicorn_20_threads_x_100_posts_store_every_row_once(tiny_bundle, tmp_path, cache_dir):
    """The production command from the README, several workers on one SQLite file."""
    port, db = free_port(), tmp_path / "fb.sqlite3"
    env = {**child_env(cache_dir), "TFCLS_CONFIG": str(serve_config(tmp_path, tiny_bundle, db))}
    command = [GUNICORN, "-w", "3", "--threads", "4", "-b", f"127.0.0.1:{port}", APP]
    with server_process(command, port, env) as (base, _):
        version = request(base + "/api/model")[1]["version"]

        def client(i: int) -> list[int]:
            return [
                request(base + "/api/feedback", feedback(version, f"client-{i}", seq))[0]
                for seq in range(100)
            ]

        with ThreadPoolExecutor(20) as pool:
            statuses = [s for batch in pool.map(client, range(20)) for s in batch]
        assert statuses == [201] * 2000
        stats = request(base + "/api/feedback/stats")[1]
        assert stats["total"] == 2000
    store = FeedbackStore.from_url(f"sqlite:///{db}")
    rows = store.rows()
    store.close()
    keys = [(r["client_id"], r["title"]) for r in rows]
    assert len(keys) == 2000 and len(set(keys)) == 2000
    assert len({r["id"] for r in rows}) == 2000
