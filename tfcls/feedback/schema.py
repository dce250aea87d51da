"""The feedback schema: fields, actions and the rules a verdict must follow.

One place for what the server accepts (:func:`validate_request`, per-field errors for a
400 answer), what the store writes (:func:`check_row`, the same value rules on rows from
any source) and what the browser sends: :func:`js_module` writes
``web/app/feedback-schema.js`` from these constants (``python -m tfcls.feedback.schema``;
a test fails when the committed file is stale).

A verdict on a multi-label model carries label sets (:func:`label_set_problems`): the
request's ``labels`` (what the person chose) and ``predicted_labels`` (what the model
selected) are stored as the row's ``chosen_labels`` and ``predicted_labels``;
single-label rows have None in both.
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
# Multi-label verdicts: request field → row field (both lists of labels; None: single-label).
LABEL_FIELDS = {"labels": "chosen_labels", "predicted_labels": "predicted_labels"}
LABEL_SET_FIELDS = tuple(LABEL_FIELDS.values())  # optional in a row given to the store
ROW_FIELDS = (*FIELDS, *LABEL_SET_FIELDS)  # what check_row returns, in this order
REQUEST_FIELDS = (*FIELDS, *LABEL_FIELDS)
MAX_LABELS = 50  # labels in one set
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


def label_set_problem(value: Any, minimum: int, max_chars: int | None = None) -> str | None:
    """What is wrong with a label set (None: nothing): a list of ``minimum``..MAX_LABELS
    distinct, non-blank strings (each at most ``max_chars`` long when given)."""
    if not isinstance(value, list):
        return f"must be a list of labels, got {type(value).__name__}"
    if not minimum <= len(value) <= MAX_LABELS:
        return f"must hold {minimum} to {MAX_LABELS} labels, got {len(value)}"
    for i, label in enumerate(value):
        problem = text_problem(label)
        if problem is None and not label.strip():
            problem = "must not be blank"
        if problem is None and max_chars is not None and len(label) > max_chars:
            problem = f"at most {max_chars} characters, got {len(label)}"
        if problem:
            return f"[{i}] {problem}"
    if len(set(value)) != len(value):
        twice = sorted({label for label in value if value.count(label) > 1})
        return f"must not repeat a label: {', '.join(map(repr, twice))}"
    return None


def label_set_problems(
    payload: Mapping[str, Any], action: Any, max_chars: int | None = None
) -> dict[str, str]:
    """A multi-label verdict's rules, by request field: ``predicted_labels`` (what the model
    selected) is a list of 0..MAX_LABELS labels; ``labels`` (what the person chose) a list
    of 1..MAX_LABELS, except for ``rejected`` (no labels: null or missing); an accepted set
    is the one the model selected; ``chosen_label`` stays null (the sets replace it)."""
    errors: dict[str, str] = {}
    predicted, chosen = payload.get("predicted_labels"), payload.get("labels")
    if predicted is None:
        errors["predicted_labels"] = "required for a multi-label verdict (may be [])"
    elif problem := label_set_problem(predicted, 0, max_chars):
        errors["predicted_labels"] = problem
    if action == "rejected":
        if chosen is not None:
            errors["labels"] = "must be null for action rejected (no label fits)"
    elif chosen is None:
        errors["labels"] = f"required for a multi-label verdict with action {action}"
    elif problem := label_set_problem(chosen, 1, max_chars):
        errors["labels"] = problem
    elif action == "accepted" and not errors and set(chosen) != set(predicted):
        errors["labels"] = "accepted means the labels the model selected; send corrected"
    if payload.get("chosen_label") is not None:
        errors["chosen_label"] = "must be null in a multi-label verdict (send labels)"
    return errors


def validate_request(
    payload: Any,
    known_version: Callable[[str], bool],
    max_chars: int,
    multi_label: Callable[[str], bool] | None = None,
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """A POSTed verdict → (row, errors); every problem is named by its field, row is None
    if there is any. Missing optional fields get their defaults.

    ``multi_label(version)`` says whether a model version is multi-label: its verdicts
    must carry label sets (:func:`label_set_problems`) and single-label ones must not.
    Without it a verdict is multi-label when it carries ``labels`` or ``predicted_labels``."""
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
    version = row.get("model_version")
    known = version is not None and known_version(version)
    if version is not None and not known:
        errors["model_version"] = f"unknown model version {version!r}"
    _check_label_sets(payload, row, errors, max_chars, multi_label if known else None)
    unknown = sorted(set(payload) - set(REQUEST_FIELDS))
    if unknown:
        errors["_"] = f"unknown fields: {', '.join(unknown)}"
    return (None, errors) if errors else (row, {})


def _check_label_sets(
    payload: Mapping[str, Any],
    row: dict[str, Any],
    errors: dict[str, str],
    max_chars: int,
    multi_label: Callable[[str], bool] | None,
) -> None:
    """The action's rules (single- or multi-label) into ``errors``, the sets into ``row``."""
    carried = any(payload.get(name) is not None for name in LABEL_FIELDS)
    multi = carried if multi_label is None else multi_label(row["model_version"])
    if multi:
        problems = label_set_problems(payload, row["action"], max_chars)
        if row["action"] not in ACTIONS:
            problems["action"] = action_problems(row)["action"]
    elif carried:
        version = row["model_version"]
        problems = {
            name: f"only for a multi-label model; {version} is single-label"
            for name in LABEL_FIELDS
            if payload.get(name) is not None
        }
    else:
        problems = action_problems(row)
    errors.update({k: v for k, v in problems.items() if k not in errors})
    for name, column in LABEL_FIELDS.items():
        value = payload.get(name) if multi else None
        row[column] = list(value) if isinstance(value, list) else None  # a copy


def check_row(row: Any) -> tuple[dict[str, Any] | None, str | None]:
    """A row for the store (from the server, an import, a migration) → (the row's values
    in FIELDS order, None) or (None, the first problem, naming its field)."""
    if not isinstance(row, dict):
        return None, f"a feedback row must be a dict, got {type(row).__name__}"
    missing = [name for name in FIELDS if name not in row]
    if missing:
        return None, f"missing field(s) {', '.join(missing)}"
    unknown = sorted(str(name) for name in row if name not in ROW_FIELDS)
    if unknown:
        return None, f"unknown field(s) {', '.join(unknown)}; known: {', '.join(ROW_FIELDS)}"
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
    sets = {name: row.get(name) for name in LABEL_SET_FIELDS}
    for name, minimum in zip(LABEL_SET_FIELDS, (1, 0), strict=True):
        if sets[name] is not None and (problem := label_set_problem(sets[name], minimum)):
            return None, f"{name} {problem}"
        sets[name] = None if sets[name] is None else list(sets[name])
    confidence = None if row["confidence"] is None else float(row["confidence"])
    return {**{name: row[name] for name in FIELDS}, "confidence": confidence, **sets}, None


def js_module() -> str:
    """The browser's copy of the schema, as an ES module (generated, never edited)."""
    constants = {
        "FIELDS": list(FIELDS),
        "LABEL_FIELDS": list(LABEL_FIELDS),
        "ACTIONS": list(ACTIONS),
        "NEEDS_CHOSEN_LABEL": list(NEEDS_CHOSEN_LABEL),
    }
    lines = [
        "// Generated by `python -m tfcls.feedback.schema` from tfcls/feedback/schema.py;",
        "// do not edit (tests/feedback/test_schema.py fails when it is stale).",
        "",
    ]
    lines += [f"export const {k} = Object.freeze({json.dumps(v)});" for k, v in constants.items()]
    lines.append(f"export const MAX_LABELS = {MAX_LABELS};")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from tfcls.resources import CHECKOUT

    target = CHECKOUT / JS_MODULE
    target.write_text(js_module(), encoding="utf-8")
    print(f"wrote {target}")
