"""tfcls.serving.identity and tfcls.serving.access against the real app: signed client ids,
rate limits (429 + Retry-After, then recovery) and the admin token."""

from __future__ import annotations

import os
import stat
import time

import pytest
from conftest import bundle_copy

from tfcls.config import load_config
from tfcls.serving.app import create_app
from tfcls.serving.identity import ANONYMOUS, SECRET_ENV, ClientIds, IdentityError, load_secret

ADMIN = "a-long-enough-admin-token"


@pytest.fixture()
def make_app(tiny_bundle, tmp_path, cache_dir, monkeypatch):
    """make_app(*overrides) → (app, test client, version) over a copy of the tiny bundle."""
    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    monkeypatch.delenv(SECRET_ENV, raising=False)
    monkeypatch.delenv("TFCLS_ADMIN_TOKEN", raising=False)
    served, version = bundle_copy(tiny_bundle, tmp_path)
    apps = []

    def make(*overrides: str):
        app = create_app(load_config(overrides=[*served, *overrides]))
        apps.append(app)
        return app, app.test_client(), version

    yield make
    for app in apps:
        app.extensions["tfcls"].store.close()


def verdict(version: str, client_id: str | None, title: str = "Fix login redirect bug") -> dict:
    body = {
        "title": title,
        "description": "",
        "predicted_label": "alarm_set",
        "confidence": 0.6,
        "chosen_label": "weather_query",
        "action": "corrected",
        "model_version": version,
        "client_id": client_id,
    }
    return {k: v for k, v in body.items() if v is not None}


def issued(client) -> str:
    resp = client.get("/api/model")
    assert resp.status_code == 200, resp.json
    return resp.json["client_token"]


def test_a_valid_token_is_kept_and_anything_else_gets_a_new_id(make_app):
    _, client, _ = make_app()
    token = issued(client)
    client_id, _, signature = token.partition(".")
    assert len(client_id) == 32 and signature
    same = client.get(f"/api/model?client_token={token}").json
    assert (same["client_id"], same["client_token"]) == (client_id, token)
    for bad in ("c-1", f"{client_id}.forged", f"{'0' * 32}.{signature}", ""):
        fresh = client.get("/api/model", query_string={"client_token": bad}).json
        assert fresh["client_token"] != token and fresh["client_id"] != client_id


def test_forged_or_missing_ids_are_refused_and_nothing_is_stored(make_app):
    app, client, version = make_app()
    token = issued(client)
    client_id = token.split(".")[0]
    other_key = ClientIds(b"another server's key, not ours").issue().token
    forged = [
        "c-1",
        f"{client_id}.forged",
        f"{'f' * 32}.{token.split('.')[1]}",
        other_key,
        f"{ANONYMOUS}.x",
    ]
    for fake in forged:
        resp = client.post("/api/feedback", json=verdict(version, fake))
        assert resp.status_code == 401, (fake, resp.json)
        assert "GET /api/model" in resp.json["errors"]["client_id"]
    missing = client.post("/api/feedback", json=verdict(version, None))
    assert missing.status_code == 400 and "client_id" in missing.json["errors"]
    assert app.extensions["tfcls"].store.count() == 0
    assert client.post("/api/feedback", json=verdict(version, token)).status_code == 201
    assert [r["client_id"] for r in app.extensions["tfcls"].store.rows()] == [client_id]


def test_unsigned_verdicts_can_be_counted_as_one_anonymous_client(make_app):
    app, client, version = make_app("serving.identity.unsigned=anonymous")
    for fake in ("c-1", "c-2", None):
        assert client.post("/api/feedback", json=verdict(version, fake)).status_code == 201
    token = issued(client)
    assert client.post("/api/feedback", json=verdict(version, token)).status_code == 201
    ids = [r["client_id"] for r in app.extensions["tfcls"].store.rows()]
    assert ids == [ANONYMOUS] * 3 + [token.split(".")[0]]


def test_the_key_is_made_once_kept_private_and_shared_by_every_app(make_app, tmp_path):
    _, first, version = make_app()
    token = issued(first)
    path = tmp_path / "client-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    app, second, _ = make_app()  # a second worker or a restart: the same key
    assert second.post("/api/feedback", json=verdict(version, token)).status_code == 201
    os.environ[SECRET_ENV] = "x" * 40  # $TFCLS_CLIENT_SECRET wins: old ids stop verifying
    try:
        _, third, _ = make_app()
        assert third.post("/api/feedback", json=verdict(version, token)).status_code == 401
    finally:
        del os.environ[SECRET_ENV]
    path.write_text("short\n")
    with pytest.raises(IdentityError, match=r"client-secret.*shorter than 16"):
        load_secret(app.extensions["tfcls"].config)


def test_feedback_rate_limits_answer_429_with_retry_after_then_recover(make_app):
    _, client, version = make_app(
        "serving.rate_limits.feedback_per_client=2/second",
        "serving.rate_limits.feedback_per_ip=5/minute",
    )
    one, two = issued(client), issued(client)
    statuses = [client.post("/api/feedback", json=verdict(version, one)).status_code]
    statuses.append(client.post("/api/feedback", json=verdict(version, one)).status_code)
    limited = client.post("/api/feedback", json=verdict(version, one))
    assert statuses == [201, 201] and limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 2  # seconds until the window has room
    assert "feedback_per_client" in limited.json["detail"]
    # another client is not held back by the first one's limit ...
    assert client.post("/api/feedback", json=verdict(version, two)).status_code == 201
    time.sleep(2.1)  # ... and the first recovers once its (sliding) window has passed
    assert client.post("/api/feedback", json=verdict(version, one)).status_code == 201
    # the IP's limit holds for every client behind it (5 accepted: 4 above, this one)
    assert client.post("/api/feedback", json=verdict(version, two)).status_code == 201
    over = client.post("/api/feedback", json=verdict(version, two))
    assert over.status_code == 429 and "feedback_per_ip" in over.json["detail"]


def test_predictions_and_new_ids_are_limited_per_ip(make_app):
    _, client, _ = make_app(
        "serving.rate_limits.predict_per_ip=2/minute",
        "serving.rate_limits.new_client_ids_per_ip=2/minute",
    )
    token = issued(client)
    issued(client)
    minted = client.get("/api/model")
    assert minted.status_code == 429 and "new_client_ids_per_ip" in minted.json["detail"]
    kept = client.get("/api/model", query_string={"client_token": token})
    assert kept.status_code == 200  # a known client is not minting a new id
    body = {"texts": ["set an alarm"], "client_id": token}
    assert [client.post("/api/predict", json=body).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]


def test_behind_a_trusted_proxy_each_forwarded_ip_has_its_own_limit(make_app):
    _, client, _ = make_app(
        "serving.rate_limits.trusted_proxies=1",
        "serving.rate_limits.new_client_ids_per_ip=1/minute",
    )

    def mint(ip: str) -> int:
        return client.get("/api/model", headers={"X-Forwarded-For": ip}).status_code

    assert [mint("203.0.113.7"), mint("203.0.113.7"), mint("198.51.100.2")] == [200, 429, 200]


def test_limits_can_be_switched_off(make_app):
    _, client, version = make_app(
        "serving.rate_limits.enabled=false", "serving.rate_limits.feedback_per_client=1/minute"
    )
    token = issued(client)
    codes = {client.post("/api/feedback", json=verdict(version, token)).status_code for _ in "abc"}
    assert codes == {201}


def test_admin_endpoints_are_off_without_a_token_and_refuse_a_wrong_one(make_app, monkeypatch):
    _, client, _ = make_app()
    off = client.get("/api/feedback/stats")
    assert off.status_code == 404 and "TFCLS_ADMIN_TOKEN" in off.json["detail"]
    monkeypatch.setenv("TFCLS_ADMIN_TOKEN", ADMIN)
    _, client, _ = make_app()
    none = client.get("/api/feedback/stats")
    assert none.status_code == 401 and none.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/api/feedback/stats", headers={"Authorization": f"Bearer {ADMIN}x"})
    assert wrong.status_code == 401
    basic = client.get("/api/feedback/stats", headers={"Authorization": f"Basic {ADMIN}"})
    assert basic.status_code == 401
    ok = client.get("/api/feedback/stats", headers={"Authorization": f"Bearer {ADMIN}"})
    assert ok.status_code == 200 and ok.json["total"] == 0
