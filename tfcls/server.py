"""The Flask app: the web client, the exported bundles, the model/feedback/predict API.

``create_app(config)`` is the factory (``python -m tfcls.serve`` for local use; in
production ``gunicorn -w 4 -b 127.0.0.1:8000 'tfcls.server:create_app()'``, which reads
``$TFCLS_CONFIG`` or configs/default.yaml).

URL layout: ``/`` (page), ``/web/…`` (client modules and CSS), ``/sw.js`` (service worker),
``/vendor/tfjs/…`` and ``/vendor/tfjs-backend-wasm/…`` (the npm-installed TF.js),
``/models/current.json`` and ``/models/<version>/…`` (bundles: immutable, CORS so other
frontends embed them), ``/api/model``, ``/api/feedback``, ``/api/feedback/stats``,
``/api/predict``, ``/healthz``. Every response carries a CSP without ``unsafe-inline``,
``nosniff``, ``frame-ancestors 'none'`` and cross-origin isolation (TF.js's threaded wasm).
The served version is re-read from ``exported/current.json`` when that file changes, so a
promoted model is picked up without a restart.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, jsonify, request, send_file
from werkzeug.exceptions import HTTPException

from tfcls.config import Config, load_config
from tfcls.errors import TfclsError

REPO = Path(__file__).resolve().parents[1]
WEB = REPO / "web"
VENDOR = {
    "tfjs": WEB / "node_modules" / "@tensorflow" / "tfjs" / "dist",
    "tfjs-backend-wasm": WEB / "node_modules" / "@tensorflow" / "tfjs-backend-wasm" / "dist",
}
# Client files the server hands out (tests, tools and node_modules are not served).
WEB_SUFFIXES = {".js", ".css", ".html", ".svg", ".png", ".ico", ".webmanifest"}
WEB_PRIVATE = {"test", "tools", "node_modules"}
CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; "
    "style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'; form-action 'self'"
)
IMMUTABLE = "public, max-age=31536000, immutable"
TYPES = {".wasm": "application/wasm", ".js": "text/javascript", ".bin": "application/octet-stream"}
ACTIONS = ("accepted", "rejected", "corrected", "new_category")


class Bundles:
    """The exported versions and which one is current, re-read when current.json changes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._current: str | None = None
        self._meta: dict[str, dict[str, Any]] = {}

    def current(self) -> str | None:
        path = self.root / "current.json"
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        stamp = (st.st_mtime_ns, st.st_ino)
        with self._lock:
            if stamp != self._stamp:
                self._current = json.loads(path.read_text())["version"]
                self._stamp = stamp
            return self._current

    def metadata(self, version: str) -> dict[str, Any] | None:
        """A version's metadata.json (cached: versions never change), None if unknown."""
        if version in self._meta:
            return self._meta[version]
        path = self.root / version / "metadata.json"
        if "/" in version or version.startswith(".") or not path.is_file():
            return None
        meta = json.loads(path.read_text())
        self._meta[version] = meta
        return meta


class Predictors:
    """Python SavedModels of the bundles, loaded on first use (TensorFlow only then)."""

    def __init__(self, bundles: Bundles) -> None:
        self.bundles = bundles
        self._models: dict[str, Any] = {}
        self._lock = threading.Lock()

    def predict(self, version: str, texts: list[str]) -> tuple[list[list[float]], list[float]]:
        with self._lock:
            model = self._models.get(version)
            if model is None:
                from tfcls import cli

                cli.quiet_tensorflow()
                import tensorflow as tf
                import tensorflow_text  # noqa: F401  (registers the tokenizer ops it uses)

                model = tf.saved_model.load(str(self.bundles.root / version / "saved_model"))
                self._models[version] = model
        import tensorflow as tf

        out = model.signatures["serving_default"](texts=tf.constant(texts))
        return out["probabilities"].numpy().tolist(), out["similarity"].numpy().tolist()


def _etag(path: Path) -> str:
    st = path.stat()
    return hashlib.sha1(f"{path}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:20]


def _file(path: Path, cache: str, cors: bool = False) -> Response:
    if not path.is_file():
        abort(404)
    resp = send_file(
        path, mimetype=TYPES.get(path.suffix), conditional=True, etag=_etag(path), max_age=None
    )
    resp.headers["Cache-Control"] = cache
    if cors:
        resp.headers["Access-Control-Allow-Origin"] = "*"
        resp.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return resp


def _safe_join(root: Path, rel: str) -> Path:
    parts = Path(rel).parts
    if not parts or any(p in ("..", "") or p.startswith(".") for p in parts):
        abort(404)
    return root.joinpath(*parts)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate_feedback(
    payload: Any, known_version: Any, max_chars: int
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """(row, errors): every problem is reported per field; row is None if any."""
    if not isinstance(payload, dict):
        return None, {"_": "the body must be a JSON object"}
    errors: dict[str, str] = {}
    row: dict[str, Any] = {}
    text_fields = {
        "title": (True, False),
        "description": (False, False),
        "predicted_label": (False, True),
        "chosen_label": (False, True),
        "model_version": (True, False),
        "client_id": (True, False),
    }
    for name, (required, nullable) in text_fields.items():
        value = payload.get(name, None if (nullable or not required) else ...)
        if value is ...:
            errors[name] = "required"
        elif value is None and name == "description":
            row[name] = ""
        elif value is None and nullable:
            row[name] = None
        elif not isinstance(value, str):
            errors[name] = f"must be a string, got {type(value).__name__}"
        elif len(value) > max_chars:
            errors[name] = f"at most {max_chars} characters, got {len(value)}"
        elif "\x00" in value:
            errors[name] = "must not contain NUL characters"
        elif not _is_utf8(value):
            errors[name] = "must be valid Unicode text (it has a lone surrogate)"
        elif required and not value.strip():
            errors[name] = "must not be empty"
        else:
            row[name] = value
    confidence = payload.get("confidence")
    if confidence is not None and (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not 0.0 <= confidence <= 1.0
    ):
        errors["confidence"] = "must be a number between 0 and 1, or null"
    else:
        row["confidence"] = None if confidence is None else float(confidence)
    action = payload.get("action")
    if action not in ACTIONS:
        errors["action"] = f"must be one of {', '.join(ACTIONS)}, got {action!r}"
    else:
        row["action"] = action
        if action in ("corrected", "new_category") and not row.get("chosen_label"):
            errors["chosen_label"] = f"required for action {action}"
        if action == "accepted" and not (row.get("chosen_label") or row.get("predicted_label")):
            errors["chosen_label"] = "accepted needs predicted_label or chosen_label"
    if "model_version" in row and not known_version(row["model_version"]):
        errors["model_version"] = f"unknown model version {row['model_version']!r}"
    unknown = sorted(set(payload) - {*text_fields, "confidence", "action"})
    if unknown:
        errors["_"] = f"unknown fields: {', '.join(unknown)}"
    return (None, errors) if errors else (row, {})


def create_app(config: Config | None = None, store: Any = None) -> Flask:
    """The app for ``config`` (default: $TFCLS_CONFIG or configs/default.yaml)."""
    from tfcls.ab import assign_version
    from tfcls.store import FeedbackStore, StoreError

    if config is None:
        config = load_config(os.environ.get("TFCLS_CONFIG"))
    serving = config.serving
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = serving.max_request_bytes
    app.json.sort_keys = False
    bundles = Bundles(Path(serving.exported).resolve())  # send_file needs absolute paths
    predictors = Predictors(bundles)
    store = store if store is not None else FeedbackStore.open(config.storage)
    app.extensions["tfcls"] = {"store": store, "bundles": bundles, "config": config}

    @app.after_request
    def security_headers(resp: Response) -> Response:
        h = resp.headers
        h.setdefault("Content-Security-Policy", CSP)
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "no-referrer"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Cross-Origin-Embedder-Policy"] = "require-corp"
        h.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if request.path.startswith("/api/") or request.path == "/healthz":
            h["Cache-Control"] = "no-store"
        return resp

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Any:
        if request.path.startswith("/api/") or request.path == "/healthz":
            return jsonify(error=err.name, detail=err.description), err.code
        return err

    @app.errorhandler(StoreError)
    def store_error(err: StoreError) -> Any:
        app.logger.error("feedback store: %s", err)
        return jsonify(error="Service Unavailable", detail="the feedback store failed"), 503

    @app.get("/")
    def index() -> Response:
        return _file(WEB / "index.html", "no-cache")

    @app.get("/sw.js")
    def service_worker() -> Response:
        resp = _file(WEB / "sw.js", "no-cache")
        resp.headers["Service-Worker-Allowed"] = "/"
        return resp

    @app.get("/web/<path:rel>")
    def web_file(rel: str) -> Response:
        path = _safe_join(WEB, rel)
        if path.suffix not in WEB_SUFFIXES or Path(rel).parts[0] in WEB_PRIVATE:
            abort(404)
        return _file(path, "no-cache")

    @app.get("/vendor/<package>/dist/<path:rel>")
    def vendor_file(package: str, rel: str) -> Response:
        if package not in VENDOR:
            abort(404)
        # pinned in package-lock.json; revalidated daily in case the pin moves
        return _file(_safe_join(VENDOR[package], rel), "public, max-age=86400")

    @app.get("/models/current.json")
    def current_pointer() -> Response:
        return _file(bundles.root / "current.json", "no-cache", cors=True)

    @app.get("/models/<version>/<path:rel>")
    def bundle_file(version: str, rel: str) -> Response:
        if bundles.metadata(version) is None or Path(rel).parts[0] == "saved_model":
            abort(404)
        return _file(_safe_join(bundles.root / version, rel), IMMUTABLE, cors=True)

    def served_version(client_id: str | None) -> str:
        current = bundles.current()
        if current is None:
            abort(503, "no model exported yet: run `python -m tfcls.export`")
        return assign_version(client_id, serving.ab, current)

    @app.get("/api/model")
    def model_info() -> Any:
        version = served_version(request.args.get("client_id"))
        meta = bundles.metadata(version)
        if meta is None:
            abort(503, f"version {version} is not in {bundles.root}")
        return jsonify(
            version=version,
            bundle_url=f"/models/{version}/",
            labels=meta["labels"],
            threshold=meta.get("threshold"),
            unknown_threshold=(meta.get("unknown") or {}).get("threshold"),
            unknown_score=(meta.get("unknown") or {}).get("score"),
        )

    def json_body() -> Any:
        if not request.is_json:
            abort(415, "send JSON with Content-Type: application/json")
        body = request.get_json(silent=True)
        if body is None:
            abort(400, "the body is not valid JSON")
        return body

    @app.post("/api/feedback")
    def feedback() -> Any:
        row, errors = validate_feedback(
            json_body(),
            lambda v: bundles.metadata(v) is not None,
            serving.max_field_chars,
        )
        if errors:
            return jsonify(errors=errors), 400
        saved = store.add(row)
        return jsonify(id=saved["id"], created_at=saved["created_at"]), 201

    @app.get("/api/feedback/stats")
    def feedback_stats() -> Any:
        return jsonify(store.stats())

    @app.post("/api/predict")
    def predict() -> Any:
        from tfcls.calibration import decide
        from tfcls.text import join_title_description

        body = json_body()
        items = body.get("texts") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            problem = "a non-empty list of strings or {title, description} objects"
            return jsonify(errors={"texts": problem}), 400
        if len(items) > serving.max_predict_texts:
            problem = f"at most {serving.max_predict_texts} per request, got {len(items)}"
            return jsonify(errors={"texts": problem}), 400
        texts, errors = [], {}
        for i, item in enumerate(items):
            if isinstance(item, str):
                title, description = item, ""
            elif isinstance(item, dict) and isinstance(item.get("title"), str):
                title, description = item["title"], item.get("description") or ""
            else:
                errors[f"texts[{i}]"] = "a string or an object with a string title"
                continue
            if len(title) > serving.max_field_chars or len(description) > serving.max_field_chars:
                errors[f"texts[{i}]"] = f"at most {serving.max_field_chars} characters per field"
                continue
            texts.append(join_title_description(title, description))
        if errors:
            return jsonify(errors=errors), 400
        version = served_version(body.get("client_id"))
        meta = bundles.metadata(version)
        proba, sim = predictors.predict(version, texts)
        results = [
            decide(p, meta["labels"], meta.get("threshold"), s, meta.get("unknown"))
            for p, s in zip(proba, sim, strict=True)
        ]
        return jsonify(version=version, results=results)

    @app.get("/healthz")
    def healthz() -> Any:
        try:
            rows = store.count()
        except Exception as err:  # the store is down: unhealthy, say why
            return jsonify(status="error", store=str(err)), 503
        return jsonify(status="ok", version=bundles.current(), feedback_rows=rows)

    return app


def check_config(config: Config) -> None:
    """Fail early with a clear message when the serving setup cannot work."""
    exported = Path(config.serving.exported)
    if not (exported / "current.json").is_file():
        raise TfclsError(
            f"{exported}/current.json: nothing exported yet; run `python -m tfcls.train` "
            "then `python -m tfcls.export`"
        )
    missing = [str(p) for p in VENDOR.values() if not p.is_dir()]
    if missing:
        raise TfclsError(f"{', '.join(missing)}: TF.js not installed; run `make setup`")
