"""``python -m tfcls.bench browser``: the exported bundle in headless Chromium.

Serves ``exported/`` with the real app (``tfcls.serving.app``: the deployment's CSP, cache
headers, precompressed files and TF.js set-up, single-threaded wasm) on 127.0.0.1 behind a
request recorder / link emulator (:mod:`tfcls.bench.visit`), and measures in Debian's
Chromium through Playwright:

- the app page ``/``, per network profile (``--network``: ``none``, ``20mbit`` = 2.5 MB/s
  down and 40 ms per request, applied on the server so the service worker's fetches are
  throttled and counted too): a fresh visit (time to the first suggestion for a title typed
  while the model loads, the "Loading model… N%" it showed, bytes transferred by kind, how
  often each bundle file was downloaded) and a second visit (bundle requests reaching the
  server: 0 wanted; first prediction after load);
- the benchmark page ``web/bench/index.html`` (fresh profile): cold load, warm load (a new
  tab: HTTP cache), and per variant of the wasm backend, in one run and alternating (the
  machine may be shared: compare variants as ratios): the first prediction after load and
  the latency of one prediction over typed inputs (prefixes of task titles), p50 and p95.
  Variants: single-threaded (what the app runs) and TF.js's stock multi-threaded build with
  ``navigator.hardwareConcurrency`` threads. The threaded build needs ``blob:`` scripts,
  which only the benchmark page's CSP allows (``create_app(bench=True)``), and TF.js caps
  its pool at hardwareConcurrency / 2, so the page reports twice the cores to it.
"""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tfcls import resources
from tfcls.bench.visit import FIRST_TITLE, LinkRecorder, parse_network, visits
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
TARGETS = {
    "warm_p50_ms": 12.0,
    "warm_load_s": 1.0,
    "first_prediction_ms": 40.0,
    "first_suggestion_20mbit_s": 10.0,
    "fresh_bundle_mib": 20.0,
}
VARIANTS = {"single": 0, "threads": -1}  # threads: -1 = navigator.hardwareConcurrency


@contextmanager
def app_server(exported: Path) -> Iterator[tuple[str, LinkRecorder]]:
    """The real app (tfcls.serving.app: its CSP, cache headers, cross-origin isolation) serving
    ``exported`` on a free 127.0.0.1 port with a throwaway feedback store, behind a
    :class:`LinkRecorder`; yields (its URL, the recorder)."""
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log on stderr

    from tfcls.config import load_config
    from tfcls.serving.app import create_app

    with tempfile.TemporaryDirectory(prefix="tfcls-bench-app-") as tmp:
        config = load_config(
            overrides=[f"serving.exported={exported}", f"storage.path={Path(tmp) / 'fb.sqlite3'}"]
        )
        app = create_app(config, bench=True)
        recorder = LinkRecorder(app.wsgi_app)
        app.wsgi_app = recorder
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}", recorder
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


def _variant(ctx: Any, page_url: str, bundle_url: str, threads: int, texts: list[str]) -> dict:
    """One wasm variant in a new tab: load, idle warm-up, the first prediction after load
    (a title it has not seen), then every text of ``texts``."""
    page = ctx.new_page()
    page.goto(page_url)
    page.wait_for_selector("body[data-ready]")
    loaded = page.evaluate(
        "([u, t]) => window.tfclsBench.load(u, {threads: t})", [bundle_url, threads]
    )
    first = page.evaluate("t => window.tfclsBench.first(t)", FIRST_TITLE)
    times = page.evaluate("t => window.tfclsBench.predict(t)", texts)
    page.close()
    return {"loaded": loaded, "first_ms": first, "times": times}


def _launch(pw: Any) -> Any:
    def launch(profile: Path) -> Any:
        return pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )

    return launch


def _measure(
    base: str, version: str, texts: list[str], profile: Path, rounds: int, pw: Any
) -> dict[str, Any]:
    """Cold visit, warm visit (same profile), then the variants alternating ``rounds``
    times, on the benchmark page; an error in the page fails the benchmark."""
    errors: list[str] = []
    page_url, bundle_url = f"{base}/web/bench/index.html", f"{base}/models/{version}/"
    ctx = _launch(pw)(profile)
    cold_page, cold, cold_s = _visit(ctx, page_url, bundle_url, errors)
    cold_page.close()
    page, warm, warm_s = _visit(ctx, page_url, bundle_url, errors)
    out = {
        "cold": cold,
        "cold_s": cold_s,
        "warm": warm,
        "warm_s": warm_s,
        "agent": page.evaluate("navigator.userAgent"),
        "isolated": page.evaluate("self.crossOriginIsolated"),
        "cores": page.evaluate("navigator.hardwareConcurrency"),
        "variants": {name: [] for name in VARIANTS},
    }
    page.close()
    for i in range(rounds):
        for name, threads in VARIANTS.items():
            progress(f"browser: {name} wasm, round {i + 1}/{rounds}")
            run = _variant(ctx, page_url, bundle_url, threads, texts)
            out["variants"][name].append(run)
    ctx.close()
    if errors:
        raise TfclsError("errors in the page: " + "; ".join(errors))
    return out


def progress(message: str) -> None:
    """Progress on stderr (stdout ends with the command's one summary line)."""
    print(message, file=sys.stderr, flush=True)


def latency(times: list[float]) -> dict[str, float]:
    """p50, p95, mean and max of per-prediction milliseconds."""
    return {
        "p50": round(statistics.median(times), 2),
        "p95": round(percentile(times, 95), 2),
        "mean": round(statistics.fmean(times), 2),
        "max": round(max(times), 2),
    }


def summarize_variants(variants: dict[str, list[dict]]) -> dict[str, Any]:
    """Per variant: threads in use, .wasm binary, pooled latency, first prediction (median
    over rounds, and each round's)."""
    out = {}
    for name, runs in variants.items():
        firsts = [r["first_ms"] for r in runs]
        out[name] = {
            "threads": runs[0]["loaded"]["threads"],
            "wasm": runs[0]["loaded"]["wasm"],
            "latency_ms": latency([t for r in runs for t in r["times"]]),
            "p50_per_round_ms": [round(statistics.median(r["times"]), 2) for r in runs],
            "first_prediction_ms": round(statistics.median(firsts), 1),
            "first_prediction_per_round_ms": [round(f, 1) for f in firsts],
            "backend_start_ms": round(
                statistics.median(r["loaded"]["phases"]["backend"] for r in runs), 1
            ),
        }
    single, threads = out["single"]["latency_ms"]["p50"], out["threads"]["latency_ms"]["p50"]
    out["threads_vs_single_p50"] = round(threads / single, 3)
    return out


def bench_browser(
    exported: Path, version: str | None, n: int, networks: list[str], rounds: int = 2
) -> dict[str, Any]:
    """The app's fresh and second visits per network, then cold/warm load and per-variant
    latency of a bundle on the benchmark page, in headless Chromium."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        raise TfclsError(f"{CHROMIUM} not found: apt-get install chromium (make test does)")
    for name in networks:
        parse_network(name)  # a bad name fails before anything runs
    version, meta = Registry(exported).require_metadata(version)
    size = meta.require_size()
    texts = typed_inputs(n)
    tmp = Path(tempfile.mkdtemp(prefix="tfcls-chromium-"))
    try:
        with app_server(exported) as (base, recorder), sync_playwright() as pw:
            app_visits = []
            for i, name in enumerate(networks):
                progress(f"browser: fresh + second visit of / over network {name}")
                app_visits.append(visits(_launch(pw), base, recorder, name, tmp / f"app-{i}"))
            progress("browser: benchmark page: cold, warm, wasm variants")
            m = _measure(base, version, texts, tmp / "bench", rounds, pw)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    cold, warm = m["cold"], m["warm"]
    variants = summarize_variants(m["variants"])
    return {
        "benchmark": "browser",
        "version": version,
        "quantization": meta.quantization,
        "bundle_bytes": size.bytes,
        "bundle_gzip_bytes": size.gzip_bytes,
        "bundle_brotli_bytes": getattr(size, "brotli_bytes", None),
        "backend": warm["backend"],
        "wasm": variants["single"]["wasm"],
        "simd": "simd" in variants["single"]["wasm"],
        "cross_origin_isolated": m["isolated"],
        "cores": m["cores"],
        "browser": m["agent"],
        "app_visits": app_visits,
        "cold_load_s": round(m["cold_s"], 3),
        "cold_load_in_page_ms": round(cold["ms"], 1),
        "warm_load_s": round(m["warm_s"], 3),
        "warm_load_in_page_ms": round(warm["ms"], 1),
        "warm_load_phases_ms": {k: round(v, 1) for k, v in warm["phases"].items()},
        "cold_load_phases_ms": {k: round(v, 1) for k, v in cold["phases"].items()},
        "predictions": len(texts) * rounds,
        "latency_ms": variants["single"]["latency_ms"],
        "first_prediction_ms": variants["single"]["first_prediction_ms"],
        "variants": variants,
        "targets": TARGETS,
    }
