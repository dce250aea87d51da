"""The web client end to end: real server, headless Chromium driven by Playwright."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import feedback_rows, wait_for_rows

from tfcls.bench.browser import CHROMIUM

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).is_file(), reason=f"{CHROMIUM} missing: `make test` installs it via apt"
)


def open_app(page, base: str) -> dict:
    page.goto(base + "/")
    return page.evaluate("window.tfclsApp.ready.then(() => ({version: window.tfclsApp.version}))")


def predict(page, title: str) -> str:
    page.get_by_test_id("title").fill(title)
    prediction = page.get_by_test_id("prediction")
    prediction.filter(has_text="%").wait_for(timeout=30_000)
    return prediction.inner_text()


def accept(page) -> None:
    """Accept the auto-selected category, or else pick the top suggestion (one verdict)."""
    button = page.get_by_test_id("accept")
    if button.is_enabled():
        button.click()
    else:
        page.get_by_test_id("suggestion").first.click()


def test_type_see_a_category_accept_and_the_row_lands(dev_server, browser_page, tiny_bundle):
    base, db = dev_server.base, dev_server.db
    _, page, errors = browser_page
    app = open_app(page, base)
    labels = json.loads(
        (tiny_bundle / app["version"] / "metadata.json").read_text(encoding="utf-8")
    )["labels"]
    shown = predict(page, "set an alarm for 6am")
    assert any(label in shown for label in labels), shown
    accept(page)
    (row,) = wait_for_rows(db, 1)
    assert row["title"] == "set an alarm for 6am" and row["model_version"] == app["version"]
    assert row["action"] in ("accepted", "corrected") and row["chosen_label"] in labels
    assert row["client_id"]
    assert not errors, errors


def test_a_script_payload_renders_as_text(dev_server, browser_page):
    base, db = dev_server.base, dev_server.db
    _, page, _ = browser_page
    open_app(page, base)
    payload = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'
    predict(page, payload)
    accept(page)
    wait_for_rows(db, 1)
    tasks = page.get_by_test_id("task-list")
    tasks.filter(has_text="<script>").wait_for(timeout=10_000)
    assert page.evaluate("window.pwned") is None
    assert feedback_rows(db)[0]["title"] == payload  # stored as typed


def test_offline_predictions_and_queued_feedback_replay(dev_server, browser_page):
    base, db = dev_server.base, dev_server.db
    ctx, page, _ = browser_page
    open_app(page, base)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    ctx.set_offline(True)
    page.reload()  # the page, TF.js and the model come from the service worker's cache
    page.evaluate("window.tfclsApp.ready.then(() => true)")
    predict(page, "what's the weather tomorrow")
    accept(page)
    page.get_by_test_id("status").filter(has_text="queued").wait_for(timeout=10_000)
    time.sleep(1)
    assert feedback_rows(db) == []  # nothing reached the server while offline
    ctx.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    (row,) = wait_for_rows(db, 1)
    assert row["title"] == "what's the weather tomorrow"


def test_while_the_model_downloads_typing_works_and_progress_shows_then_it_is_cached(
    tiny_bundle, cache_dir, tmp_path, monkeypatch
):
    """A fresh visit over a slow link (1 Mbit/s, applied on the server: the service worker's
    fetches too), the bundle held back until the title is typed: the title is kept and
    predicted, the status line counts
    "Loading model… N%" up, every bundle file crosses the wire once; a second visit sends
    no bundle request to the server."""
    from playwright.sync_api import sync_playwright

    from tfcls.bench.browser import _launch, app_server
    from tfcls.bench.visit import TITLE, visits

    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    with app_server(tiny_bundle) as (base, recorder), sync_playwright() as pw:
        # the bundle is held back until the title is typed: typing during the download,
        # whatever the machine's load
        r = visits(_launch(pw), base, recorder, "1mbit", tmp_path / "profile", hold=True)
    fresh, second = r["fresh"], r["second"]
    assert fresh["typed_kept"] and TITLE
    assert fresh["typed_done_s"] < fresh["model_loaded_s"] <= fresh["first_suggestion_s"]
    shown = fresh["loading_percentages"]
    assert shown and shown == sorted(shown) and shown[-1] <= 100
    assert fresh["bundle_downloads_per_file_max"] == 1 and fresh["offline_ready"]
    assert second["bundle_requests"] == 0
