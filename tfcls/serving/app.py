"""The Flask app: the web client, the exported bundles, the model/feedback/predict API.

``create_app(config)`` is the factory (``python -m tfcls.serve`` for local use; in
production ``gunicorn -k gthread -w 2 --threads 16 -b 127.0.0.1:8000
'tfcls.serving.app:create_app()'``, which reads ``$TFCLS_CONFIG`` or configs/default.yaml).
Routes live in two blueprints: :mod:`tfcls.serving.files` (page, client modules, TF.js, bundles) and
:mod:`tfcls.serving.api`. Every response carries a CSP without ``unsafe-inline``,
``nosniff``, ``frame-ancestors 'none'`` and cross-origin isolation (TF.js's threaded wasm).
Vendored TF.js is sent precompressed from copies written at start
(:mod:`tfcls.serving.vendor`). The served version is re-read from ``exported/current.json``
when that file changes, so a promoted model is picked up without a restart.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from tfcls.bundle.registry import Registry, RegistryError
from tfcls.config import Config, load_config
from tfcls.errors import TfclsError
from tfcls.serving.access import install_limits
from tfcls.serving.files import VENDOR
from tfcls.serving.identity import ClientIds, load_secret
from tfcls.serving.metrics import count_store_error, install_metrics
from tfcls.serving.state import ServingState, state
from tfcls.serving.vendor import VendorCopies

CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; "
    "style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'; form-action 'self'"
)
# `bench browser` only (create_app(bench=True), the /web/bench/ page): blob: scripts too, so
# TF.js's stock threaded wasm (workers that importScripts() a blob:) can be measured against
# the build the app uses. Never sent by a production app.
BENCH_CSP = CSP.replace("script-src 'self'", "script-src 'self' blob:")


def create_app(config: Config | None = None, store: Any = None, bench: bool = False) -> Flask:
    """The app for ``config`` (default: $TFCLS_CONFIG or configs/default.yaml); ``bench``
    also serves ``/web/bench/`` (the browser benchmark page), never in production."""
    from tfcls.feedback.store import FeedbackStore
    from tfcls.serving.admin import admin
    from tfcls.serving.api import api
    from tfcls.serving.files import files

    if config is None:
        config = load_config(os.environ.get("TFCLS_CONFIG"))
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = config.serving.max_request_bytes
    app.json.sort_keys = False
    app.extensions["tfcls"] = ServingState(
        config=config,
        store=store if store is not None else FeedbackStore.open(config.storage),
        bundles=Registry(Path(config.serving.exported).resolve()),  # send_file: absolute
        client_ids=ClientIds(load_secret(config)),
        bench=bench,
    )
    copies = VendorCopies.default(VENDOR)
    copies.prepare()  # once per new TF.js pin: later starts find the copies
    app.extensions["tfcls_vendor"] = copies
    app.after_request(_security_headers)
    _register_error_handlers(app)
    install_metrics(app)  # GET /metrics; before the limits (the scrape is on none)
    app.register_blueprint(files)
    app.register_blueprint(api)
    app.register_blueprint(admin)
    # held here: Flask-Limiter's own references to its limiter are weak
    app.extensions["tfcls_limiter"] = install_limits(app, config)
    return app


def _is_api() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _security_headers(resp: Response) -> Response:
    h = resp.headers
    bench_page = state().bench and request.path.startswith("/web/bench/")
    h.setdefault("Content-Security-Policy", BENCH_CSP if bench_page else CSP)
    h["X-Content-Type-Options"] = "nosniff"
    h["Referrer-Policy"] = "no-referrer"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Cross-Origin-Embedder-Policy"] = "require-corp"
    h.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    if _is_api():
        h["Cache-Control"] = "no-store"
    return resp


def _register_error_handlers(app: Flask) -> None:
    """API errors as JSON; a broken store or registry is a 503 naming which, never a 500."""
    from tfcls.feedback.store import StoreError

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Any:
        if not _is_api():
            return err
        resp = jsonify(error=err.name, detail=err.description)
        for name, value in err.get_headers():  # WWW-Authenticate, Allow, Retry-After …
            if name.lower() != "content-type":
                resp.headers[name] = value
        return resp, err.code

    @app.errorhandler(RegistryError)
    def registry_error(err: RegistryError) -> Any:
        app.logger.error("bundle registry: %s", err)
        return jsonify(error="Service Unavailable", detail="the model registry is unreadable"), 503

    @app.errorhandler(StoreError)
    def store_error(err: StoreError) -> Any:
        app.logger.error("feedback store: %s", err)
        count_store_error()
        return jsonify(error="Service Unavailable", detail="the feedback store failed"), 503


def check_config(config: Config) -> None:
    """Fail early with a clear message when the serving setup cannot work."""
    Registry(config.serving.exported).require_current()
    missing = [str(p) for p in VENDOR.values() if not p.is_dir()]
    if missing:
        raise TfclsError(f"{', '.join(missing)}: TF.js not installed; run `make setup`")
