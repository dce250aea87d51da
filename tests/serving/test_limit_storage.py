"""Where the rate limits count: a storage the config names, shared by gunicorn workers
through a real Redis server; a storage tfcls cannot use is a config error naming the field."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from conftest import APP, GUNICORN, bundle_copy, child_env, free_port, serve_config, server_process
from redis_server import redis_fixture

from tfcls.config import load_config
from tfcls.config_errors import ConfigError
from tfcls.serving.app import create_app

redis_url = redis_fixture()


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("nosuch://127.0.0.1", r"storage_uri: 'nosuch://127.0.0.1' is not a storage.*redis://"),
        ("127.0.0.1:6379", r"is not a storage the limits package knows"),
    ],
)
def test_an_unusable_storage_is_a_config_error_naming_the_field(
    tiny_bundle, tmp_path, uri, message
):
    overrides, _ = bundle_copy(tiny_bundle, tmp_path)
    with pytest.raises(ConfigError, match=message):
        create_app(load_config(overrides=[*overrides, f"serving.rate_limits.storage_uri={uri}"]))


def post(url: str, body: dict) -> tuple[int, str | None]:
    """(status, Retry-After) of a JSON POST on a new connection."""
    req = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers.get("Retry-After")
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Retry-After")


@pytest.mark.slow
def test_gunicorn_workers_count_one_limit_through_redis(
    tiny_bundle, tmp_path, cache_dir, redis_url
):
    """Two workers, one client allowed 5 verdicts a minute: whichever worker answers, the
    6th and later get 429 with Retry-After (with memory:// each worker would allow 5)."""
    import redis

    port = free_port()
    limits = {"storage_uri": redis_url, "feedback_per_client": "5/minute"}
    config = serve_config(tmp_path, tiny_bundle, tmp_path / "fb.sqlite3", rate_limits=limits)
    env = {**child_env(cache_dir), "TFCLS_CONFIG": str(config)}
    command = [GUNICORN, "-k", "gthread", "-w", "2", "--threads", "4"]
    with server_process([*command, "-b", f"127.0.0.1:{port}", APP], port, env) as (base, _):
        with urllib.request.urlopen(base + "/api/model", timeout=30) as resp:
            model = json.loads(resp.read())
        body = {
            "title": "Fix login redirect bug",
            "description": "",
            "predicted_label": model["labels"][0],
            "confidence": 0.5,
            "chosen_label": model["labels"][0],
            "action": "accepted",
            "model_version": model["version"],
            "client_id": model["client_token"],
        }
        answers = [post(base + "/api/feedback", {**body, "title": f"t{i}"}) for i in range(12)]
    assert [status for status, _ in answers] == [201] * 5 + [429] * 7
    assert all(int(after) >= 1 for _, after in answers[5:])
    assert redis.Redis.from_url(redis_url).dbsize() > 0  # the counts live there
