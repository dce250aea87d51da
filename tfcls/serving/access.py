"""Who may do what, how often: the client of a request, rate limits, the admin token.

- :func:`request_client`: the signed client id a request carries (``client_id`` in a JSON
  body, ``client_token`` in a query), verified once per request.
- :func:`install_limits`: Flask-Limiter on the app, per client and per IP, on feedback and
  predict, plus the minting of new ids per IP; over a limit a request gets 429 with
  ``Retry-After`` (``serving.rate_limits``). Storage ``memory://`` counts per process: with
  several gunicorn workers each worker counts its own share, so give a shared storage
  (``redis://…``) when limits must hold exactly across workers or machines.
- :func:`require_admin`: admin endpoints need ``Authorization: Bearer <token>`` with
  ``$TFCLS_ADMIN_TOKEN`` (or ``serving.admin_token``); with neither they are off (404).
"""

from __future__ import annotations

import hmac
import math
import os
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, abort, g, jsonify, make_response, request
from flask_limiter import Limiter, RateLimitExceeded
from werkzeug.middleware.proxy_fix import ProxyFix

from tfcls.config import Config
from tfcls.config_errors import ConfigError
from tfcls.serving.identity import Client, ClientIds
from tfcls.serving.state import state

ADMIN_TOKEN_ENV = "TFCLS_ADMIN_TOKEN"
# (endpoint, limits from serving.rate_limits: attribute → key) for every limited route
LIMITED = {
    "api.feedback": {"feedback_per_client": "client", "feedback_per_ip": "ip"},
    "api.predict": {"predict_per_client": "client", "predict_per_ip": "ip"},
    "api.model_info": {"new_client_ids_per_ip": "ip"},
}


def request_token() -> Any:
    """The client token the request carries (not yet verified), or None."""
    if request.method == "GET":
        return request.args.get("client_token")
    body = request.get_json(silent=True) if request.is_json else None
    return body.get("client_id") if isinstance(body, dict) else None


def request_client() -> Client | None:
    """The request's verified client (None: no valid token), computed once per request."""
    if "tfcls_client" not in g:
        token = request_token()
        client_id = state().client_ids.verify(token)
        g.tfcls_client = Client(client_id, token) if client_id else None
    return g.tfcls_client


def _ip_key() -> str:
    return f"ip:{request.remote_addr or 'unknown'}"


def _client_key() -> str:
    """The verified client id; requests without one share their IP's bucket."""
    client = request_client()
    return f"client:{client.id}" if client else _ip_key()


def install_limits(app: Flask, config: Config) -> Limiter:
    """Rate limits on :data:`LIMITED` routes (call after the blueprints are registered)."""
    rl = config.serving.rate_limits
    if rl.trusted_proxies:  # the client's IP from X-Forwarded-For, set by these proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=rl.trusted_proxies)  # type: ignore[method-assign]
    _check_storage(rl.storage_uri)
    limiter = Limiter(
        key_func=_ip_key,
        app=app,
        storage_uri=rl.storage_uri,
        strategy="sliding-window-counter",  # O(1) per hit, no timestamp per request kept
        headers_enabled=False,  # X-RateLimit-* on every answer costs a lookup per limit;
        # Retry-After is set on the 429s only (_too_many)
        swallow_errors=True,  # a storage outage lets requests through (logged), never a 500
        in_memory_fallback_enabled=True,
        enabled=rl.enabled,
    )
    keys: dict[str, Callable[[], str]] = {"client": _client_key, "ip": _ip_key}
    for endpoint, limits in LIMITED.items():
        view = app.view_functions[endpoint]
        for attribute, key in limits.items():
            exempt = _has_valid_client if attribute == "new_client_ids_per_ip" else None
            view = limiter.limit(
                getattr(rl, attribute),
                key_func=keys[key],
                exempt_when=exempt,
                error_message=f"rate limit serving.rate_limits.{attribute} reached",
            )(view)
        app.view_functions[endpoint] = view
    app.register_error_handler(RateLimitExceeded, lambda err: _too_many(limiter, err))
    return limiter


def _check_storage(uri: str) -> None:
    """A ConfigError naming ``serving.rate_limits.storage_uri`` when ``uri`` is no storage
    the ``limits`` package knows, or its client library is not installed (Flask-Limiter
    would raise deep inside app creation). A server that is down is not an error here:
    requests go through, counted in memory, until it is back (logged)."""
    from limits.errors import ConfigurationError
    from limits.storage import SCHEMES, storage_from_string

    scheme = uri.split("://", 1)[0] if "://" in uri else ""
    if scheme not in SCHEMES:
        raise ConfigError(
            f"serving.rate_limits.storage_uri: {uri!r} is not a storage the limits package "
            "knows; use memory:// (one process) or redis://HOST:PORT (shared by workers "
            f"and machines); known schemes: {', '.join(sorted(SCHEMES))}"
        )
    try:
        storage_from_string(uri)  # checks the client library; connects lazily
    except ConfigurationError as err:
        extra = " (pip install 'tfcls[redis]')" if scheme.startswith("redis") else ""
        raise ConfigError(f"serving.rate_limits.storage_uri {uri!r}: {err}{extra}") from None


def _too_many(limiter: Limiter, err: RateLimitExceeded) -> Any:
    """429 as JSON naming the limit, with ``Retry-After``: seconds until it has room."""
    resp = jsonify(error="Too Many Requests", detail=err.description)
    breached = limiter.current_limit
    wait = breached.reset_at - time.time() if breached is not None else 1
    resp.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return resp, 429


def _has_valid_client() -> bool:
    """GET /api/model with a valid token mints nothing: not counted as a new id."""
    return request_client() is not None


def admin_token(config: Config) -> str | None:
    """The admin token: ``$TFCLS_ADMIN_TOKEN``, else ``serving.admin_token``; None: off."""
    return os.environ.get(ADMIN_TOKEN_ENV) or config.serving.admin_token or None


def _sent_admin_token() -> str:
    """The token in ``Authorization``: ``Bearer <token>``, or HTTP Basic with the token as
    the password (what a browser sends after its login prompt); "" if neither."""
    auth = request.authorization
    if auth is None:
        return ""
    if auth.type == "bearer":
        return auth.token or ""
    return (auth.password or "") if auth.type == "basic" else ""


def require_admin(challenge: str = "Bearer") -> None:
    """Abort unless the request carries the admin token (404 when admin is off).

    ``challenge``: the 401's ``WWW-Authenticate`` scheme; ``Basic`` for pages, so that a
    browser asks for the token (any user name, the token as password)."""
    token = admin_token(state().config)
    if token is None:
        abort(404, f"admin endpoints are off; set ${ADMIN_TOKEN_ENV} to turn them on")
    if not hmac.compare_digest(_sent_admin_token().encode(), token.encode()):
        what = f"send Authorization: Bearer <admin token> (the server's ${ADMIN_TOKEN_ENV})"
        body = jsonify(error="Unauthorized", detail=what, errors={"Authorization": what})
        realm = {"WWW-Authenticate": f'{challenge} realm="tfcls admin"'}
        abort(make_response(body, 401, realm))


def issue_or_keep(client_ids: ClientIds) -> Client:
    """The request's verified client, or a newly issued one."""
    return request_client() or client_ids.issue()
