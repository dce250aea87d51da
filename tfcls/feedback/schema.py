"""The feedback schema: fields, actions and the rules a verdict must follow.

One place for what the server accepts (:func:`validate_request`, per-field errors for a
400 answer), what the store writes (:func:`check_row`, the same value rules on rows from
any source) and what the browser sends: :func:`js_module` writes
``web/app/feedback-schema.js`` from these constants (``python -m tfcls.feedback.schema``;
a test fails when the committed file is stale).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

FIELDS = (
    "title",
    "description",
    "predicted_label",
    "confidence",
    "chosen_label",
    "action",
    "model_version",
    "client_id",
)
ACTIONS = ("accepted", "rejected", "corrected", "new_category")
NEEDS_CHOSEN_LABEL = ("corrected", "new_category")  # the person named the label
REQUIRED_TEXT = ("title", "model_version", "client_id")  # present and not blank
OPTIONAL_TEXT = ("description",)  # null or missing: ""
NULLABLE_TEXT = ("predicted_label", "chosen_label")  # null or missing: None
JS_MODULE = Path("web") / "app" / "feedback-schema.js"


def text_problem(value: Any, nullable: bool = False) -> str | None:
    """What is wrong with a text value (None: nothing), worded to follow the field name."""
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        kind = "a string or null" if nullable else "a string"
        return f"must be {kind}, got {type(value).__name__}"
    if "\x00" in value:
        return "contains a NUL character (\\x00)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        return f"is not valid Unicode text (lone surrogate at {err.start})"
    return None


def confidence_problem(value: Any, unit_range: bool) -> str | None:
    """``confidence`` is null or a finite number, in [0, 1] when ``unit_range`` (the
    request rule; the store keeps any finite number). None: it is."""
    what = "a number between 0 and 1, or null" if unit_range else "a number or null"
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be {what}, got {type(value).__name__}"
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        return f"must be finite, got {value}"
    if unit_range and not 0.0 <= number <= 1.0:
        return f"must be {what}, got {value}"
    return None


def action_problems(row: Mapping[str, Any]) -> dict[str, str]:
    """The action is known and has the label it needs."""
    action = row.get("action")
    if action not in ACTIONS:
        return {"action": f"must be one of {', '.join(ACTIONS)}, got {action!r}"}
    if action in NEEDS_CHOSEN_LABEL and not row.get("chosen_label"):
        return {"chosen_label": f"required for action {action}"}
    if action == "accepted" and not (row.get("chosen_label") or row.get("predicted_label")):
        return {"chosen_label": "accepted needs predicted_label or chosen_label"}
    return {}


def validate_request(
    payload: Any, known_version: Callable[[str], bool], max_chars: int
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """A POSTed verdict → (row, errors); every problem is named by its field, row is None
    if there is any. Missing optional fields get their defaults."""
    if not isinstance(payload, dict):
        return None, {"_": "the body must be a JSON object"}
    errors: dict[str, str] = {}
    row: dict[str, Any] = {}
    for name in (*REQUIRED_TEXT, *OPTIONAL_TEXT, *NULLABLE_TEXT):
        if name in REQUIRED_TEXT and name not in payload:
            errors[name] = "required"
            continue
        value = payload.get(name)
        if value is None and name in OPTIONAL_TEXT:
            value = ""
        problem = text_problem(value, nullable=name in NULLABLE_TEXT)
        if problem is None and value is not None:
            if len(value) > max_chars:
                problem = f"at most {max_chars} characters, got {len(value)}"
            elif name in REQUIRED_TEXT and not value.strip():
                problem = "must not be empty"
        if problem:
            errors[name] = problem
        else:
            row[name] = value
    problem = confidence_problem(payload.get("confidence"), unit_range=True)
    if problem:
        errors["confidence"] = problem
    else:
        confidence = payload.get("confidence")
        row["confidence"] = None if confidence is None else float(confidence)
    row["action"] = payload.get("action")
    errors.update({k: v for k, v in action_problems(row).items() if k not in errors})
    if "model_version" in row and not known_version(row["model_version"]):
        errors["model_version"] = f"unknown model version {row['model_version']!r}"
    unknown = sorted(set(payload) - set(FIELDS))
    if unknown:
        errors["_"] = f"unknown fields: {', '.join(unknown)}"
    return (None, errors) if errors else (row, {})


def check_row(row: Any) -> tuple[dict[str, Any] | None, str | None]:
    """A row for the store (from the server, an import, a migration) → (the row's values
    in FIELDS order, None) or (None, the first problem, naming its field)."""
    if not isinstance(row, dict):
        return None, f"a feedback row must be a dict, got {type(row).__name__}"
    missing = [name for name in FIELDS if name not in row]
    if missing:
        return None, f"missing field(s) {', '.join(missing)}"
    unknown = sorted(str(name) for name in row if name not in FIELDS)
    if unknown:
        return None, f"unknown field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}"
    for name in (*REQUIRED_TEXT, *OPTIONAL_TEXT, "action", *NULLABLE_TEXT):
        problem = text_problem(row[name], nullable=name in NULLABLE_TEXT)
        if problem:
            return None, f"{name} {problem}"
    if not row["title"]:
        return None, "title must not be empty"
    if row["action"] not in ACTIONS:
        return None, f"unknown action {row['action']!r}; one of {', '.join(ACTIONS)}"
    problem = confidence_problem(row["confidence"], unit_range=False)
    if problem:
        return None, f"confidence {problem}"
    confidence = None if row["confidence"] is None else float(row["confidence"])
    return {**{name: row[name] for name in FIELDS}, "confidence": confidence}, None


def js_module() -> str:
    """The browser's copy of the schema, as an ES module (generated, never edited)."""
    constants = {
        "FIELDS": list(FIELDS),
        "ACTIONS": list(ACTIONS),
        "NEEDS_CHOSEN_LABEL": list(NEEDS_CHOSEN_LABEL),
    }
    lines = [
        "// Generated by `python -m tfcls.feedback.schema` from tfcls/feedback/schema.py;",
        "// do not edit (tests/feedback/test_schema.py fails when it is stale).",
        "",
    ]
    lines += [f"export const {k} = Object.freeze({json.dumps(v)});" for k, v in constants.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from tfcls.resources import CHECKOUT

    target = CHECKOUT / JS_MODULE
    target.write_text(js_module(), encoding="utf-8")
    print(f"wrote {target}")
