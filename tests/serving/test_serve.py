"""Real server processes: `python -m tfcls.serve`, gunicorn, concurrency and durability."""

from __future__ import annotations

import os
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import (
    APP,
    GUNICORN,
    SERVE,
    child_env,
    free_port,
    request,
    serve_config,
    server_process,
)

from tfcls.feedback.store import FeedbackStore


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
    info = request(base + "/api/model")[1]
    version, token = info["version"], info["client_token"]
    status, body = request(base + "/api/feedback", feedback(version, token, 1))
    assert status == 201
    os.kill(proc.pid, signal.SIGKILL)  # right after the 201: no clean shutdown
    proc.wait()
    store = FeedbackStore.from_url(f"sqlite:///{db}")
    rows = store.rows()
    store.close()
    assert [(r["id"], r["client_id"], r["title"]) for r in rows] == [
        (body["id"], info["client_id"], f"task 1 from {token}")
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
    """The production command from the README, several workers on one SQLite file; the
    workers share one client-id key (an id one issued verifies in every other), and the
    admin token comes from the environment. Rate limits are off: this is a load test."""
    port, db = free_port(), tmp_path / "fb.sqlite3"
    config = serve_config(tmp_path, tiny_bundle, db, rate_limits={"enabled": False})
    admin = "gunicorn-test-admin-token"
    env = {**child_env(cache_dir), "TFCLS_CONFIG": str(config), "TFCLS_ADMIN_TOKEN": admin}
    command = [GUNICORN, "-w", "3", "--threads", "4", "-b", f"127.0.0.1:{port}", APP]
    with server_process(command, port, env) as (base, _):
        infos = [request(base + "/api/model")[1] for _ in range(20)]
        version = infos[0]["version"]

        def client(i: int) -> list[int]:
            token = infos[i]["client_token"]
            return [
                request(base + "/api/feedback", feedback(version, token, seq))[0]
                for seq in range(100)
            ]

        with ThreadPoolExecutor(20) as pool:
            statuses = [s for batch in pool.map(client, range(20)) for s in batch]
        assert statuses == [201] * 2000
        auth = {"Authorization": f"Bearer {admin}"}
        assert request(base + "/api/feedback/stats")[0] == 401
        stats = request(base + "/api/feedback/stats", headers=auth)[1]
        assert stats["total"] == 2000
    store = FeedbackStore.from_url(f"sqlite:///{db}")
    rows = store.rows()
    store.close()
    keys = [(r["client_id"], r["title"]) for r in rows]
    assert len(keys) == 2000 and len(set(keys)) == 2000
    assert len({r["id"] for r in rows}) == 2000
