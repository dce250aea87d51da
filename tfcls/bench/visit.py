"""Fresh and repeat visits of the real app page (``/``) for ``bench browser``.

The app is served behind a recorder (:class:`LinkRecorder`, WSGI middleware) that logs every
request reaching the server, with the bytes of its body as sent (precompressed where the
browser accepted it: what crosses the wire), and that can emulate a network link: one
shared downlink of ``bytes_per_s`` and ``latency_s`` before each response. It sits on the
server side because that is the one place that sees the service worker's fetches too
(CDP's ``Network.emulateNetworkConditions`` throttles the page's requests, not the
worker's).

A fresh visit (new profile) opens ``/`` and types a title at once, while TF.js and the
bundle download: it records the status line ("Loading model… N%") as it changes, the time
from navigation to the first suggestion shown, what was transferred (bundle, TF.js, app
shell, API) and how often each bundle file was downloaded. A second visit (same profile)
counts the bundle requests that reach the server (the service worker should answer them
all) and times the first prediction after the model loaded.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tfcls.errors import TfclsError

NETWORKS = {"none": (None, 0.0)}  # name → (bytes per second or None, latency in seconds)
DEFAULT_RTT_S = 0.040
TITLE = "Fix login redirect bug"  # typed while the model loads
FIRST_TITLE = "Pick a colour palette for the landing page"  # the first prediction after load
TIMEOUT_MS = 180_000

# Runs in every document before its scripts (Playwright init script; the CSP does not
# apply): a MutationObserver logs every text the status line shows (each replaced text
# node, so no value is missed however briefly it shows, whatever the machine's load) and
# the moment the prediction panel first shows a percentage.
OBSERVER_JS = """(() => {
  const log = { status: [], suggestion_ms: null };
  window.__tfclsVisit = log;
  const record = (text) => {
    const last = log.status[log.status.length - 1];
    if (text !== null && (!last || last[1] !== text)) log.status.push([performance.now(), text]);
  };
  const texts = (records) =>
    records.flatMap((r) =>
      r.type === "characterData" ? [r.target.data] : [...r.addedNodes].map((n) => n.textContent),
    );
  const watch = () => {
    const status = document.getElementById("status-model");
    const shown = document.getElementById("prediction-text");
    const options = { childList: true, characterData: true, subtree: true };
    if (status) {
      record(status.textContent);
      new MutationObserver((records) => texts(records).forEach(record)).observe(status, options);
    }
    if (shown) {
      new MutationObserver(() => {
        if (log.suggestion_ms === null && shown.textContent.includes("%")) {
          log.suggestion_ms = performance.now();
        }
      }).observe(shown, options);
    }
  };
  if (document.readyState !== "loading") watch();
  else document.addEventListener("DOMContentLoaded", watch, { once: true });
})();"""


def parse_network(name: str) -> tuple[float | None, float]:
    """``none`` → no limit; ``<N>mbit`` (e.g. ``20mbit``) → N Mbit/s down, 40 ms latency."""
    if name in NETWORKS:
        return NETWORKS[name]
    m = re.fullmatch(r"(\d+(?:\.\d+)?)mbit", name)
    if not m or float(m.group(1)) <= 0:
        raise TfclsError(f"--network: expected 'none' or e.g. '20mbit', got {name!r}")
    return float(m.group(1)) * 1e6 / 8, DEFAULT_RTT_S


@dataclass
class Request:
    """One request that reached the server."""

    path: str
    status: int
    bytes: int


class LinkRecorder:
    """WSGI middleware: records each request and paces response bodies through one shared
    emulated link (set with :meth:`set_link`; none by default)."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.requests: list[Request] = []
        self._rate: float | None = None
        self._latency = 0.0
        self._lock = threading.Lock()
        self._free_at = 0.0
        self._held: str | None = None  # requests for paths under this wait for release()
        self._gate = threading.Event()
        self._gate.set()

    def hold(self, prefix: str) -> None:
        """Keep every request for a path under ``prefix`` waiting until :meth:`release`
        (tests: the bundle arrives only after the title is typed, on any machine)."""
        self._held = prefix
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def set_link(self, bytes_per_s: float | None, latency_s: float) -> None:
        """Emulate a link of ``bytes_per_s`` (None: unlimited) and ``latency_s`` per request."""
        self._rate, self._latency = bytes_per_s, latency_s

    def reset(self) -> list[Request]:
        """Forget the requests seen so far; returns them."""
        seen, self.requests = self.requests, []
        return seen

    def _wait_for_link(self, n: int) -> None:
        if self._rate is None:
            return
        with self._lock:  # one downlink: chunks of every response queue for it
            start = max(time.monotonic(), self._free_at)
            self._free_at = start + n / self._rate
        time.sleep(max(0.0, self._free_at - time.monotonic()))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable:
        if self._held and environ.get("PATH_INFO", "").startswith(self._held):
            self._gate.wait(TIMEOUT_MS / 1000)
        if self._latency:
            time.sleep(self._latency)  # the request's round trip
        status: list[int] = []

        def recording_start(code: str, headers: list, exc_info: Any = None) -> Any:
            status.append(int(code.split()[0]))
            return start_response(code, headers, exc_info)

        body = self.app(environ, recording_start)
        return self._paced(body, environ.get("PATH_INFO", ""), status)

    def _paced(self, body: Iterable[bytes], path: str, status: list[int]) -> Iterator[bytes]:
        sent = 0
        try:
            for chunk in body:
                for i in range(0, len(chunk), 16384):
                    piece = chunk[i : i + 16384]
                    self._wait_for_link(len(piece))
                    sent += len(piece)
                    yield piece
        finally:
            close = getattr(body, "close", None)
            if close:
                close()
            self.requests.append(Request(path, status[0] if status else 0, sent))


def kind(path: str) -> str:
    """What a request was for: bundle, tfjs (vendored TF.js), api, or shell (the app)."""
    if path.startswith("/models/"):
        return "bundle"
    if path.startswith("/vendor/"):
        return "tfjs"
    if path.startswith("/api/") or path == "/healthz":
        return "api"
    return "shell"


def transfer(requests: list[Request]) -> dict[str, Any]:
    """Bytes and request counts by kind; how often the most-fetched bundle file came."""
    out: dict[str, Any] = {"bytes": {}, "requests": {}}
    for r in requests:
        k = kind(r.path)
        out["bytes"][k] = out["bytes"].get(k, 0) + r.bytes
        out["requests"][k] = out["requests"].get(k, 0) + 1
    out["bytes"]["total"] = sum(r.bytes for r in requests)
    downloads = Counter(r.path for r in requests if kind(r.path) == "bundle" and r.status == 200)
    out["bundle_downloads_per_file_max"] = max(downloads.values(), default=0)
    out["wasm"] = sorted({Path(r.path).name for r in requests if r.path.endswith(".wasm")})
    return out


def loading_percentages(status: list[list[Any]]) -> list[int]:
    """The N of every "Loading model… N%" the status line showed, in order."""
    found = (re.search(r"Loading model… (\d+)%", text) for _, text in status)
    return [int(m.group(1)) for m in found if m]


def fresh_visit(
    ctx: Any, base: str, recorder: LinkRecorder, errors: list[str], hold: bool = False
) -> dict[str, Any]:
    """Open ``/`` in a fresh profile and type :data:`TITLE` at once; see the module doc.
    ``hold``: the bundle's files are held back until the title is typed (tests)."""
    recorder.reset()
    if hold:
        recorder.hold("/models/")
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(base + "/", wait_until="commit")
        page.get_by_test_id("title").press_sequentially(TITLE, delay=20, timeout=TIMEOUT_MS)
        typed_ms = page.evaluate("performance.now()")
    finally:
        recorder.release()
    page.get_by_test_id("prediction").filter(has_text="%").wait_for(timeout=TIMEOUT_MS)
    page.evaluate("window.tfclsApp.ready")
    offline = page.evaluate("window.tfclsApp.offlineReady")
    page.evaluate("window.tfclsApp.warmedUp")
    log = page.evaluate("window.__tfclsVisit")
    loaded_at = next((t for t, text in log["status"] if text.startswith("Model ")), None)
    out = {
        "first_suggestion_s": round(log["suggestion_ms"] / 1000, 3),
        "model_loaded_s": round(loaded_at / 1000, 3) if loaded_at is not None else None,
        "typed_done_s": round(typed_ms / 1000, 3),
        "typed_kept": page.get_by_test_id("title").input_value() == TITLE,
        "loading_percentages": loading_percentages(log["status"]),
        "offline_ready": offline,
    }
    page.close()
    return out | transfer(recorder.reset())


def second_visit(ctx: Any, base: str, recorder: LinkRecorder, errors: list[str]) -> dict[str, Any]:
    """A new tab of the same profile: bundle requests reaching the server (want 0) and the
    first prediction after the model loaded (and the idle warm-up ran)."""
    recorder.reset()
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    start = time.perf_counter()
    page.goto(base + "/")
    page.evaluate("window.tfclsApp.ready")
    ready_s = time.perf_counter() - start
    page.evaluate("window.tfclsApp.warmedUp")
    first_ms = page.evaluate(
        """t => { const s = performance.now();
           return window.tfclsApp.classifier.classify(t).then(() => performance.now() - s); }""",
        FIRST_TITLE,
    )
    page.close()
    seen = transfer(recorder.reset())
    return {
        "ready_s": round(ready_s, 3),
        "first_prediction_ms": round(first_ms, 1),
        "bundle_requests": seen["requests"].get("bundle", 0),
        "requests": seen["requests"],
        "bytes": seen["bytes"],
    }


def visits(
    launch: Callable[[Path], Any],
    base: str,
    recorder: LinkRecorder,
    network: str,
    profile: Path,
    hold: bool = False,
) -> dict[str, Any]:
    """Fresh visit then second visit over ``network`` (a :func:`parse_network` name), in a
    new browser profile at ``profile``; an error in the page fails the benchmark. ``hold``:
    see :func:`fresh_visit`."""
    rate, latency = parse_network(network)
    recorder.set_link(rate, latency)
    errors: list[str] = []
    ctx = launch(profile)
    ctx.add_init_script(script=OBSERVER_JS)
    try:
        fresh = fresh_visit(ctx, base, recorder, errors, hold)
        again = second_visit(ctx, base, recorder, errors)
    finally:
        ctx.close()
        recorder.set_link(None, 0.0)
    if errors:
        raise TfclsError("errors in the app page: " + "; ".join(errors))
    link = {"down_bytes_per_s": rate, "latency_ms": round(latency * 1000)}
    return {"network": network, "link": link, "fresh": fresh, "second": again}
