"""``python -m tfcls.bench browser``: the exported bundle in headless Chromium.

Serves ``web/``, the npm-installed TF.js files and ``exported/`` on 127.0.0.1 with the
cache headers a deployment uses (versioned bundles and vendor files immutable for a
year), opens ``web/bench/index.html`` in Debian's Chromium through Playwright with a
fresh profile, and measures: cold load (first visit: fetch, compile, first prediction),
warm load (a new tab, same profile: HTTP cache), and the latency of one prediction over
typed inputs (prefixes of task titles as a person types them), p50 and p95.
"""

from __future__ import annotations

import json
import math
import mimetypes
import random
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tfcls.errors import TfclsError

REPO = Path(__file__).resolve().parents[1]
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
IMMUTABLE = "public, max-age=31536000, immutable"


class _Handler(SimpleHTTPRequestHandler):
    """Static files under fixed prefixes, with deployment-like headers."""

    def __init__(self, *args: Any, roots: dict[str, Path], **kwargs: Any) -> None:
        self.roots = roots
        super().__init__(*args, **kwargs)

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0].split("#", 1)[0]
        for prefix, root in self.roots.items():
            if path.startswith(prefix):
                rel = Path(path[len(prefix) :].lstrip("/"))
                if ".." in rel.parts:
                    break
                return str(root / rel)
        return str(REPO / "does-not-exist")

    def guess_type(self, path: str) -> str:
        if str(path).endswith(".wasm"):
            return "application/wasm"
        if str(path).endswith((".js", ".mjs")):
            return "text/javascript"
        return mimetypes.guess_type(str(path))[0] or "application/octet-stream"

    def end_headers(self) -> None:
        versioned = self.path.startswith(("/vendor/", "/models/")) and not self.path.endswith(
            "current.json"
        )
        self.send_header("Cache-Control", IMMUTABLE if versioned else "no-cache")
        # cross-origin isolation lets TF.js use its multi-threaded wasm build
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        super().end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def static_server(exported: Path) -> Iterator[str]:
    """Serve web/, TF.js and ``exported`` on a free 127.0.0.1 port; yield the base URL."""
    modules = REPO / "web" / "node_modules" / "@tensorflow"
    roots = {
        "/web/": REPO / "web",
        "/vendor/tfjs/": modules / "tfjs",
        "/vendor/tfjs-backend-wasm/": modules / "tfjs-backend-wasm",
        "/models/": exported,
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, roots=roots))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def typed_inputs(n: int, seed: int = 0) -> list[str]:
    """``n`` texts as typed: every word-boundary prefix of seeded task titles."""
    data = json.loads((REPO / "data" / "training_data.json").read_text(encoding="utf-8"))
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


def bench_browser(exported: Path, version: str | None, n: int) -> dict[str, Any]:
    """Cold/warm load and per-prediction latency of a bundle in headless Chromium."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        raise TfclsError(f"{CHROMIUM} not found: apt-get install chromium (make test does)")
    if version is None:
        pointer = exported / "current.json"
        if not pointer.is_file():
            raise TfclsError(f"{pointer}: no exported bundle; run `python -m tfcls.export` first")
        version = json.loads(pointer.read_text())["version"]
    meta_path = exported / version / "metadata.json"
    if not meta_path.is_file():
        raise TfclsError(f"{exported / version}: not an exported bundle")
    meta = json.loads(meta_path.read_text())
    texts = typed_inputs(n)
    profile = Path(tempfile.mkdtemp(prefix="tfcls-chromium-"))
    try:
        with static_server(exported) as base, sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(
                str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            errors: list[str] = []
            page_url = f"{base}/web/bench/index.html"
            bundle_url = f"{base}/models/{version}/"

            def visit() -> tuple[dict[str, Any], float]:
                page = ctx.new_page()
                page.on("pageerror", lambda e: errors.append(str(e)))
                start = time.perf_counter()
                page.goto(page_url)
                page.wait_for_function("window.tfclsBench !== undefined")
                loaded = page.evaluate("url => window.tfclsBench.load(url)", bundle_url)
                return {**loaded, "page": page}, time.perf_counter() - start

            cold, cold_s = visit()
            cold["page"].close()
            warm, warm_s = visit()
            page = warm.pop("page")
            times = page.evaluate("t => window.tfclsBench.predict(t)", texts)
            agent = page.evaluate("navigator.userAgent")
            isolated = page.evaluate("self.crossOriginIsolated")
            ctx.close()
            if errors:
                raise TfclsError("errors in the page: " + "; ".join(errors))
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return {
        "benchmark": "browser",
        "version": version,
        "quantization": meta["quantization"],
        "bundle_bytes": meta["size"]["bytes"],
        "bundle_gzip_bytes": meta["size"]["gzip_bytes"],
        "backend": warm["backend"],
        "cross_origin_isolated": isolated,
        "browser": agent,
        "cold_load_s": round(cold_s, 3),
        "cold_load_in_page_ms": round(cold["ms"], 1),
        "warm_load_s": round(warm_s, 3),
        "warm_load_in_page_ms": round(warm["ms"], 1),
        "predictions": len(times),
        "latency_ms": {
            "p50": round(statistics.median(times), 2),
            "p95": round(percentile(times, 95), 2),
            "mean": round(statistics.fmean(times), 2),
            "max": round(max(times), 2),
        },
        "targets": TARGETS,
    }
