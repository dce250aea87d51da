"""tfcls.serving.admin: /admin, its SVG plots and GET /api/monitor behind the admin token,
and the page rendering in headless Chromium with the app's CSP (no console errors)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml
from conftest import SERVE, bundle_copy, child_env, feedback_row, free_port, server_process

from tfcls.bench.browser import CHROMIUM
from tfcls.config import load_config
from tfcls.serving.app import create_app

ADMIN = "dashboard-admin-token"
BASIC = {"Authorization": "Basic " + base64.b64encode(f"ops:{ADMIN}".encode()).decode()}


def history_record(at: str, p_value: float, version: str) -> dict:
    scores = {"version": version, "current": True, "mmd_p_value": p_value, "psi": 0.05}
    return {
        "generated_at": at,
        "verdict": "fine",
        "alarms": [],
        "versions": [{**scores, "below_floor_share": 0.1}],
    }


@pytest.fixture()
def admin_setup(tiny_bundle, tmp_path, cache_dir, monkeypatch):
    """(config overrides, version): a copy of the tiny bundle, a store holding verdicts
    (two corrections of one text), and a monitor history of three runs."""
    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    monkeypatch.delenv("TFCLS_ADMIN_TOKEN", raising=False)
    served, version = bundle_copy(tiny_bundle, tmp_path)
    history = tmp_path / "monitor.jsonl"
    history.write_text(
        "".join(
            json.dumps(history_record(f"2026-12-0{d}T03:00:00+00:00", p, version)) + "\n"
            for d, p in ((1, 0.4), (2, 0.2), (3, 0.001))
        )
    )
    overrides = [*served, f"monitor.history={history}"]
    app = create_app(load_config(overrides=overrides))
    store = app.extensions["tfcls"].store
    store.add_many(
        [
            feedback_row(model_version=version, predicted_label="alarm_set"),
            feedback_row(model_version=version, action="rejected", chosen_label=None),
            *[
                feedback_row(
                    title="rain in <b>paris</b>?",
                    model_version=version,
                    action="corrected",
                    predicted_label="alarm_set",
                    chosen_label="weather_query",
                    client_id=f"c{i}",
                )
                for i in range(2)
            ],
        ]
    )
    store.close()
    return overrides, version


def test_admin_is_off_without_a_token_and_asks_for_one_with_it(admin_setup, monkeypatch):
    overrides, _ = admin_setup
    client = create_app(load_config(overrides=overrides)).test_client()
    for path in ("/admin", "/admin/plots/drift.svg", "/api/monitor"):
        assert client.get(path).status_code == 404
    monkeypatch.setenv("TFCLS_ADMIN_TOKEN", ADMIN)
    client = create_app(load_config(overrides=overrides)).test_client()
    page = client.get("/admin")
    assert page.status_code == 401 and page.headers["WWW-Authenticate"].startswith("Basic")
    assert client.get("/api/monitor").headers["WWW-Authenticate"].startswith("Bearer")
    wrong = "Basic " + base64.b64encode(b"ops:not-the-token").decode()
    assert client.get("/admin", headers={"Authorization": wrong}).status_code == 401


def test_the_numbers_plots_and_page(admin_setup, monkeypatch):
    overrides, version = admin_setup
    monkeypatch.setenv("TFCLS_ADMIN_TOKEN", ADMIN)
    client = create_app(load_config(overrides=overrides)).test_client()
    numbers = client.get("/api/monitor", headers={"Authorization": f"Bearer {ADMIN}"}).json
    assert numbers["window"]["verdicts"] == 4
    today = numbers["acceptance"][version][-1]
    assert today["date"] == dt.datetime.now(dt.UTC).date().isoformat()
    assert (today["accepted"], today["verdicts"]) == (1, 4)
    assert numbers["correction_confusion"] == {"alarm_set": {"weather_query": 2}}
    assert numbers["most_corrected"][0]["corrections"] == 2
    assert [h["versions"][0]["mmd_p_value"] for h in numbers["history"]] == [0.4, 0.2, 0.001]
    for name in ("acceptance", "drift", "confusion"):
        resp = client.get(f"/admin/plots/{name}.svg", headers=BASIC)
        assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
        assert ElementTree.fromstring(resp.data).tag.endswith("svg")
    assert client.get("/admin/plots/secrets.svg", headers=BASIC).status_code == 404
    page = client.get("/admin", headers=BASIC)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "rain in &lt;b&gt;paris&lt;/b&gt;?" in html and "<b>paris" not in html  # escaped
    assert "<script" not in html and "style=" not in html


@pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason=f"{CHROMIUM} missing: `make test`")
def test_the_dashboard_renders_in_chromium_under_the_csp(
    admin_setup, browser_page, tmp_path, cache_dir
):
    overrides, _ = admin_setup
    config = {}
    for override in overrides:  # the same settings as a config file for the server process
        key, value = override.split("=", 1)
        section, name = key.split(".")
        config.setdefault(section, {})[name] = value
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    env = {**child_env(cache_dir), "TFCLS_ADMIN_TOKEN": ADMIN}
    with server_process([*SERVE, "--port", str(port), "--config", str(path)], port, env) as (
        base,
        _,
    ):
        ctx, page, errors = browser_page
        assert ctx.request.get(base + "/admin").status == 401  # a page would prompt
        page.set_extra_http_headers(BASIC)
        assert page.goto(base + "/admin").status == 200
        page.wait_for_load_state("networkidle")
        images = page.eval_on_selector_all(
            "figure img",
            "els => els.map(e => [e.id, e.complete, e.naturalWidth,"
            " e.getBoundingClientRect().width])",
        )
        assert [i[0] for i in images] == ["plot-acceptance", "plot-drift", "plot-confusion"]
        assert all(done and natural > 100 and shown > 100 for _, done, natural, shown in images)
        assert page.locator("#most-corrected td").first.inner_text() == "rain in <b>paris</b>?"
        assert errors == []  # no CSP violation, no failed load
