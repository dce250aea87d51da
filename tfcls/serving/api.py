"""The JSON API: ``/api/model``, ``/api/feedback``, ``/api/feedback/stats`` (admin),
``/api/predict``, ``/api/openapi.json`` and ``/healthz``. Bodies are checked by
:mod:`tfcls.serving.requests` and :func:`tfcls.feedback.schema.validate_request` before a
route acts; who may call what, how often, is :mod:`tfcls.serving.access`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify

from tfcls.bundle.ab import assign_version
from tfcls.bundle.metadata import BundleMetadata
from tfcls.decision.label_rule import decide_labels
from tfcls.decision.rule import decide
from tfcls.feedback.schema import validate_request
from tfcls.serving.access import issue_or_keep, request_client, require_admin
from tfcls.serving.identity import ANONYMOUS
from tfcls.serving.metrics import count_predictions, count_verdict
from tfcls.serving.requests import json_body, predict_texts
from tfcls.serving.state import state

api = Blueprint("api", __name__)


def _served_version(client_id: str | None) -> str:
    """The version this client is served (A/B shares over the current one)."""
    current = state().bundles.current()
    if current is None:
        abort(503, "no model exported yet: run `python -m tfcls.export`")
    return assign_version(client_id, state().config.serving.ab, current)


def _metadata(version: str) -> BundleMetadata:
    meta = state().bundles.metadata(version)
    if meta is None:
        abort(503, f"version {version} is not in {state().bundles.root}")
    return meta


def _is_multi_label(meta: BundleMetadata | None) -> bool:
    """A multi-label bundle (metadata.json ``task``; a bundle without one is single-label)."""
    return meta is not None and meta.task == "multi_label"


@api.get("/api/model")
def model_info() -> Any:
    """The served model for this client, and the client's signed id (``client_token``:
    the one sent, if valid, else a new one)."""
    client = issue_or_keep(state().client_ids)
    version = _served_version(client.id)
    meta = _metadata(version)
    info = {
        "client_id": client.id,
        "client_token": client.token,
        "version": version,
        "bundle_url": f"/models/{version}/",
        "labels": list(meta.labels),
        "threshold": meta.threshold,
        "unknown_threshold": meta.unknown and meta.unknown.threshold,
        "unknown_score": meta.unknown and meta.unknown.score,
    }
    if _is_multi_label(meta):  # single-label answers keep exactly their old shape
        info.update(task="multi_label", thresholds=list(meta.thresholds or ()))
    return jsonify(info)


UNSIGNED = (
    "not a client id this server issued; send the client_token of GET /api/model as client_id"
)


@api.post("/api/feedback")
def feedback() -> Any:
    """Store one verdict from a client this server identified (``serving.identity``)."""
    s = state()
    body, client = json_body(), request_client()
    anonymous = client is None and s.config.serving.identity.unsigned == "anonymous"
    if anonymous and isinstance(body, dict):
        body = {**body, "client_id": ANONYMOUS}
    row, errors = validate_request(
        body,
        lambda v: s.bundles.metadata(v) is not None,
        s.config.serving.max_field_chars,
        multi_label=lambda v: _is_multi_label(s.bundles.metadata(v)),
    )
    if errors:
        return jsonify(errors=errors), 400
    if client is None and not anonymous:
        return jsonify(errors={"client_id": UNSIGNED}), 401
    row["client_id"] = client.id if client else ANONYMOUS  # the id, never the token
    saved = s.store.add(row)
    count_verdict(row["action"], row["model_version"])
    return jsonify(id=saved["id"], created_at=saved["created_at"]), 201


@api.get("/api/feedback/stats")
def feedback_stats() -> Any:
    """Every version's verdict counts: an admin endpoint (reveals others' verdicts)."""
    require_admin()
    return jsonify(state().store.stats())


@api.post("/api/predict")
def predict() -> Any:
    s = state()
    body = json_body()
    serving = s.config.serving
    texts, errors = predict_texts(body, serving.max_predict_texts, serving.max_field_chars)
    if errors:
        return jsonify(errors=errors), 400
    client = request_client()
    version = _served_version(client.id if client else None)
    meta = _metadata(version)
    proba, sim = s.predictors.predict(version, texts)
    count_predictions(version, len(texts))
    if _is_multi_label(meta):  # each label at or above its own threshold
        results = [decide_labels(p, meta.labels, meta.thresholds) for p in proba]
    else:
        results = [
            decide(p, meta.labels, meta.threshold, similarity, meta.unknown)
            for p, similarity in zip(proba, sim, strict=True)
        ]
    return jsonify(version=version, results=results)


@api.get("/api/openapi.json")
def openapi_json() -> Any:
    """This API's OpenAPI description (:mod:`tfcls.serving.openapi`)."""
    from tfcls.serving.openapi import openapi

    return jsonify(openapi(state().config))


@api.get("/healthz")
def healthz() -> Any:
    s = state()
    try:
        rows = s.store.count()
    except Exception as err:  # the store is down: unhealthy, say why
        return jsonify(status="error", store=str(err)), 503
    return jsonify(status="ok", version=s.bundles.current(), feedback_rows=rows)
