"""tfcls.bench.browser / tfcls.bench.visit without a browser: the link emulator, the
request accounting and the summaries (the whole benchmark runs in test_bench.py)."""

from __future__ import annotations

import threading
import time

import pytest

from tfcls.bench.browser import summarize_variants
from tfcls.bench.visit import (
    LinkRecorder,
    Request,
    kind,
    loading_percentages,
    parse_network,
    transfer,
)
from tfcls.errors import TfclsError


def test_network_profiles():
    assert parse_network("none") == (None, 0.0)
    assert parse_network("20mbit") == (2_500_000.0, 0.040)
    assert parse_network("1.5mbit") == (187_500.0, 0.040)
    for bad in ("fast", "0mbit", "20kbit", ""):
        with pytest.raises(TfclsError, match="--network"):
            parse_network(bad)


def _app(body: bytes, status: str = "200 OK"):
    def app(environ, start_response):
        start_response(status, [("Content-Length", str(len(body)))])
        return [body]

    return app


def _call(recorder: LinkRecorder, path: str) -> bytes:
    statuses = []
    out = recorder({"PATH_INFO": path}, lambda s, h, e=None: statuses.append(s))
    data = b"".join(out)
    assert statuses
    return data


def test_recorder_logs_every_request_with_the_bytes_sent():
    recorder = LinkRecorder(_app(b"x" * 40_000))
    assert _call(recorder, "/models/v1/group1-shard1of1.bin") == b"x" * 40_000
    _call(recorder, "/vendor/tfjs/dist/tf.es2017.min.js")
    assert recorder.requests == [
        Request("/models/v1/group1-shard1of1.bin", 200, 40_000),
        Request("/vendor/tfjs/dist/tf.es2017.min.js", 200, 40_000),
    ]
    assert len(recorder.reset()) == 2 and recorder.requests == []


def test_the_link_is_shared_by_concurrent_responses():
    """Two 50 kB responses over one 500 kB/s link take ~0.2 s together, not ~0.1 s each in
    parallel; the latency is paid per request."""
    recorder = LinkRecorder(_app(b"y" * 50_000))
    recorder.set_link(500_000, 0.02)
    start = time.monotonic()
    threads = [threading.Thread(target=_call, args=(recorder, f"/models/v/{i}")) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.monotonic() - start >= 0.19
    recorder.set_link(None, 0.0)
    start = time.monotonic()
    _call(recorder, "/models/v/3")
    assert time.monotonic() - start < 0.15


def test_transfer_splits_bytes_by_kind_and_counts_repeated_downloads():
    assert [kind(p) for p in ("/models/v/a.bin", "/vendor/x", "/api/model", "/", "/sw.js")] == [
        "bundle",
        "tfjs",
        "api",
        "shell",
        "shell",
    ]
    reqs = [
        Request("/models/v/model.json", 200, 10),
        Request("/models/v/s1.bin", 200, 100),
        Request("/models/v/s1.bin", 200, 100),  # downloaded twice: what the SW fix prevents
        Request("/models/v/s1.bin", 304, 0),
        Request("/vendor/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm", 200, 7),
        Request("/", 200, 3),
    ]
    t = transfer(reqs)
    assert t["bytes"] == {"bundle": 210, "tfjs": 7, "shell": 3, "total": 220}
    assert t["requests"] == {"bundle": 4, "tfjs": 1, "shell": 1}
    assert t["bundle_downloads_per_file_max"] == 2
    assert t["wasm"] == ["tfjs-backend-wasm-simd.wasm"]
    assert transfer([])["bundle_downloads_per_file_max"] == 0


def test_loading_percentages_read_the_status_line():
    status = [[1, "Loading model…"], [2, "Loading model… 8%"], [3, "Loading model… 50%"]]
    status += [[4, "Model v1 · wasm"]]
    assert loading_percentages(status) == [8, 50]


def test_variants_are_summarized_with_the_ratio():
    def run(p50: float, threads: int) -> dict:
        loaded = {"threads": threads, "wasm": "w.wasm", "phases": {"backend": 5.0}}
        return {"loaded": loaded, "first_ms": 20.0, "times": [p50, p50, p50 * 2]}

    s = summarize_variants({"single": [run(10, 1), run(12, 1)], "threads": [run(15, 2)]})
    assert s["single"]["p50_per_round_ms"] == [10, 12] and s["single"]["threads"] == 1
    assert s["threads"]["latency_ms"]["p50"] == 15 and s["threads_vs_single_p50"] == 1.25
    assert s["single"]["first_prediction_ms"] == 20.0


def test_a_browser_visit_loads_the_bundle_and_collects_page_errors():
    from tfcls.bench.browser import _visit

    class Page:
        def __init__(self):
            self.calls = []

        def on(self, event, handler):
            self.calls.append(event)
            handler("boom")  # the page reports an error

        def goto(self, url):
            self.calls.append(url)

        def wait_for_selector(self, selector):
            self.calls.append(selector)

        def evaluate(self, script, arg):
            return {"ms": 1.0, "url": arg}

    class Context:
        def new_page(self):
            return Page()

    errors: list[str] = []
    page, loaded, seconds = _visit(Context(), "http://x/page", "http://x/models/v1/", errors)
    assert loaded == {"ms": 1.0, "url": "http://x/models/v1/"} and seconds >= 0
    assert page.calls == ["pageerror", "http://x/page", "body[data-ready]"]
    assert errors == ["boom"]
