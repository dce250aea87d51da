"""tfcls.serving.app with Flask's test client: every endpoint, headers and bad input."""

from __future__ import annotations

import gzip
import json
import shutil

import pytest
from conftest import bundle_copy

from tfcls.config import load_config
from tfcls.feedback.store import FeedbackStore
from tfcls.serving.app import CSP, create_app

ADMIN = "admin-token-for-the-tests"


@pytest.fixture()
def served(tiny_bundle, tmp_path, cache_dir, monkeypatch):
    """An app over a copy of the tiny bundle folder and a fresh SQLite store; the admin
    token set, and the verdicts of good() carry a client id the app issued."""
    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    monkeypatch.setenv("TFCLS_ADMIN_TOKEN", ADMIN)
    overrides, version = bundle_copy(tiny_bundle, tmp_path)
    app = create_app(load_config(overrides=overrides))
    exported = tmp_path / "exported"
    client = app.test_client()
    global TOKEN
    TOKEN = app.extensions["tfcls"].client_ids.issue().token  # as GET /api/model does
    yield app, client, version, exported
    app.extensions["tfcls"].store.close()


TOKEN = ""  # the served app's client token (set by the fixture)
AS_ADMIN = {"Authorization": f"Bearer {ADMIN}"}


def good(version: str, **changes):
    row = {
        "title": "Fix login redirect bug",
        "description": "users land on /home",
        "predicted_label": "alarm_set",
        "confidence": 0.61,
        "chosen_label": "alarm_set",
        "action": "accepted",
        "model_version": version,
        "client_id": TOKEN,
    }
    row.update(changes)
    return row


def test_page_and_security_headers(served):
    app, client, _, _ = served
    assert not app.debug
    resp = client.get("/")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    h = resp.headers
    assert h["Content-Security-Policy"] == CSP and "unsafe-inline" not in CSP
    assert "frame-ancestors 'none'" in CSP and "script-src 'self' 'wasm-unsafe-eval'" in CSP
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Cross-Origin-Embedder-Policy"] == "require-corp"
    assert h["Cache-Control"] == "no-cache"


@pytest.mark.parametrize(
    ("path", "status", "mimetype"),
    [
        ("/web/sdk/tfcls.js", 200, "text/javascript"),
        ("/web/sdk/tokenizer.js", 200, "text/javascript"),
        ("/web/app/main.js", 200, "text/javascript"),
        ("/web/app/feedback-schema.js", 200, "text/javascript"),
        ("/sw.js", 200, "text/javascript"),
        ("/vendor/tfjs/dist/tf.min.js", 200, "text/javascript"),
        ("/vendor/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm", 200, "application/wasm"),
        ("/web/test/tfcls.test.js", 404, None),
        ("/web/sdk/test/tfcls.test.js", 404, None),  # private at any depth
        ("/web/sdk/package.json", 404, None),
        ("/web/tools/node.mjs", 404, None),
        ("/web/bench/index.html", 404, None),  # the benchmark page: only for `bench browser`
        ("/web/package.json", 404, None),
        ("/web/../setup.cfg", 404, None),
        ("/web/%2e%2e/setup.cfg", 404, None),
        ("/vendor/tfjs/package.json", 404, None),
        ("/vendor/left-pad/dist/index.js", 404, None),
        ("/nope", 404, None),
    ],
)
def test_static_files(served, path, status, mimetype):
    _, client, _, _ = served
    resp = client.get(path)
    assert resp.status_code == status, path
    if mimetype:
        assert resp.mimetype == mimetype


def test_the_bench_page_is_served_only_by_a_bench_app(served):
    app, client, _, _ = served
    assert client.get("/web/bench/index.html").status_code == 404
    bench_app = create_app(app.extensions["tfcls"].config, bench=True)
    bench = bench_app.test_client()
    resp = bench.get("/web/bench/index.html")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert bench.get("/web/test/tfcls.test.js").status_code == 404
    bench_app.extensions["tfcls"].store.close()


def test_bundles_are_immutable_with_etag_and_cors(served):
    _, client, version, _ = served
    resp = client.get(f"/models/{version}/model.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert resp.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    etag = resp.headers["ETag"]
    again = client.get(f"/models/{version}/model.json", headers={"If-None-Match": etag})
    assert again.status_code == 304
    shard = client.get(f"/models/{version}/group1-shard1of1.bin")
    assert shard.status_code == 200 and shard.mimetype == "application/octet-stream"
    pointer = client.get("/models/current.json")
    assert pointer.headers["Cache-Control"] == "no-cache" and pointer.json["version"] == version
    assert client.get(f"/models/{version}/saved_model/saved_model.pb").status_code == 404
    assert client.get("/models/20990101T000000Z-00000000/model.json").status_code == 404


@pytest.mark.parametrize("name", ["group1-shard1of1.bin", "model.json"])
@pytest.mark.parametrize("accept", ["br", "gzip", "gzip, deflate, br", "identity", "br;q=0, gzip"])
def test_files_are_sent_precompressed_and_decode_to_the_same_bytes(served, accept, name):
    """The best copy the client accepts: brotli where the export wrote one (it does where
    brotli beats gzip by 5%: model.json), else gzip, else the file itself."""
    import brotli

    _, client, version, exported = served
    path = exported / version / name
    raw = path.read_bytes()
    resp = client.get(f"/models/{version}/{name}", headers={"Accept-Encoding": accept})
    assert resp.status_code == 200
    assert resp.headers["Vary"] == "Accept-Encoding"
    encoding = resp.headers.get("Content-Encoding")
    has_br = path.with_name(name + ".br").is_file()
    assert has_br or name != "model.json"  # JSON text: brotli pays
    accepts = {
        "br": ["br"],
        "gzip": ["gzip"],
        "gzip, deflate, br": ["br", "gzip"],
        "identity": [],
        "br;q=0, gzip": ["gzip"],
    }[accept]
    usable = [e for e in accepts if e == "gzip" or has_br]
    assert encoding == (usable[0] if usable else None)
    decode = {"br": brotli.decompress, "gzip": gzip.decompress, None: lambda b: b}[encoding]
    assert decode(resp.data) == raw
    assert int(resp.headers["Content-Length"]) == len(resp.data)
    again = client.get(
        f"/models/{version}/{name}",
        headers={"Accept-Encoding": accept, "If-None-Match": resp.headers["ETag"]},
    )
    assert again.status_code == 304


def test_each_encoding_has_its_own_etag_and_copies_are_not_reachable_by_name(served):
    _, client, version, _ = served
    url = f"/models/{version}/model.json"
    etags = {
        client.get(url, headers={"Accept-Encoding": a}).headers["ETag"] for a in ("br", "gzip", "")
    }
    assert len(etags) == 3
    assert client.get(url + ".br").status_code == 404
    assert client.get(url + ".gz").status_code == 404


VENDOR_FILES = [
    ("tfjs", "tf.es2017.min.js"),
    ("tfjs-backend-wasm", "tf-backend-wasm.es2017.min.js"),
    ("tfjs-backend-wasm", "tfjs-backend-wasm-simd.wasm"),
]


@pytest.mark.parametrize(("package", "name"), VENDOR_FILES)
@pytest.mark.parametrize("accept", ["br", "gzip, deflate", "identity"])
def test_vendor_files_are_sent_precompressed_and_decode_to_the_same_bytes(
    served, package, name, accept
):
    import brotli

    from tfcls.resources import VENDOR

    _, client, _, _ = served
    raw = (VENDOR[package] / name).read_bytes()
    url = f"/vendor/{package}/dist/{name}"
    resp = client.get(url, headers={"Accept-Encoding": accept})
    assert resp.status_code == 200 and resp.headers["Vary"] == "Accept-Encoding"
    encoding = resp.headers.get("Content-Encoding")
    assert encoding == {"br": "br", "gzip, deflate": "gzip", "identity": None}[accept]
    assert resp.mimetype == ("application/wasm" if name.endswith(".wasm") else "text/javascript")
    decode = {"br": brotli.decompress, "gzip": gzip.decompress, None: lambda b: b}[encoding]
    assert decode(resp.data) == raw
    if encoding:
        assert len(resp.data) < len(raw) * 0.5
    again = client.get(
        url, headers={"Accept-Encoding": accept, "If-None-Match": resp.headers["ETag"]}
    )
    assert again.status_code == 304


def test_vendor_copies_are_written_once_and_never_per_request(tmp_path, monkeypatch):
    import brotli

    from tfcls.bundle import compress
    from tfcls.serving.vendor import VendorCopies

    src = tmp_path / "dist"
    src.mkdir()
    (src / "tf.es2017.min.js").write_text("var tf = 1;" * 500)
    (src / "notes.txt").write_text("not sent compressed")
    copies = VendorCopies({"tfjs": src}, tmp_path / "cache")
    assert copies.prepare() == 2 and copies.prepare() == 0  # br + gzip, then nothing
    calls = []
    monkeypatch.setattr(compress, "encode", lambda *a: calls.append(a))
    js = src / "tf.es2017.min.js"
    for encoding in ("br", "gzip"):
        path = copies.copy_path("tfjs", js, encoding)
        assert path.is_file() and path.parent == tmp_path / "cache" / "tfjs"
        decode = brotli.decompress if encoding == "br" else gzip.decompress
        assert decode(path.read_bytes()) == js.read_bytes()
    assert calls == []
    assert not copies.copy_path("tfjs", src / "notes.txt", "gzip").is_file()
    # a changed file (a new pin) is not answered by the old copy
    js.write_text("var tf = 2;" * 500)
    assert not copies.copy_path("tfjs", js, "br").is_file()
    assert copies.prepare() == 2


def test_api_model(served):
    _, client, version, exported = served
    resp = client.get(f"/api/model?client_token={TOKEN}")
    meta = json.loads((exported / version / "metadata.json").read_text())
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    assert resp.json == {
        "client_id": TOKEN.split(".")[0],
        "client_token": TOKEN,  # a valid token is kept
        "version": version,
        "bundle_url": f"/models/{version}/",
        "labels": meta["labels"],
        "threshold": meta["threshold"],
        "unknown_threshold": meta["unknown"]["threshold"],
        "unknown_score": "nearest",
    }


def test_feedback_is_stored_and_counted(served):
    app, client, version, _ = served
    first = client.post("/api/feedback", json=good(version))
    assert first.status_code == 201 and isinstance(first.json["id"], int)
    second = client.post(
        "/api/feedback",
        json=good(version, action="new_category", chosen_label="Ops", description=None),
    )
    assert second.status_code == 201 and second.json["id"] > first.json["id"]
    rows = app.extensions["tfcls"].store.rows()
    assert [r["action"] for r in rows] == ["accepted", "new_category"]
    assert rows[1]["chosen_label"] == "Ops" and rows[1]["description"] == ""
    assert rows[0]["title"] == "Fix login redirect bug" and rows[0]["confidence"] == 0.61
    assert {r["client_id"] for r in rows} == {TOKEN.split(".")[0]}  # the id, not the token
    stats = client.get("/api/feedback/stats", headers=AS_ADMIN).json
    assert stats["total"] == 2 and stats["by_action"]["new_category"] == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": 5}, "title", "must be a string, got int"),
        ({"title": ""}, "title", "must not be empty"),
        ({"title": "x" * 2001}, "title", "at most 2000 characters, got 2001"),
        ({"description": "y" * 2001}, "description", "at most 2000 characters"),
        ({"action": "liked"}, "action", "must be one of accepted, rejected, corrected"),
        ({"confidence": 1.5}, "confidence", "between 0 and 1"),
        ({"confidence": "high"}, "confidence", "between 0 and 1"),
        ({"model_version": "v0"}, "model_version", "unknown model version 'v0'"),
        ({"client_id": None}, "client_id", "required"),
        ({"action": "corrected", "chosen_label": None}, "chosen_label", "required for action"),
        ({"title": "a\x00b"}, "title", "NUL"),
        ({"description": "a\ud800b"}, "description", "lone surrogate"),
        ({"extra": 1}, "_", "unknown fields: extra"),
    ],
)
def test_feedback_bad_fields_are_named(served, changes, field, message):
    app, client, version, _ = served
    body = good(version, **changes)
    if changes.get("client_id", "") is None:
        del body["client_id"]
    resp = client.post("/api/feedback", json=body)
    assert resp.status_code == 400
    assert message in resp.json["errors"][field], resp.json
    assert app.extensions["tfcls"].store.count() == 0


def test_feedback_reports_every_bad_field_at_once(served):
    _, client, _, _ = served
    resp = client.post("/api/feedback", json={"title": 1, "action": "x"})
    assert resp.status_code == 400
    assert {"title", "action", "model_version", "client_id"} <= set(resp.json["errors"])


@pytest.fixture()
def served_multi(served):
    """The served app with its bundle's metadata.json turned multi-label (the contract's
    fields: task, per-label thresholds, no single threshold or unknown rule)."""
    app, client, version, exported = served
    path = exported / version / "metadata.json"
    meta = json.loads(path.read_text())
    n = len(meta["labels"])
    meta.update(task="multi_label", thresholds=[0.5] * n, threshold=None, unknown=None)
    path.write_text(json.dumps(meta))
    return app, client, version, meta["labels"]


def multi(version: str, names: list[str], **changes):
    """A multi-label verdict: the person added names[1] to the model's [names[0]]."""
    row = good(version, predicted_label=names[0], chosen_label=None, action="corrected")
    row.update(labels=names[:2], predicted_labels=names[:1])
    row.update(changes)
    return row


def test_multi_label_model_info_and_feedback_sets_are_stored(served_multi):
    app, client, version, labels = served_multi
    info = client.get("/api/model").json
    assert info["task"] == "multi_label" and info["thresholds"] == [0.5] * len(labels)
    assert info["threshold"] is None and info["unknown_threshold"] is None
    assert client.post("/api/feedback", json=multi(version, labels)).status_code == 201
    accepted = multi(version, labels, action="accepted", labels=labels[:1])
    assert client.post("/api/feedback", json=accepted).status_code == 201
    rejected = multi(version, labels, action="rejected", labels=None, predicted_labels=[])
    assert client.post("/api/feedback", json=rejected).status_code == 201
    rows = app.extensions["tfcls"].store.rows()
    assert [r["chosen_labels"] for r in rows] == [labels[:2], labels[:1], None]
    assert [r["predicted_labels"] for r in rows] == [labels[:1], labels[:1], []]
    assert all(r["chosen_label"] is None for r in rows)
    stats = client.get("/api/feedback/stats", headers=AS_ADMIN).json
    assert stats["total"] == 3 and stats["by_chosen_label"] == {}


def test_multi_label_bad_sets_are_named_at_once(served_multi):
    app, client, version, labels = served_multi
    body = multi(version, labels, labels=[labels[0], labels[0]], predicted_labels="x")
    resp = client.post("/api/feedback", json={**body, "title": ""})
    assert resp.status_code == 400
    errors = resp.json["errors"]
    assert set(errors) == {"labels", "predicted_labels", "title"}
    assert "must not repeat a label" in errors["labels"]
    # a single-label verdict on a multi-label model names the missing sets
    single = client.post("/api/feedback", json=good(version, chosen_label=None))
    assert single.status_code == 400
    assert {"labels", "predicted_labels"} <= set(single.json["errors"])
    assert app.extensions["tfcls"].store.count() == 0


def test_label_sets_are_refused_for_a_single_label_model(served):
    app, client, version, _ = served
    body = good(version, chosen_label=None, labels=["alarm_set"], predicted_labels=[])
    resp = client.post("/api/feedback", json=body)
    assert resp.status_code == 400
    assert resp.json["errors"]["labels"] == (
        f"only for a multi-label model; {version} is single-label"
    )
    assert app.extensions["tfcls"].store.count() == 0


def test_feedback_transport_errors(served):
    _, client, version, _ = served
    assert client.post("/api/feedback", data="title=x").status_code == 415
    bad_json = client.post("/api/feedback", data="{", content_type="application/json")
    assert bad_json.status_code == 400 and bad_json.json["error"] == "Bad Request"
    assert client.post("/api/feedback", json=[1, 2]).status_code == 400
    huge = client.post("/api/feedback", json=good(version, description="z" * 70_000))
    assert huge.status_code == 413
    assert client.get("/api/feedback").status_code == 405


def test_server_side_predictions(served):
    _, client, version, _ = served
    resp = client.post(
        "/api/predict",
        json={"texts": ["set an alarm", {"title": "rain?", "description": "in paris"}]},
    )
    assert resp.status_code == 200, resp.json
    body = resp.json
    assert body["version"] == version and len(body["results"]) == 2
    for r in body["results"]:
        probs = [p["probability"] for p in r["predictions"]]
        assert probs == sorted(probs, reverse=True) and abs(sum(probs) - 1) < 1e-4
        assert isinstance(r["unknown"], bool) and isinstance(r["auto_select"], bool)
    too_many = client.post("/api/predict", json={"texts": ["a"] * 257})
    assert too_many.status_code == 400 and "at most 256" in too_many.json["errors"]["texts"]
    bad = client.post("/api/predict", json={"texts": ["ok", 3]})
    assert bad.status_code == 400 and "texts[1]" in bad.json["errors"]
    assert client.post("/api/predict", json={"texts": []}).status_code == 400
    odd = client.post("/api/predict", json={"texts": [{"title": "a", "description": 5}]})
    assert odd.status_code == 400 and "texts[0]" in odd.json["errors"]  # was a 500


def test_healthz_and_a_new_current_version_without_restart(served, tiny_run, cache_dir):
    from tfcls.bundle.export import export

    _, client, version, exported = served
    assert client.get("/healthz").json == {"status": "ok", "version": version, "feedback_rows": 0}
    newer = export(tiny_run, exported, "none")
    assert client.get("/api/model").json["version"] == newer.version != version
    assert client.get("/healthz").json["version"] == newer.version


def test_no_model_yet_is_503(tmp_path):
    config = load_config(
        overrides=[
            f"serving.exported={tmp_path / 'none'}",
            f"storage.path={tmp_path / 'fb.sqlite3'}",
        ]
    )
    client = create_app(config).test_client()
    resp = client.get("/api/model")
    assert resp.status_code == 503 and "python -m tfcls.export" in resp.json["detail"]


def test_a_broken_metadata_file_is_503_not_500(tmp_path, tiny_bundle):
    exported = tmp_path / "exported"
    shutil.copytree(tiny_bundle, exported)
    version = json.loads((exported / "current.json").read_text())["version"]
    meta = json.loads((exported / version / "metadata.json").read_text())
    del meta["labels"]
    (exported / version / "metadata.json").write_text(json.dumps(meta))
    config = load_config(
        overrides=[f"serving.exported={exported}", f"storage.path={tmp_path / 'fb.sqlite3'}"]
    )
    app = create_app(config)
    resp = app.test_client().get("/api/model")
    assert resp.status_code == 503 and resp.json["detail"] == "the model registry is unreadable"
    app.extensions["tfcls"].store.close()


def test_store_can_be_injected(tmp_path, tiny_bundle):
    store = FeedbackStore.from_url(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    config = load_config(
        overrides=[f"serving.exported={tiny_bundle}", f"storage.path={tmp_path / 'x.sqlite3'}"]
    )
    app = create_app(config, store=store)
    assert app.extensions["tfcls"].store is store
    store.close()


def test_a_relative_exported_folder_is_served(tiny_bundle, tmp_path, monkeypatch):
    """serving.exported is relative to the working directory, not to the package."""
    shutil.copytree(tiny_bundle, tmp_path / "exported")
    monkeypatch.chdir(tmp_path)
    config = load_config(overrides=["serving.exported=exported", "storage.path=fb.sqlite3"])
    app = create_app(config)
    version = app.test_client().get("/api/model").json["version"]
    resp = app.test_client().get(f"/models/{version}/metadata.json")
    assert resp.status_code == 200 and resp.json["version"] == version
    app.extensions["tfcls"].store.close()


def test_server_side_predictions_of_a_multi_label_bundle_are_label_sets(
    tiny_multilabel_bundle, tmp_path, cache_dir, monkeypatch
):
    """A real multi-label bundle, run in Python by the server: each label at or above its
    own threshold, the same sets the run's own predictor gives on these texts."""
    from tfcls.bundle.registry import Registry
    from tfcls.decision.label_predictor import LabelSetPredictor

    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    config = load_config(
        overrides=[
            f"serving.exported={tiny_multilabel_bundle}",
            f"storage.path={tmp_path / 'fb.sqlite3'}",
        ]
    )
    app = create_app(config)
    texts = ["invoice refund payment", "crash error exception", "button layout font"]
    resp = app.test_client().post("/api/predict", json={"texts": texts})
    app.extensions["tfcls"].store.close()
    assert resp.status_code == 200, resp.json
    _, meta = Registry(tiny_multilabel_bundle).require_metadata()
    threshold = dict(zip(meta.labels, meta.thresholds, strict=True))
    for result in resp.json["results"]:
        chosen = [
            p["label"] for p in result["predictions"] if p["probability"] >= threshold[p["label"]]
        ]
        assert result["labels"] == chosen and result["auto_select"] == bool(chosen)
    # float16 weights: every decision not within 0.01 of its threshold is the Keras run's
    keras, _ = LabelSetPredictor(meta.run).text_scores(texts)
    for row, result in zip(keras, resp.json["results"], strict=True):
        for label, p, t in zip(meta.labels, row, meta.thresholds, strict=True):
            if abs(p - t) > 0.01:
                assert (label in result["labels"]) == (p >= t), (label, p, t)
