"""Prometheus metrics: ``GET /metrics`` and the counters the routes feed.

What is measured (every label has a bounded set of values, so no request can add series):

- ``tfcls_http_requests_total{endpoint,method,status}`` and
  ``tfcls_http_request_duration_seconds{endpoint,method,status}`` (a histogram): every
  request but the scrapes themselves. ``endpoint`` is the Flask endpoint name
  (``api.feedback``, ``files.bundle_file`` …), never the raw path: the requests for
  ``/models/<version>/…`` files share one value; a path no route matches is
  ``unmatched``; a method outside the standard ones is ``other``.
- ``tfcls_feedback_verdicts_total{action,version}``: verdicts stored (counted after the
  row is committed; both labels were validated against the known actions and versions).
- ``tfcls_predictions_total{version}``: texts predicted server-side (``POST /api/predict``).
- ``tfcls_store_errors_total``: feedback-store failures answered with a 503.
- ``tfcls_model_info{version}``: the served version, read at scrape time (a promoted model
  shows at once).

Under gunicorn with several workers each worker counts its own requests, so a scrape
answered by one worker must add up all of them: with ``$PROMETHEUS_MULTIPROC_DIR`` set,
prometheus_client keeps every value in per-process files there and a scrape merges them
(multiprocess mode; the folder is emptied at start and dead workers are marked by
:mod:`tfcls.serving.gunicorn_config`). Without it (``python -m tfcls.serve``, one process)
the values live in memory and the scrape also has the usual ``process_*``/``python_*``
metrics of prometheus_client's default registry.

The metrics are process-wide (created once, whatever number of apps a process builds:
in multiprocess mode two objects for one series would overwrite each other's file entry);
each app has its own registry over them plus its own ``tfcls_model_info``.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, g, request
from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import InfoMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from tfcls.bundle.registry import Registry, RegistryError
from tfcls.errors import TfclsError

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
ENDPOINT = "metrics"  # the scrape's own Flask endpoint: not counted as a request
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # the endpoint label of a request no route matched (a 404/405)
# request latencies: 1 ms (a cached file) … 10 s (a cold first prediction)
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Metrics:
    """The process's metric objects (:func:`shared`)."""

    requests: Counter
    latency: Histogram
    verdicts: Counter
    predictions: Counter
    store_errors: Counter

    def collectors(self) -> tuple[Counter | Histogram, ...]:
        """Every metric, for registering them in an app's registry."""
        return (self.requests, self.latency, self.verdicts, self.predictions, self.store_errors)


def multiproc_dir() -> str | None:
    """``$PROMETHEUS_MULTIPROC_DIR``: set, prometheus_client runs in multiprocess mode."""
    return os.environ.get(MULTIPROC_ENV) or None


@functools.cache
def shared() -> Metrics:
    """The metric objects, created on first use (after :func:`install_metrics` checked the
    multiprocess folder: an unlabelled counter opens its file at once)."""
    labels = ("endpoint", "method", "status")
    return Metrics(
        requests=Counter("tfcls_http_requests", "HTTP requests answered", labels, registry=None),
        latency=Histogram(
            "tfcls_http_request_duration_seconds",
            "Time from the start of a request to its response (body sending excluded)",
            labels,
            buckets=BUCKETS,
            registry=None,
        ),
        verdicts=Counter(
            "tfcls_feedback_verdicts",
            "Feedback verdicts stored, per action and model version",
            ("action", "version"),
            registry=None,
        ),
        predictions=Counter(
            "tfcls_predictions",
            "Texts predicted server-side by POST /api/predict, per model version",
            ("version",),
            registry=None,
        ),
        store_errors=Counter(
            "tfcls_store_errors",
            "Feedback-store failures (each answered 503)",
            registry=None,
        ),
    )


class ModelInfo:
    """``tfcls_model_info{version}``: the version the app serves now, read at each scrape
    (not a stored value: right after a promotion, and the same in every worker)."""

    NAME = "tfcls_model"
    HELP = "The model version served (exported/current.json)"

    def __init__(self, bundles: Registry) -> None:
        self.bundles = bundles

    def describe(self) -> list[Metric]:
        """The family without samples: registering it reads no file."""
        return [InfoMetricFamily(self.NAME, self.HELP, labels=("version",))]

    def collect(self) -> Iterator[Metric]:
        """One sample with the current version; none before the first export, or while
        current.json is unreadable (the scrape itself never fails on it)."""
        family = InfoMetricFamily(self.NAME, self.HELP, labels=("version",))
        try:
            version = self.bundles.current()
        except (RegistryError, OSError) as err:
            log.warning("tfcls_model_info: %s", err)
            version = None
        if version is not None:
            family.add_metric([version], {})
        yield family


def _single_process_registry(metrics: Metrics, info: ModelInfo) -> CollectorRegistry:
    """One process's registry: the tfcls metrics, the model info and what the default
    registry of prometheus_client has (process, platform, garbage collector)."""
    registry = CollectorRegistry()
    for collector in (*metrics.collectors(), info):
        registry.register(collector)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def _scrape_registry(app: Flask) -> CollectorRegistry:
    """What a scrape reports: in multiprocess mode a fresh registry merging every
    process's files (prometheus_client's recipe), else the app's own registry."""
    if multiproc_dir() is None:
        return app.extensions["tfcls_metrics"]
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    registry.register(app.extensions["tfcls_metrics_info"])
    return registry


def install_metrics(app: Flask) -> None:
    """Count every request of ``app`` and serve ``GET /metrics`` (call once the serving
    state is in ``app.extensions["tfcls"]``, before the rate limits: the scrape is on no
    limit, and the timer starts before any other hook can answer)."""
    folder = multiproc_dir()
    if folder is not None and not Path(folder).is_dir():
        raise TfclsError(
            f"${MULTIPROC_ENV}={folder} is not a folder: create it (gunicorn -c "
            f"python:tfcls.serving.gunicorn_config does) or unset it for one process"
        )
    metrics = shared()
    info = ModelInfo(app.extensions["tfcls"].bundles)
    app.extensions["tfcls_metrics_info"] = info
    if folder is None:
        app.extensions["tfcls_metrics"] = _single_process_registry(metrics, info)
    app.before_request(_start_timer)
    app.after_request(_record_request)
    app.add_url_rule(f"/{ENDPOINT}", ENDPOINT, lambda: _scrape(app), methods=["GET"])


def _start_timer() -> None:
    g.tfcls_started = time.perf_counter()


def _labels(status: int) -> tuple[str, str, str]:
    """(endpoint, method, status) of the current request, each from a bounded set."""
    rule = request.url_rule
    endpoint = rule.endpoint if rule is not None else UNMATCHED
    method = request.method if request.method in METHODS else "other"
    return endpoint, method, str(status)


def _record_request(resp: Response) -> Response:
    """Count the request and its latency (an after-request hook; 500s included)."""
    if request.endpoint == ENDPOINT:
        return resp
    started = g.pop("tfcls_started", None)
    try:
        labels = _labels(resp.status_code)
        shared().requests.labels(*labels).inc()
        if started is not None:
            shared().latency.labels(*labels).observe(time.perf_counter() - started)
    except Exception:  # a metric never turns an answer into a 500
        log.exception("tfcls metrics: a request was not counted")
    return resp


def _scrape(app: Flask) -> Response:
    """The metrics in the format the scraper asks for (Prometheus text or OpenMetrics)."""
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    resp = Response(encode(_scrape_registry(app)), content_type=content_type)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _count(what: str, counter: Counter, amount: float = 1, *labels: str) -> None:
    """Add to a counter; a failure is logged, never raised: the routes call this after
    their work is done (a verdict committed), which must still be answered as such."""
    try:
        (counter.labels(*labels) if labels else counter).inc(amount)
    except Exception:
        log.exception("tfcls metrics: %s not counted", what)


def count_verdict(action: str, version: str) -> None:
    """One verdict stored (POST /api/feedback, after the commit)."""
    _count("a verdict", shared().verdicts, 1, action, version)


def count_predictions(version: str, n: int) -> None:
    """``n`` texts predicted by ``version`` (POST /api/predict)."""
    _count("predictions", shared().predictions, n, version)


def count_store_error() -> None:
    """One feedback-store failure reached the app's error handler (a 503)."""
    _count("a store error", shared().store_errors)
