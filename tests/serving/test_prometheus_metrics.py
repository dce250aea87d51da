"""GET /metrics (tfcls.serving.metrics): the Flask test client, the development server, and
gunicorn with several workers in prometheus_client's multiprocess mode.

The metric objects are process-wide, so the in-process tests compare two scrapes (what a
test's requests added), never absolute values.
"""

from __future__ import annotations

import os
import signal
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import (
    APP,
    GUNICORN,
    bundle_copy,
    child_env,
    free_port,
    request,
    serve_config,
    server_process,
)
from prometheus_client.parser import text_string_to_metric_families

from tfcls.config import load_config
from tfcls.serving.app import create_app
from tfcls.serving.gunicorn_config import clear_multiproc_dir

REQUESTS = "tfcls_http_requests_total"
LATENCY_COUNT = "tfcls_http_request_duration_seconds_count"
VERDICTS = "tfcls_feedback_verdicts_total"
PREDICTIONS = "tfcls_predictions_total"
STORE_ERRORS = "tfcls_store_errors_total"
INFO = "tfcls_model_info"


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    """(name, labels, value) of every sample in a text-format scrape."""
    return [
        (s.name, s.labels, s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels``."""
    return sum(v for n, have, v in samples(text) if n == name and labels.items() <= have.items())


@pytest.fixture()
def served(tiny_bundle, tmp_path, cache_dir, monkeypatch):
    """(app, test client, version, token): an app over a copy of the tiny bundle and a
    fresh SQLite store (rate limits as configured by default); ``token`` is a client id
    the app issued."""
    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    overrides, version = bundle_copy(tiny_bundle, tmp_path)
    app = create_app(load_config(overrides=overrides))
    token = app.extensions["tfcls"].client_ids.issue().token
    yield app, app.test_client(), version, token
    app.extensions["tfcls"].store.close()


def scrape(client) -> str:
    resp = client.get("/metrics")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def verdict(version: str, token: str, action: str, chosen: str | None = "alarm_set") -> dict:
    return {
        "title": "Fix login redirect bug",
        "description": "",
        "predicted_label": "alarm_set",
        "confidence": 0.61,
        "chosen_label": chosen,
        "action": action,
        "model_version": version,
        "client_id": token,
    }


def test_metrics_endpoint_format_headers_and_model_info(served):
    _, client, version, _ = served
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.mimetype == "text/plain" and resp.headers["Cache-Control"] == "no-store"
    text = resp.get_data(as_text=True)
    for name in (REQUESTS, "tfcls_http_request_duration_seconds", VERDICTS, PREDICTIONS):
        assert f"# TYPE {name.removesuffix('_total')}" in text, name
    assert (
        value(text, STORE_ERRORS) >= 0 and f"# TYPE {STORE_ERRORS.removesuffix('_total')}" in text
    )
    assert [(n, labels, v) for n, labels, v in samples(text) if n == INFO] == [
        (INFO, {"version": version}, 1.0)
    ]
    assert "process_cpu_seconds_total" in text  # one process: the default registry's own
    # OpenMetrics for a scraper that asks for it
    om = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert om.mimetype == "application/openmetrics-text" and om.data.endswith(b"# EOF\n")


def test_scrapes_are_neither_limited_nor_counted(served):
    _, client, _, _ = served
    before = scrape(client)
    for _ in range(70):  # more than any per-IP limit of the default config in an hour
        assert client.get("/metrics").status_code == 200
    after = scrape(client)
    assert value(after, REQUESTS, endpoint="metrics") == 0
    assert value(after, REQUESTS) == value(before, REQUESTS)


def test_requests_are_counted_per_endpoint_method_and_status(served):
    _, client, _, token = served
    before = scrape(client)
    for _ in range(3):
        assert client.get(f"/api/model?client_token={token}").status_code == 200
    assert client.get("/nope").status_code == 404
    assert client.post("/api/feedback", json={"title": 1}).status_code == 400
    after = scrape(client)

    def added(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    model = {"endpoint": "api.model_info", "method": "GET", "status": "200"}
    assert added(REQUESTS, **model) == 3 and added(LATENCY_COUNT, **model) == 3
    assert added(REQUESTS, endpoint="unmatched", method="GET", status="404") == 1
    assert added(REQUESTS, endpoint="api.feedback", method="POST", status="400") == 1
    assert added(REQUESTS) == 5 and added(LATENCY_COUNT) == 5
    buckets = [
        (labels["le"], v)
        for n, labels, v in samples(after)
        if n == "tfcls_http_request_duration_seconds_bucket" and model.items() <= labels.items()
    ]
    assert buckets[-1][0] == "+Inf" and buckets[-1][1] == value(after, LATENCY_COUNT, **model)


def test_many_bundle_paths_and_odd_methods_share_bounded_label_values(served):
    _, client, version, _ = served
    for i in range(25):  # distinct paths, real and not
        client.get(f"/models/{version}/file-{i}.bin")
        client.get(f"/models/20990101T000000Z-{i:08d}/model.json")
        client.get(f"/no/such/page/{i}")
        client.open(f"/api/model?x={i}", method=f"BREW{i}")
    assert client.get(f"/models/{version}/model.json").status_code == 200
    text = scrape(client)
    series = {(n, tuple(sorted(labels.items()))) for n, labels, _ in samples(text)}
    endpoints = {dict(labels).get("endpoint") for n, labels in series if n == REQUESTS}
    methods = {dict(labels)["method"] for n, labels in series if n == REQUESTS}
    assert all("/" not in e for e in endpoints), endpoints  # names, never paths
    assert "files.bundle_file" in endpoints and "unmatched" in endpoints
    assert not any("BREW" in m for m in methods) and "other" in methods
    bundle = {
        labels
        for n, labels in series
        if n == REQUESTS and ("endpoint", "files.bundle_file") in labels
    }
    assert {dict(labels)["status"] for labels in bundle} <= {"200", "304", "404"}


def test_verdicts_are_counted_per_action_and_version_once_stored(served):
    _, client, version, token = served
    before = scrape(client)
    for action, chosen in [("accepted", "alarm_set")] * 2 + [("corrected", "weather_query")]:
        assert (
            client.post("/api/feedback", json=verdict(version, token, action, chosen)).status_code
            == 201
        )
    bad = verdict(version, token, "corrected", None)  # refused: no verdict counted
    assert client.post("/api/feedback", json=bad).status_code == 400
    after = scrape(client)
    for action, n in [("accepted", 2), ("corrected", 1), ("rejected", 0)]:
        got = value(after, VERDICTS, action=action, version=version)
        assert got - value(before, VERDICTS, action=action, version=version) == n, action


def test_server_side_predictions_are_counted_per_version(served):
    _, client, version, _ = served
    before = value(scrape(client), PREDICTIONS, version=version)
    assert (
        client.post("/api/predict", json={"texts": ["set an alarm", "rain?", "hi"]}).status_code
        == 200
    )
    assert client.post("/api/predict", json={"texts": ["play music"]}).status_code == 200
    assert client.post("/api/predict", json={"texts": []}).status_code == 400
    assert value(scrape(client), PREDICTIONS, version=version) - before == 4


def test_a_store_error_is_counted(served):
    app, client, version, token = served
    before = scrape(client)
    app.extensions["tfcls"].store.close()  # a real failure: the store refuses every row
    resp = client.post("/api/feedback", json=verdict(version, token, "accepted"))
    assert resp.status_code == 503 and resp.json["detail"] == "the feedback store failed"
    after = scrape(client)
    assert value(after, STORE_ERRORS) - value(before, STORE_ERRORS) == 1
    assert value(after, VERDICTS, version=version) == value(before, VERDICTS, version=version)
    assert value(after, REQUESTS, endpoint="api.feedback", status="503") >= 1


def test_the_development_server_serves_metrics(dev_server):
    """``python -m tfcls.serve``: one process, the in-memory registry."""
    base = dev_server.base
    version = request(base + "/api/model")[1]["version"]
    with urllib.request.urlopen(base + "/metrics", timeout=30) as resp:
        text = resp.read().decode()
        assert resp.headers["Cache-Control"] == "no-store"
    assert value(text, INFO, version=version) == 1
    assert value(text, REQUESTS, endpoint="api.model_info", status="200") == 1


def test_clear_multiproc_dir_deletes_only_the_clients_files(tmp_path):
    folder = tmp_path / "prom"
    assert clear_multiproc_dir(folder) == [] and folder.is_dir()  # created
    written = ["counter_123.db", "histogram_123.db", "gauge_livesum_9.db", "gauge_max_9.db"]
    for name in written:
        (folder / name).write_bytes(b"\0" * 8)
    (folder / "notes.txt").write_text("kept")
    removed = clear_multiproc_dir(folder)
    assert sorted(p.name for p in removed) == sorted(written)
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    (folder / "counter_5.db").write_bytes(b"")
    (folder / "feedback.db").write_bytes(b"SQLite format 3\0")
    with pytest.raises(RuntimeError, match=r"feedback\.db"):
        clear_multiproc_dir(folder)
    assert (folder / "feedback.db").exists() and (folder / "counter_5.db").exists()


# --- gunicorn, 3 workers, multiprocess mode ------------------------------------------------


def workers_of(master: int) -> set[int]:
    """The live child processes of ``master`` (gunicorn's workers)."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[1]) == master and fields[0] != "Z":
            children.add(int(stat.parent.name))
    return children


def wait_for_workers(master: int, n: int, gone: set[int], timeout: float = 120) -> set[int]:
    """``n`` workers, none of them in ``gone`` (an error after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = workers_of(master)
        if len(now) == n and not now & gone:
            return now
        time.sleep(0.1)
    raise AssertionError(f"gunicorn has workers {workers_of(master)}, not {n} new ones")


def scrapes(base: str, n: int) -> list[float]:
    """The GET /api/model 200s that each of ``n`` scrapes reports."""
    counts = []
    for _ in range(n):
        with urllib.request.urlopen(base + "/metrics", timeout=30) as resp:
            text = resp.read().decode()
        counts.append(value(text, REQUESTS, endpoint="api.model_info", status="200"))
    return counts


@pytest.mark.slow
def test_gunicorn_workers_count_every_request_exactly_once(tiny_bundle, tmp_path, cache_dir):
    """3 workers, each scrape reports the same totals whichever worker answers; workers
    killed with SIGKILL (and replaced by gunicorn) keep their counts, and a scrape answered
    only by new workers still has them."""
    port, prom = free_port(), tmp_path / "prom"
    prom.mkdir()
    (prom / "counter_424242.db").write_bytes(b"stale, not even a valid file")  # a past run
    (prom / "keep.txt").write_text("not the client's")
    config = serve_config(
        tmp_path, tiny_bundle, tmp_path / "fb.sqlite3", rate_limits={"enabled": False}
    )
    env = {
        **child_env(cache_dir),
        "TFCLS_CONFIG": str(config),
        "PROMETHEUS_MULTIPROC_DIR": str(prom),
    }
    command = [
        GUNICORN, "-c", "python:tfcls.serving.gunicorn_config", "-k", "gthread",
        "-w", "3", "--threads", "4", "-b", f"127.0.0.1:{port}", APP,
    ]  # fmt: skip
    with server_process(command, port, env) as (base, proc):
        assert not (prom / "counter_424242.db").exists() and (prom / "keep.txt").exists()
        token = request(base + "/api/model")[1]["client_token"]

        def get_model(_: int) -> int:
            return request(f"{base}/api/model?client_token={token}")[0]

        with ThreadPoolExecutor(12) as pool:
            assert list(pool.map(get_model, range(59))) == [200] * 59
        assert scrapes(base, 12) == [60] * 12
        first = wait_for_workers(proc.pid, 3, set())
        for pid in first:
            os.kill(pid, signal.SIGKILL)
        wait_for_workers(proc.pid, 3, first)
        assert scrapes(base, 12) == [60] * 12  # only new workers answer now
        with ThreadPoolExecutor(12) as pool:
            assert list(pool.map(get_model, range(40))) == [200] * 40
        assert scrapes(base, 12) == [100] * 12
        with urllib.request.urlopen(base + "/metrics", timeout=30) as resp:
            text = resp.read().decode()
        version = request(base + "/api/model?client_token=" + token)[1]["version"]
        assert value(text, INFO, version=version) == 1
        assert "process_cpu_seconds_total" not in text  # no per-process metrics merged
