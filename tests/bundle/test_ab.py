"""A/B testing: sticky assignment by client id, shares, acceptance rates with intervals."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid

import pytest
from conftest import child_env
from hypothesis import given
from hypothesis import strategies as st

from tfcls.bundle.ab import acceptance, assign_version, share_point, wilson
from tfcls.config import ConfigError, load_config


def test_shares_hold_over_10000_clients_and_assignment_is_sticky():
    shares = {"v1": 0.7, "v2": 0.2, "v3": 0.1}
    ids = [str(uuid.UUID(int=i)) for i in range(10_000)]
    got = [assign_version(c, shares, "v1") for c in ids]
    for version, share in shares.items():
        # binomial std at n=10,000 is ≤ 0.005: 4 std of tolerance
        assert abs(got.count(version) / len(ids) - share) < 0.02, version
    assert got == [assign_version(c, dict(reversed(shares.items())), "v1") for c in ids]


@given(st.text(min_size=1))
def test_share_point_is_stable_and_in_range(client_id):
    p = share_point(client_id)
    assert 0 <= p < 1 and p == share_point(client_id)


def test_no_test_or_no_client_gets_current():
    assert assign_version("abc", {}, "cur") == "cur"
    assert assign_version(None, {"a": 0.5, "b": 0.5}, "cur") == "cur"


def test_wilson_interval_hand_values():
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(0, 20)
    assert low == 0.0 and 0.15 < high < 0.17


def test_acceptance_per_version():
    rows = [
        {"model_version": "a", "action": "accepted"},
        {"model_version": "a", "action": "corrected"},
        {"model_version": "b", "action": "accepted"},
        {"model_version": "a", "action": "accepted"},
    ]
    out = acceptance(rows)
    assert out["a"]["verdicts"] == 3 and out["a"]["accepted"] == 2
    assert out["a"]["acceptance_rate"] == pytest.approx(2 / 3)
    assert out["b"]["acceptance_rate"] == 1.0 and out["b"]["ci95"][1] == 1.0


def test_ab_config_is_validated():
    with pytest.raises(ConfigError, match="sum to 1"):
        load_config(overrides=["serving.ab={a: 0.5, b: 0.4}"])
    with pytest.raises(ConfigError, match="≥ 0"):
        load_config(overrides=["serving.ab={a: 1.5, b: -0.5}"])
    assert load_config(overrides=["serving.ab={a: 0.5, b: 0.5}"]).serving.ab == {"a": 0.5, "b": 0.5}


def test_served_versions_follow_the_shares_and_feedback_records_them(
    tiny_bundle, tiny_run, tmp_path, cache_dir, monkeypatch
):
    from tfcls.bundle.export import export
    from tfcls.serving.app import create_app

    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    exported = tmp_path / "exported"
    shutil.copytree(tiny_bundle, exported)
    old = json.loads((exported / "current.json").read_text())["version"]
    new = export(tiny_run, exported, "none").version
    db = tmp_path / "fb.sqlite3"
    config = load_config(
        overrides=[
            f"serving.exported={exported}",
            f"storage.path={db}",
            f"serving.ab={{{old}: 0.5, {new}: 0.5}}",
            "serving.rate_limits.enabled=false",  # 200 new clients from one IP, on purpose
        ]
    )
    app = create_app(config)
    client = app.test_client()
    seen = {}
    for i in range(200):
        info = client.get("/api/model").json  # a new client: a new signed id
        cid, version = info["client_token"], info["version"]
        again = client.get("/api/model", query_string={"client_token": cid}).json
        assert (again["client_token"], again["version"]) == (cid, version)  # sticky
        seen[cid] = version
        action = "accepted" if (version == new or i % 2) else "corrected"
        resp = client.post(
            "/api/feedback",
            json={
                "title": f"task {i}",
                "description": "",
                "predicted_label": "alarm_set",
                "confidence": 0.9,
                "chosen_label": "alarm_set" if action == "accepted" else "play_music",
                "action": action,
                "model_version": version,
                "client_id": cid,
            },
        )
        assert resp.status_code == 201
    assert 70 < list(seen.values()).count(new) < 130
    app.extensions["tfcls"].store.close()
    out = tmp_path / "ab.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tfcls.evaluate",
            "--ab",
            "--json",
            str(out),
            "--set",
            f"storage.path={db}",
        ],
        env=child_env(cache_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report[new]["acceptance_rate"] == 1.0
    assert 0.3 < report[old]["acceptance_rate"] < 0.7
    assert report[old]["verdicts"] + report[new]["verdicts"] == 200
    assert report[old]["ci95"][0] < report[old]["acceptance_rate"] < report[old]["ci95"][1]
    assert new in proc.stdout and "95%" in proc.stdout
