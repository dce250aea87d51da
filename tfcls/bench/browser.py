"""``python -m tfcls.bench browser``: the exported bundle in headless Chromium.

Serves ``exported/`` with the real app (``tfcls.serving.app``: the deployment's CSP, cache
headers and TF.js set-up, single-threaded wasm) on 127.0.0.1, opens
``web/bench/index.html`` in Debian's Chromium through Playwright with a fresh profile,
and measures: cold load (first visit: fetch, compile, first prediction),
warm load (a new tab, same profile: HTTP cache), and the latency of one prediction over
typed inputs (prefixes of task titles as a person types them), p50 and p95.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tfcls import resources
from tfcls.bundle.registry import Registry
from tfcls.errors import TfclsError

CHROMIUM = "/usr/bin/chromium"
# DESIGN.md: the flags that make Debian's Chromium behave headless in CI.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TARGETS = {"warm_p50_ms": 25.0, "warm_load_s": 1.0}


@contextmanager
def app_server(exported: Path) -> Iterator[str]:
    """The real app (tfcls.serving.app: its CSP, cache headers, cross-origin isolation) serving
    ``exported`` on a free 127.0.0.1 port with a throwaway feedback store; yields its URL."""
    from werkzeug.serving import make_server

    from tfcls.config import load_config
    from tfcls.serving.app import create_app

    with tempfile.TemporaryDirectory(prefix="tfcls-bench-app-") as tmp:
        config = load_config(
            overrides=[f"serving.exported={exported}", f"storage.path={Path(tmp) / 'fb.sqlite3'}"]
        )
        app = create_app(config, bench=True)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            app.extensions["tfcls"].store.close()


def typed_inputs(n: int, seed: int = 0) -> list[str]:
    """``n`` texts as typed: every word-boundary prefix of seeded task titles."""
    data = json.loads(resources.BUNDLED_DATA.read_text(encoding="utf-8"))
    titles = [s["title"] for s in data["samples"]]
    random.Random(seed).shuffle(titles)
    out: list[str] = []
    for title in titles:
        words = title.split()
        out += [" ".join(words[: i + 1]) for i in range(len(words))]
        if len(out) >= n:
            break
    return out[:n]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def _visit(ctx: Any, page_url: str, bundle_url: str, errors: list[str]) -> tuple[Any, Any, float]:
    """Open the benchmark page in a new tab and load the bundle there:
    (page, what the page reports of the load, seconds from navigation to loaded)."""
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    start = time.perf_counter()
    page.goto(page_url)
    page.wait_for_selector("body[data-ready]")  # no eval: the CSP forbids it
    loaded = page.evaluate("url => window.tfclsBench.load(url)", bundle_url)
    return page, loaded, time.perf_counter() - start


def _measure(base: str, version: str, texts: list[str], profile: Path) -> dict[str, Any]:
    """Cold visit, warm visit (same profile), then per-text prediction times, in Chromium
    against the app at ``base``; an error in the page fails the benchmark."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    page_url, bundle_url = f"{base}/web/bench/index.html", f"{base}/models/{version}/"
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        cold_page, cold, cold_s = _visit(ctx, page_url, bundle_url, errors)
        cold_page.close()
        page, warm, warm_s = _visit(ctx, page_url, bundle_url, errors)
        out = {
            "cold": cold,
            "cold_s": cold_s,
            "warm": warm,
            "warm_s": warm_s,
            "times": page.evaluate("t => window.tfclsBench.predict(t)", texts),
            "agent": page.evaluate("navigator.userAgent"),
            "isolated": page.evaluate("self.crossOriginIsolated"),
        }
        ctx.close()
    if errors:
        raise TfclsError("errors in the page: " + "; ".join(errors))
    return out


def bench_browser(exported: Path, version: str | None, n: int) -> dict[str, Any]:
    """Cold/warm load and per-prediction latency of a bundle in headless Chromium."""
    if not Path(CHROMIUM).is_file():
        raise TfclsError(f"{CHROMIUM} not found: apt-get install chromium (make test does)")
    version, meta = Registry(exported).require_metadata(version)
    size = meta.require_size()
    texts = typed_inputs(n)
    profile = Path(tempfile.mkdtemp(prefix="tfcls-chromium-"))
    try:
        with app_server(exported) as base:
            m = _measure(base, version, texts, profile)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    cold, warm, times = m["cold"], m["warm"], m["times"]
    return {
        "benchmark": "browser",
        "version": version,
        "quantization": meta.quantization,
        "bundle_bytes": size.bytes,
        "bundle_gzip_bytes": size.gzip_bytes,
        "backend": warm["backend"],
        "cross_origin_isolated": m["isolated"],
        "browser": m["agent"],
        "cold_load_s": round(m["cold_s"], 3),
        "cold_load_in_page_ms": round(cold["ms"], 1),
        "warm_load_s": round(m["warm_s"], 3),
        "warm_load_in_page_ms": round(warm["ms"], 1),
        "warm_load_phases_ms": {k: round(v, 1) for k, v in warm["phases"].items()},
        "cold_load_phases_ms": {k: round(v, 1) for k, v in cold["phases"].items()},
        "predictions": len(times),
        "latency_ms": {
            "p50": round(statistics.median(times), 2),
            "p95": round(percentile(times, 95), 2),
            "mean": round(statistics.fmean(times), 2),
            "max": round(max(times), 2),
        },
        "targets": TARGETS,
    }
