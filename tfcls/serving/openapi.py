"""The API's OpenAPI 3.0 description, served at ``GET /api/openapi.json``.

Built from the rules the routes enforce (the feedback fields and actions of
:mod:`tfcls.feedback.schema`, the limits of ``serving.*``), so a changed limit changes the
description too. tests/serving/test_openapi.py keeps it in sync with the app's routes and
fuzzes the real app against it (schemathesis): no request may get a 5xx, and every 4xx
body names the field (``errors``) or says what to send (``detail``).
"""

from __future__ import annotations

from typing import Any

from tfcls import __version__
from tfcls.config import Config
from tfcls.feedback.schema import ACTIONS, MAX_LABELS, NULLABLE_TEXT, OPTIONAL_TEXT, REQUIRED_TEXT

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {JSON: {"schema": schema}}}


def _responses(ok: int, ok_schema: str, *errors: int) -> dict[str, Any]:
    """``ok`` with its schema; each error status with Errors (400/401) or Error."""
    out: dict[str, Any] = {str(ok): {"description": "success", **_content(_ref(ok_schema))}}
    for status in errors:
        name = "Errors" if status in (400, 401) else "Error"
        out[str(status)] = {"description": _WHY[status], **_content(_ref(name))}
    return out


_WHY = {
    400: "the body is not what this endpoint takes: errors names every bad field",
    401: "no valid credentials (client_token or admin token)",
    404: "an admin endpoint while no admin token is configured",
    413: "the body is larger than serving.max_request_bytes",
    415: "not JSON (send Content-Type: application/json)",
    429: "a rate limit (serving.rate_limits) was reached; retry after Retry-After seconds",
    503: "no model exported yet, the registry or the feedback store is unavailable",
}


def _feedback_schema(max_chars: int) -> dict[str, Any]:
    """A verdict as ``POST /api/feedback`` takes it (tfcls.feedback.schema's rules)."""
    text = {"type": "string", "maxLength": max_chars}
    props: dict[str, Any] = {}
    for name in REQUIRED_TEXT:
        props[name] = {**text, "minLength": 1}
    for name in (*OPTIONAL_TEXT, *NULLABLE_TEXT):
        props[name] = {**text, "nullable": True}
    props["client_id"]["description"] = "the client_token GET /api/model issued"
    props["confidence"] = {"type": "number", "minimum": 0, "maximum": 1, "nullable": True}
    props["action"] = {"type": "string", "enum": list(ACTIONS)}
    labels = {"type": "array", "items": {**text, "minLength": 1}, "maxItems": MAX_LABELS}
    props["labels"] = {**labels, "nullable": True, "description": "multi-label models only"}
    props["predicted_labels"] = {**labels, "nullable": True}
    return {
        "type": "object",
        "required": ["title", "action", "model_version", "client_id"],
        "properties": props,
        "additionalProperties": False,
    }


def _predict_schemas(max_chars: int, max_texts: int) -> dict[str, Any]:
    """``POST /api/predict``'s request and answer."""
    text = {"type": "string", "maxLength": max_chars}
    item = {
        "oneOf": [
            text,
            {
                "type": "object",
                "required": ["title"],
                "properties": {"title": text, "description": {**text, "nullable": True}},
            },
        ]
    }
    return {
        "PredictRequest": {
            "type": "object",
            "required": ["texts"],
            "properties": {
                "texts": {"type": "array", "items": item, "minItems": 1, "maxItems": max_texts},
                "client_id": {"type": "string", "description": "a client_token (A/B version)"},
            },
        },
        "Predictions": {
            "type": "object",
            "required": ["version", "results"],
            "properties": {
                "version": {"type": "string"},
                "results": {"type": "array", "items": {"type": "object"}},
            },
        },
    }


MODEL_INFO = {
    "type": "object",
    "required": ["client_id", "client_token", "version", "bundle_url", "labels"],
    "properties": {
        "client_id": {"type": "string"},
        "client_token": {"type": "string"},
        "version": {"type": "string"},
        "bundle_url": {"type": "string"},
        "labels": {"type": "array", "items": {"type": "string"}},
        "threshold": {"type": "number", "nullable": True},
        "task": {"type": "string", "enum": ["multi_label"]},
        "thresholds": {"type": "array", "items": {"type": "number"}},
    },
}


def _schemas(config: Config) -> dict[str, Any]:
    serving = config.serving
    string_map = {"type": "object", "additionalProperties": {"type": "string"}}
    return {
        "Feedback": _feedback_schema(serving.max_field_chars),
        "Stored": {
            "type": "object",
            "required": ["id", "created_at"],
            "properties": {"id": {"type": "integer"}, "created_at": {"type": "string"}},
        },
        **_predict_schemas(serving.max_field_chars, serving.max_predict_texts),
        "ModelInfo": MODEL_INFO,
        "Stats": {"type": "object", "required": ["total", "by_action", "by_model_version"]},
        "Health": {"type": "object", "required": ["status"]},
        "Monitor": {"type": "object", "required": ["window", "acceptance", "history"]},
        "Errors": {
            "type": "object",
            "required": ["errors"],
            "properties": {"errors": {**string_map, "minProperties": 1}},
        },
        "Error": {
            "type": "object",
            "required": ["error", "detail"],
            "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
        },
        "OpenAPI": {"type": "object", "required": ["openapi", "paths"]},
    }


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, **_content(_ref(schema))}


def _paths() -> dict[str, Any]:
    token = {
        "name": "client_token",
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": "the token an earlier answer issued (kept if valid, else a new one)",
    }
    return {
        "/api/model": {
            "get": {
                "summary": "the model this client is served, and its signed client id",
                "parameters": [token],
                "responses": _responses(200, "ModelInfo", 429, 503),
            }
        },
        "/api/feedback": {
            "post": {
                "summary": "store a verdict (a 201 means it is on disk)",
                "requestBody": _body("Feedback"),
                "responses": _responses(201, "Stored", 400, 401, 413, 415, 429, 503),
            }
        },
        "/api/feedback/stats": {
            "get": {
                "summary": "verdict counts per version and action (admin)",
                "security": [{"admin": []}],
                "responses": _responses(200, "Stats", 401, 404, 503),
            }
        },
        "/api/monitor": {
            "get": {
                "summary": "acceptance, corrections and the monitor's drift history (admin)",
                "security": [{"admin": []}],
                "responses": _responses(200, "Monitor", 401, 404, 503),
            }
        },
        "/api/predict": {
            "post": {
                "summary": "server-side predictions for clients that cannot run TF.js",
                "requestBody": _body("PredictRequest"),
                "responses": _responses(200, "Predictions", 400, 413, 415, 429, 503),
            }
        },
        "/api/openapi.json": {
            "get": {"summary": "this description", "responses": _responses(200, "OpenAPI")}
        },
        "/healthz": {
            "get": {
                "summary": "the store answers and which version is current",
                "responses": _responses(200, "Health", 503),
            }
        },
    }


def openapi(config: Config) -> dict[str, Any]:
    """The OpenAPI 3.0.3 document of the API as ``config`` serves it."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "tfcls serving API",
            "version": __version__,
            "description": (
                "On-device text classification: the model to load, verdicts that teach the "
                "next model, server-side predictions. Errors are JSON: {errors: {field: "
                "problem}} for bad fields, {error, detail} otherwise."
            ),
        },
        "paths": _paths(),
        "components": {
            "schemas": _schemas(config),
            "securitySchemes": {"admin": {"type": "http", "scheme": "bearer"}},
        },
    }
