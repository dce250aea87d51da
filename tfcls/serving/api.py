"""The JSON API: ``/api/model``, ``/api/feedback``, ``/api/feedback/stats``,
``/api/predict`` and ``/healthz``. Bodies are checked by :mod:`tfcls.serving.requests`
and :func:`tfcls.feedback.schema.validate_request` before a route acts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, request

from tfcls.bundle.ab import assign_version
from tfcls.bundle.metadata import BundleMetadata
from tfcls.decision.label_rule import decide_labels
from tfcls.decision.rule import decide
from tfcls.feedback.schema import validate_request
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
    version = _served_version(request.args.get("client_id"))
    meta = _metadata(version)
    info = {
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


@api.post("/api/feedback")
def feedback() -> Any:
    s = state()
    row, errors = validate_request(
        json_body(),
        lambda v: s.bundles.metadata(v) is not None,
        s.config.serving.max_field_chars,
        multi_label=lambda v: _is_multi_label(s.bundles.metadata(v)),
    )
    if errors:
        return jsonify(errors=errors), 400
    saved = s.store.add(row)
    return jsonify(id=saved["id"], created_at=saved["created_at"]), 201


@api.get("/api/feedback/stats")
def feedback_stats() -> Any:
    return jsonify(state().store.stats())


@api.post("/api/predict")
def predict() -> Any:
    s = state()
    body = json_body()
    serving = s.config.serving
    texts, errors = predict_texts(body, serving.max_predict_texts, serving.max_field_chars)
    if errors:
        return jsonify(errors=errors), 400
    version = _served_version(body.get("client_id"))
    meta = _metadata(version)
    proba, sim = s.predictors.predict(version, texts)
    if _is_multi_label(meta):  # each label at or above its own threshold
        results = [decide_labels(p, meta.labels, meta.thresholds) for p in proba]
    else:
        results = [
            decide(p, meta.labels, meta.threshold, similarity, meta.unknown)
            for p, similarity in zip(proba, sim, strict=True)
        ]
    return jsonify(version=version, results=results)


@api.get("/healthz")
def healthz() -> Any:
    s = state()
    try:
        rows = s.store.count()
    except Exception as err:  # the store is down: unhealthy, say why
        return jsonify(status="error", store=str(err)), 503
    return jsonify(status="ok", version=s.bundles.current(), feedback_rows=rows)
