"""/api/openapi.json: in sync with the app's routes, and a schemathesis fuzz of the real app
against it (valid and invalid requests): no 5xx, every 4xx names the field or what to send.

The fuzz's size is ``$TFCLS_FUZZ_EXAMPLES`` examples per operation and generation mode
(default 1300: over 5,000 requests, ~1 min on 2 cores)."""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest
import schemathesis
from conftest import bundle_copy
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tfcls.config import load_config
from tfcls.serving.app import create_app

EXAMPLES = int(os.environ.get("TFCLS_FUZZ_EXAMPLES", "1300"))
MIN_REQUESTS = 5000 if EXAMPLES >= 1300 else 1  # the issue's floor, at the default size
ADMIN = "fuzz-admin-token-0123456789"
SENT: Counter[int] = Counter()  # statuses of every fuzzed request


@pytest.fixture(scope="module")
def fuzzed_app(tiny_bundle, tmp_path_factory, cache_dir):
    """The real app over a copy of the tiny bundle, admin on, rate limits off (they are
    tested on their own; here they would answer most requests with 429)."""
    tmp = tmp_path_factory.mktemp("fuzz")
    os.environ["TFCLS_CACHE"] = str(cache_dir)
    os.environ["TFCLS_ADMIN_TOKEN"] = ADMIN
    overrides, _ = bundle_copy(tiny_bundle, tmp)
    app = create_app(load_config(overrides=[*overrides, "serving.rate_limits.enabled=false"]))
    yield app
    del os.environ["TFCLS_ADMIN_TOKEN"]
    app.extensions["tfcls"].store.close()


@pytest.fixture(scope="module")
def api_schema(fuzzed_app):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", fuzzed_app)
    schema.config.generation.update(modes=["positive", "negative"], max_examples=EXAMPLES)
    return schema


def test_every_route_is_described_and_nothing_else(fuzzed_app):
    spec = fuzzed_app.test_client().get("/api/openapi.json").json
    described = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    routed = {
        (rule.rule, method)
        for rule in fuzzed_app.url_map.iter_rules()
        if rule.rule.startswith("/api/") or rule.rule == "/healthz"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert described == routed
    for ops in spec["paths"].values():  # every answer's schema is defined
        for op in ops.values():
            for answer in op["responses"].values():
                ref = answer["content"]["application/json"]["schema"]["$ref"]
                assert ref.rsplit("/", 1)[1] in spec["components"]["schemas"]


def test_the_description_follows_the_config(fuzzed_app):
    from tfcls.serving.openapi import openapi

    config = fuzzed_app.extensions["tfcls"].config
    spec = openapi(config)
    feedback = spec["components"]["schemas"]["Feedback"]["properties"]
    assert feedback["title"]["maxLength"] == config.serving.max_field_chars
    assert feedback["action"]["enum"] == ["accepted", "rejected", "corrected", "new_category"]
    texts = spec["components"]["schemas"]["PredictRequest"]["properties"]["texts"]
    assert texts["maxItems"] == config.serving.max_predict_texts
    json.dumps(spec)  # plain JSON


@schemathesis.check
def four_xx_names_the_field(ctx, response, case) -> bool | None:
    """A 400/401 lists bad fields by name; any other 4xx says what to send instead."""
    SENT[response.status_code] += 1
    if not 400 <= response.status_code < 500:
        return None
    body = json.loads(response.content or b"null")
    if response.status_code in (400, 401):
        errors = body.get("errors") if isinstance(body, dict) else None
        assert isinstance(errors, dict) and errors, f"{response.status_code} names no field"
        assert all(isinstance(k, str) and k and isinstance(v, str) for k, v in errors.items())
    else:
        assert isinstance(body, dict) and body.get("detail"), f"{response.status_code}: no detail"
    return True


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_fuzz_no_5xx_and_every_4xx_names_the_field(case, fuzzed_app):
    if case.operation.path == "/api/feedback/stats" and case.headers is None:
        case.headers = {"Authorization": f"Bearer {ADMIN}"}
    if isinstance(case.body, dict):  # half the ids and versions real: the store is reached
        real = {
            "client_id": fuzzed_app.extensions["tfcls"].client_ids.issue().token,
            "model_version": fuzzed_app.extensions["tfcls"].bundles.current(),
        }
        for name, value in real.items():
            if isinstance(case.body.get(name), str) and len(case.body[name]) % 2 == 0:
                case.body[name] = value
    case.call_and_validate(checks=[not_a_server_error, four_xx_names_the_field])


def test_the_fuzz_sent_requests_and_none_failed():
    """Runs after the fuzz (file order): how many requests it sent, by status."""
    total = sum(SENT.values())
    print(f"fuzz: {total} requests, statuses {dict(sorted(SENT.items()))}")
    assert total >= MIN_REQUESTS and not any(status >= 500 for status in SENT)
