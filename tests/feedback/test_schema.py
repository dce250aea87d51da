"""tfcls.feedback.schema: one set of feedback rules for the server, the store and the JS."""

from __future__ import annotations

import pytest
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
    assert problem is None and list(checked) == list(schema.ROW_FIELDS)
    assert checked["chosen_labels"] is None and checked["predicted_labels"] is None


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


# --- multi-label verdicts: label sets -----------------------------------------------------


def _multi(**changes):
    """A multi-label verdict: the person added "ui" to the model's ["bug"]."""
    base = _row(predicted_label="bug", chosen_label=None, action="corrected", labels=["bug", "ui"])
    return {**base, "predicted_labels": ["bug"], **changes}


def _validate(payload, multi=None):
    multi_label = None if multi is None else (lambda v: multi)
    return schema.validate_request(payload, lambda v: v == "v1", 2000, multi_label=multi_label)


def test_a_multi_label_verdict_is_stored_with_its_sets():
    row, errors = _validate(_multi(), multi=True)
    assert errors == {}
    assert row["chosen_labels"] == ["bug", "ui"] and row["predicted_labels"] == ["bug"]
    checked, problem = schema.check_row(row)
    assert problem is None and checked["chosen_labels"] == ["bug", "ui"]
    # without the model's task, the sets themselves make it multi-label
    assert _validate(_multi())[1] == {}


def test_multi_label_accept_and_reject():
    accepted, errors = _validate(_multi(action="accepted", labels=["bug"]), multi=True)
    assert errors == {} and accepted["chosen_labels"] == ["bug"]
    rejected, errors = _validate(_multi(action="rejected", labels=None), multi=True)
    assert errors == {} and rejected["chosen_labels"] is None
    assert rejected["predicted_labels"] == ["bug"]
    _, errors = _validate(_multi(action="accepted", labels=["bug", "ui"]), multi=True)
    assert "send corrected" in errors["labels"]
    _, errors = _validate(_multi(action="rejected"), multi=True)
    assert "must be null for action rejected" in errors["labels"]
    # the model selected nothing and the person named the labels
    row, errors = _validate(_multi(predicted_labels=[]), multi=True)
    assert errors == {} and row["predicted_labels"] == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"labels": None}, "labels", "required for a multi-label verdict with action corrected"),
        ({"labels": []}, "labels", "must hold 1 to 50 labels, got 0"),
        ({"labels": [f"l{i}" for i in range(51)]}, "labels", "must hold 1 to 50 labels"),
        ({"labels": "bug"}, "labels", "must be a list of labels, got str"),
        ({"labels": ["bug", " "]}, "labels", "[1] must not be blank"),
        ({"labels": ["bug", 3]}, "labels", "[1] must be a string, got int"),
        ({"labels": ["a\x00"]}, "labels", "[0] contains a NUL character"),
        ({"labels": ["x" * 2001]}, "labels", "[0] at most 2000 characters, got 2001"),
        ({"labels": ["ui", "bug", "ui"]}, "labels", "must not repeat a label: 'ui'"),
        ({"predicted_labels": None}, "predicted_labels", "required for a multi-label verdict"),
        ({"predicted_labels": ["a", "a"]}, "predicted_labels", "must not repeat"),
        ({"chosen_label": "bug"}, "chosen_label", "must be null in a multi-label verdict"),
        ({"action": "liked"}, "action", "must be one of accepted"),
    ],
)
def test_bad_label_sets_are_named(changes, field, message):
    row, errors = _validate(_multi(**changes), multi=True)
    assert row is None and message in errors[field], errors


def test_every_bad_label_field_is_named_at_once():
    payload = _multi(labels=[], predicted_labels="bug", chosen_label="bug", title="")
    _, errors = _validate(payload, multi=True)
    assert set(errors) == {"labels", "predicted_labels", "chosen_label", "title"}


def test_label_sets_only_for_a_multi_label_model():
    _, errors = _validate(_multi(), multi=False)
    assert errors["labels"] == "only for a multi-label model; v1 is single-label"
    assert "predicted_labels" in errors
    # a single-label verdict on a single-label model: unchanged, the sets stored as None
    row, errors = _validate(_row(), multi=False)
    assert errors == {} and row["chosen_labels"] is None
    # a verdict without sets on a multi-label model is refused
    _, errors = _validate(_row(chosen_label=None), multi=True)
    assert {"labels", "predicted_labels"} <= set(errors)


def test_old_rows_without_sets_and_bad_sets_in_rows():
    checked, problem = schema.check_row(_row())  # no set fields at all: an old caller
    assert problem is None and checked["predicted_labels"] is None
    _, problem = schema.check_row({**_row(), "chosen_labels": []})
    assert problem == "chosen_labels must hold 1 to 50 labels, got 0"
    _, problem = schema.check_row({**_row(), "predicted_labels": ["a", 1]})
    assert problem == "predicted_labels [1] must be a string, got int"
    _, problem = schema.check_row({**_row(), "labels": ["a"]})  # a request name, not a row's
    assert problem.startswith("unknown field(s) labels")


labels = st.lists(st.text(max_size=6), max_size=4) | values


@given(st.sampled_from([*schema.LABEL_FIELDS, "action", "chosen_label"]), labels)
@settings(max_examples=200, deadline=None)
def test_every_multi_label_verdict_the_server_accepts_can_be_stored(field, value):
    accepted, errors = _validate(_multi(**{field: value}), multi=True)
    if accepted is None:
        assert errors
    else:
        _, problem = schema.check_row(accepted)
        assert problem is None, (field, value, problem)
