"""Static files: the page, client modules, service worker, vendored TF.js, the bundles.

``/`` (page); ``/web/…`` (client modules and CSS; tests, tools and node_modules at any
depth, and the benchmark page outside ``bench browser``, are never served); ``/sw.js``;
``/vendor/tfjs/…`` and ``/vendor/tfjs-backend-wasm/…`` (the npm-installed TF.js; its
ES2017 builds and .wasm files precompressed once, at app start: :mod:`tfcls.serving.vendor`);
``/models/current.json`` and ``/models/<version>/…`` (bundles: immutable, CORS so other
frontends embed them; brotli or gzip copies written at export are sent to clients that
accept them, with ``Vary: Accept-Encoding``).
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, request, send_file

from tfcls import resources
from tfcls.bundle.compress import ENCODINGS
from tfcls.serving.state import state

WEB = resources.WEB
VENDOR = resources.VENDOR
WEB_SUFFIXES = {".js", ".css", ".html", ".svg", ".png", ".ico", ".webmanifest"}
WEB_PRIVATE = {"test", "tools", "node_modules"}
WEB_BENCH = "bench"  # the browser benchmark page: served only by `bench browser`
IMMUTABLE = "public, max-age=31536000, immutable"
TYPES = {".wasm": "application/wasm", ".js": "text/javascript", ".bin": "application/octet-stream"}

files = Blueprint("files", __name__)


def _etag(path: Path) -> str:
    st = path.stat()
    return hashlib.sha1(f"{path}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:20]


def _guess(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _file(path: Path, cache: str, cors: bool = False, mimetype: str | None = None) -> Response:
    if not path.is_file():
        abort(404)
    resp = send_file(
        path,
        mimetype=mimetype or TYPES.get(path.suffix),
        conditional=True,
        etag=_etag(path),
        max_age=None,
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


@files.get("/")
def index() -> Response:
    return _file(WEB / "index.html", "no-cache")


@files.get("/sw.js")
def service_worker() -> Response:
    resp = _file(WEB / "sw.js", "no-cache")
    resp.headers["Service-Worker-Allowed"] = "/"
    return resp


@files.get("/web/<path:rel>")
def web_file(rel: str) -> Response:
    hidden = WEB_PRIVATE if state().bench else {*WEB_PRIVATE, WEB_BENCH}
    path = _safe_join(WEB, rel)
    if path.suffix not in WEB_SUFFIXES or hidden.intersection(Path(rel).parts):
        abort(404)
    return _file(path, "no-cache")


def _precompressed(
    path: Path, copy: Callable[[str], Path], cache: str, cors: bool = False
) -> Response:
    """``path`` sent as the first copy (``copy(encoding)``: written once, at export or app
    start, never here) in an encoding the client accepts (q > 0, the server's order of
    preference), else as it is; ``Vary: Accept-Encoding``, and the ETag names the file
    sent, so each encoding has its own."""
    sent, encoding = path, None
    for name in ENCODINGS:
        if request.accept_encodings[name] > 0 and copy(name).is_file():
            sent, encoding = copy(name), name
            break
    resp = _file(sent, cache, cors=cors, mimetype=TYPES.get(path.suffix) or _guess(path))
    resp.headers["Vary"] = "Accept-Encoding"
    if encoding:
        resp.headers["Content-Encoding"] = encoding
    return resp


@files.get("/vendor/<package>/dist/<path:rel>")
def vendor_file(package: str, rel: str) -> Response:
    """A vendored TF.js file, from its precompressed copy (written at app start,
    :mod:`tfcls.serving.vendor`) when the client accepts one."""
    if package not in VENDOR:
        abort(404)
    path = _safe_join(VENDOR[package], rel)
    if not path.is_file():
        abort(404)
    copies = current_app.extensions["tfcls_vendor"]
    # pinned in package-lock.json; revalidated daily in case the pin moves
    return _precompressed(
        path, lambda encoding: copies.copy_path(package, path, encoding), "public, max-age=86400"
    )


@files.get("/models/current.json")
def current_pointer() -> Response:
    return _file(state().bundles.pointer, "no-cache", cors=True)


@files.get("/models/<version>/<path:rel>")
def bundle_file(version: str, rel: str) -> Response:
    """A bundle file, from its ``.br``/``.gz`` sibling (written at export) where the
    client accepts one."""
    bundles = state().bundles
    parts = Path(rel).parts
    if bundles.metadata(version) is None or parts[0] == "saved_model":  # pre-2026-12-03
        abort(404)
    if rel.endswith(tuple(ENCODINGS.values())):
        abort(404)  # the copies are reached through Accept-Encoding, not by name
    path = _safe_join(bundles.path(version), rel)
    if not path.is_file():
        abort(404)
    return _precompressed(
        path, lambda encoding: path.with_name(path.name + ENCODINGS[encoding]), IMMUTABLE, True
    )
