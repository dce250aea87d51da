"""tfcls.feedback.schema: one set of feedback rules for the server, the store and the JS."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tfcls import resources
from tfcls.feedback import schema


def _row(**changes):
    row = {
        "title": "Fix login redirect bug",
        "description": "",
        "predicted_label": "Development",
        "confidence": 0.9,
        "chosen_label": None,
        "action": "accepted",
        "model_version": "v1",
        "client_id": "c1",
    }
    return {**row, **changes}


def test_the_browser_module_is_generated_from_the_schema():
    """web/ imports ACTIONS from this file; regenerate it with
    `python -m tfcls.feedback.schema` when the schema changes."""
    path = resources.CHECKOUT / schema.JS_MODULE
    assert path.read_text(encoding="utf-8") == schema.js_module()


def test_a_valid_verdict_passes_both_checks():
    row, errors = schema.validate_request(_row(), lambda v: v == "v1", 2000)
    assert errors == {} and row is not None
    checked, problem = schema.check_row(row)
    assert problem is None and list(checked) == list(schema.FIELDS)


texts = st.text(max_size=20)
values = st.none() | st.integers() | st.floats() | st.booleans() | texts | st.lists(texts)


@given(st.sampled_from(schema.FIELDS), values)
@settings(max_examples=200, deadline=None)
def test_every_verdict_the_server_accepts_can_be_stored(field, value):
    """The request rules include the store's, so an accepted POST never fails later."""
    accepted, errors = schema.validate_request(_row(**{field: value}), lambda v: True, 2000)
    if accepted is None:
        assert errors
    else:
        _, problem = schema.check_row(accepted)
        assert problem is None, (field, value, problem)


@given(st.sampled_from(["title", "model_version", "client_id", "chosen_label"]), texts, texts)
@settings(max_examples=50, deadline=None)
def test_nul_is_refused_by_both_with_the_same_words(field, before, after):
    value = before + "\x00" + after
    _, errors = schema.validate_request(_row(**{field: value}), lambda v: True, 2000)
    _, problem = schema.check_row(_row(**{field: value}))
    assert "contains a NUL character" in errors[field]
    assert problem == f"{field} contains a NUL character (\\x00)"
