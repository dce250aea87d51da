"""Request bodies checked before any route acts on them; every problem named by field."""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, make_response, request

from tfcls.data.text import join_title_description


def json_body() -> Any:
    """The request's JSON body, or 415/400 saying what to send."""
    if not request.is_json:
        abort(415, "send JSON with Content-Type: application/json")
    body = request.get_json(silent=True)
    if body is None:
        problem = "not valid JSON (UTF-8)"
        detail = jsonify(
            error="Bad Request", detail=f"the body is {problem}", errors={"body": problem}
        )
        abort(make_response(detail, 400))
    return body


def predict_texts(body: Any, max_texts: int, max_chars: int) -> tuple[list[str], dict[str, str]]:
    """``{"texts": [str | {title, description}], ...}`` → (model texts, errors by field).

    Texts are joined as in training (``title. description``); errors name ``texts`` or
    ``texts[i]``, and the list is empty when there is any."""
    items = body.get("texts") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        return [], {"texts": "a non-empty list of strings or {title, description} objects"}
    if len(items) > max_texts:
        return [], {"texts": f"at most {max_texts} per request, got {len(items)}"}
    texts, errors = [], {}
    for i, item in enumerate(items):
        if isinstance(item, str):
            title, description = item, ""
        elif (
            isinstance(item, dict)
            and isinstance(item.get("title"), str)
            and isinstance(item.get("description") or "", str)
        ):
            title, description = item["title"], item.get("description") or ""
        else:
            errors[f"texts[{i}]"] = "a string or an object with a string title (and description)"
            continue
        if len(title) > max_chars or len(description) > max_chars:
            errors[f"texts[{i}]"] = f"at most {max_chars} characters per field"
            continue
        texts.append(join_title_description(title, description))
    return ([], errors) if errors else (texts, {})
