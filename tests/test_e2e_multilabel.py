"""The web client on a multi-label model, end to end: a real server over a real multi-label
bundle (``tiny_multilabel_bundle``), headless Chromium driven by Playwright. The labels the
model selects show as chips; the user removes one with the keyboard, adds one from the
"+ label" buttons and types a new one; Accept stores the chosen set beside the model's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    DevServer,
    serve_copy,
    wait_for_rows,
)

from tfcls.bench.browser import CHROMIUM

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).is_file(), reason=f"{CHROMIUM} missing: `make test` installs it via apt"
)

TITLE = "crash error on the button layout"  # words of the bundle's "bug" and "ui" topics


@pytest.fixture()
def multilabel_server(tiny_multilabel_bundle, tmp_path, cache_dir) -> Iterator[DevServer]:
    """The development server over a copy of the multi-label bundle (``serve_copy``)."""
    with serve_copy(tiny_multilabel_bundle, tmp_path, cache_dir) as server:
        yield server


@pytest.fixture()
def page(browser_page):
    """A fresh Chromium page; the test fails on any page error or console error."""
    _, page, errors = browser_page
    yield page
    assert not errors, errors


def chips(page) -> list[str]:
    return page.locator("[data-testid=chip]").evaluate_all("els => els.map(e => e.dataset.label)")


def test_chips_remove_add_and_accept_store_the_chosen_set(multilabel_server, page):
    base, db = multilabel_server.base, multilabel_server.db
    page.goto(base + "/")
    version = page.evaluate("window.tfclsApp.ready.then(() => window.tfclsApp.version)")
    meta = json.loads((multilabel_server.exported / version / "metadata.json").read_text())
    assert meta["task"] == "multi_label" and len(meta["thresholds"]) == len(meta["labels"])
    assert page.evaluate("window.tfclsApp.classifier.multiLabel") is True

    page.get_by_test_id("title").fill(TITLE)
    page.locator("[data-testid=prediction][data-state=multi]").wait_for(timeout=30_000)
    predicted = chips(page)  # what the model selected, most probable first
    assert set(predicted) <= set(meta["labels"])
    assert page.get_by_test_id("accept").is_enabled() == bool(predicted)

    if predicted:  # remove the first chip with the keyboard: focus stays on the chips
        remove = page.get_by_role("button", name=f"Remove {predicted[0]}")
        remove.focus()
        page.keyboard.press("Enter")
        assert chips(page) == predicted[1:]
        focused = page.evaluate("(e => e.className + '|' + e.id)(document.activeElement)")
        assert focused in ("chip-remove|", "|new-category-name"), focused

    # "+ label": the removed label first (to put back), then the most probable not chosen
    add = page.get_by_test_id("label-add").first
    added = add.get_attribute("data-label")
    assert added in meta["labels"] and added not in chips(page)
    assert add.get_attribute("aria-label").startswith(f"Add {added}, ")
    add.click()
    assert added in chips(page)

    page.get_by_test_id("new-category-name").fill("urgent")  # a label the model does not know
    page.keyboard.press("Enter")
    new_chip = page.locator("[data-testid=chip][data-label=urgent]")
    assert "chip-new" in new_chip.get_attribute("class")
    chosen = chips(page)
    assert chosen[-1] == "urgent" and len(chosen) == len(set(chosen))
    assert page.get_by_test_id("accept").inner_text() == f"Accept {len(chosen)} labels"

    page.get_by_test_id("accept").click()
    (row,) = wait_for_rows(db, 1)
    assert row["title"] == TITLE and row["model_version"] == version
    assert row["chosen_labels"] == chosen and row["predicted_labels"] == predicted
    assert row["action"] == "new_category" and row["chosen_label"] is None
    page.get_by_test_id("task-list").filter(has_text="urgent").wait_for(timeout=10_000)
    assert chips(page) == [] and page.get_by_test_id("title").input_value() == ""
