"""`python -m tfcls.retrain`: feedback → examples, the gate, promotion, refusal, crashes."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import child_env

from tfcls import retrain as retrain_mod
from tfcls.retrain import feedback_examples, gate, split_recent


def fb(i, title, action, predicted=None, chosen=None, client="c1", description=""):
    return {
        "id": i,
        "title": title,
        "description": description,
        "predicted_label": predicted,
        "confidence": 0.5,
        "chosen_label": chosen,
        "action": action,
        "model_version": "v1",
        "client_id": client,
    }


def test_feedback_becomes_examples():
    rows = [
        fb(1, "Fix bug", "accepted", predicted="Dev"),
        fb(2, "Team sync", "corrected", predicted="Dev", chosen="Meeting"),
        fb(3, "Buy milk", "new_category", chosen="Errands"),
        fb(4, "asdf", "rejected", predicted="Dev"),  # no label: not an example
        fb(5, "Plan Q3", "rejected", predicted="Dev", chosen="Planning"),
        fb(6, "<b>Fix</b> bug", "corrected", predicted="Dev", chosen="Bugs"),  # same text as 1
    ]
    examples, report = feedback_examples(rows)
    labels = {e["text"]: e["label"] for e in examples}
    assert labels == {
        "Fix bug": "Bugs",  # the client's latest verdict on the cleaned text wins
        "Team sync": "Meeting",
        "Buy milk": "Errands",
        "Plan Q3": "Planning",
    }
    assert report["ignored"] == 1 and report["rows"] == 6 and report["conflicts"] == []
    assert report["by_action"] == {"accepted": 1, "corrected": 2, "new_category": 1, "rejected": 2}
    assert [e["last_id"] for e in examples] == sorted(e["last_id"] for e in examples)


def test_conflicts_between_clients_are_reported_majority_wins():
    rows = [
        fb(1, "Retro notes", "corrected", chosen="Meeting", client="a"),
        fb(2, "Retro notes", "corrected", chosen="Meeting", client="b"),
        fb(3, "Retro notes", "corrected", chosen="Planning", client="c"),
        fb(4, "Sketch", "corrected", chosen="Design", client="a"),
        fb(5, "Sketch", "corrected", chosen="Research", client="b"),  # tie: the latest
    ]
    examples, report = feedback_examples(rows)
    labels = {e["text"]: e["label"] for e in examples}
    assert labels == {"Retro notes": "Meeting", "Sketch": "Research"}
    assert {c["text"] for c in report["conflicts"]} == {"Retro notes", "Sketch"}


def test_split_recent_holds_out_the_newest():
    examples = [{"text": str(i), "label": "x", "last_id": i} for i in range(10)]
    train, recent = split_recent(examples, 0.2)
    assert [e["text"] for e in recent] == ["8", "9"] and len(train) == 8
    assert split_recent(examples, 0.0)[1] == []


def test_gate():
    cur = {"fixed": {"n": 20, "accuracy": 0.90}, "recent_feedback": {"n": 5, "accuracy": 0.2}}
    ok = {"fixed": {"n": 20, "accuracy": 0.895}, "recent_feedback": {"n": 5, "accuracy": 1.0}}
    assert gate(cur, ok, 0.01)[0]
    worse = {"fixed": {"n": 20, "accuracy": 0.85}, "recent_feedback": {"n": 5, "accuracy": 1.0}}
    promote, reasons = gate(cur, worse, 0.01)
    assert not promote and "worse beyond tolerance" in reasons[0]
    empty = {"fixed": {"n": 20, "accuracy": 0.9}, "recent_feedback": {"n": 0, "accuracy": None}}
    assert gate(empty, {**ok, "recent_feedback": empty["recent_feedback"]}, 0.01)[0]


# A category the served model cannot know: after retraining it must predict it.
ERRANDS = [
    "add milk to my shopping list",
    "put eggs on the shopping list",
    "we need bread, add it to the list",
    "shopping list: bananas and apples",
    "remember to buy coffee beans",
    "add dish soap to groceries",
    "buy batteries on the way home",
    "grocery list add tomatoes",
]


@pytest.fixture(scope="module")
def base_bundle(trained, cache_dir, tmp_path_factory):
    """The trained HWU64 run exported once for this module (float16)."""
    from tfcls.export import export

    exported = tmp_path_factory.mktemp("base-exported")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TFCLS_CACHE", str(cache_dir))
        version = export(trained[0], exported, "float16")["version"]
    return exported, version


@pytest.fixture()
def loop(base_bundle, tmp_path, cache_dir, monkeypatch):
    """A copy of the exported base served by the app (test client), with a fresh store."""
    from tfcls.config import load_config
    from tfcls.server import create_app

    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    exported = tmp_path / "exported"
    shutil.copytree(base_bundle[0], exported)
    base = base_bundle[1]
    overrides = [
        f"serving.exported={exported}",
        f"storage.path={tmp_path / 'fb.sqlite3'}",
        f"train.output_dir={tmp_path / 'runs'}",
        "retrain.quantize=float16",
        # the fixed holdout has ~20 texts: one flip is 0.05
        "retrain.tolerance=0.1",
        "retrain.min_examples_new_label=5",
    ]
    config = load_config(overrides=overrides)
    app = create_app(config)
    yield app, config, exported, base, overrides
    app.extensions["tfcls"]["store"].close()


def post_errands(client, version):
    for i, title in enumerate(ERRANDS):
        resp = client.post(
            "/api/feedback",
            json={
                "title": title,
                "description": "",
                "predicted_label": "calendar_set",
                "confidence": 0.4,
                "chosen_label": "errands",
                "action": "new_category",
                "model_version": version,
                "client_id": f"person-{i % 3}",
            },
        )
        assert resp.status_code == 201, resp.json


@pytest.mark.slow
def test_feedback_retrains_promotes_and_the_server_switches(loop, cache_dir):
    app, config, exported, base, _ = loop
    client = app.test_client()
    probe = "add cereal to my shopping list"
    before = client.post("/api/predict", json={"texts": [probe]}).json
    assert before["version"] == base
    assert before["results"][0]["predictions"][0]["label"] != "errands"  # it cannot know it
    post_errands(client, base)
    dry = retrain_mod.retrain(config, dry_run=True)
    assert dry["new_labels"] == ["errands"] and dry["holdouts"]["recent_feedback"] == 2
    record = retrain_mod.retrain(config)
    assert record["promoted"], record
    assert record["candidate"]["fixed"]["accuracy"] >= record["current"]["fixed"]["accuracy"] - 0.1
    # the newest errands texts were held out: the old model cannot know the label
    assert record["current"]["recent_feedback"]["accuracy"] == 0.0
    assert record["candidate"]["recent_feedback"]["accuracy"] >= 0.5
    decision = json.loads((Path(record["candidate_run"]) / "decision.json").read_text())
    assert decision["verdict"].startswith("promoted") and decision["reasons"]
    new = record["promoted_version"]
    # the running app serves the new version without a restart, and predicts the phrasing
    after = client.post("/api/predict", json={"texts": [probe]}).json
    assert after["version"] == new != base
    assert after["results"][0]["predictions"][0]["label"] == "errands"
    assert "errands" in client.get("/api/model").json["labels"]
    # rollback
    proc = subprocess.run(
        [sys.executable, "-m", "tfcls.export", "--out", str(exported), "--rollback", base],
        env=child_env(cache_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert client.get("/api/model").json["version"] == base


@pytest.mark.slow
def test_a_worse_candidate_is_refused_with_a_decision_record(loop, monkeypatch):
    app, config, exported, base, _ = loop
    post_errands(app.test_client(), base)
    real = retrain_mod._train_candidate

    def shuffled(config, current_run, data):
        labels = list(data.values())
        random.Random(0).shuffle(labels)
        return real(config, current_run, dict(zip(data, labels, strict=True)))

    monkeypatch.setattr(retrain_mod, "_train_candidate", shuffled)
    record = retrain_mod.retrain(config)
    assert not record["promoted"] and record["verdict"] == f"refused: {base} stays current"
    assert any("worse beyond tolerance" in r for r in record["reasons"])
    assert json.loads((exported / "current.json").read_text())["version"] == base
    decision = json.loads((Path(record["candidate_run"]) / "decision.json").read_text())
    assert decision["promoted"] is False
    # the refused candidate is not what `tfcls.predict` picks up by default (this output
    # folder had no finished run before, so it has none now)
    assert not (Path(config.train.output_dir) / "LATEST").exists()


@pytest.mark.slow
def test_a_crash_mid_retrain_leaves_the_served_model(loop, cache_dir):
    app, config, exported, base, overrides = loop
    client = app.test_client()
    post_errands(client, base)
    pointer = (exported / "current.json").read_bytes()
    files = {p: p.read_bytes() for p in (exported / base).rglob("*") if p.is_file()}
    args = [a for o in overrides for a in ("--set", o)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tfcls.retrain", *args],
        env=child_env(cache_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    runs = Path(config.train.output_dir)
    deadline = time.monotonic() + 300
    while not list(runs.glob("retrain-2*/splits.json")) and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)  # mid-training
    proc.wait()
    assert (exported / "current.json").read_bytes() == pointer
    assert {p: p.read_bytes() for p in (exported / base).rglob("*") if p.is_file()} == files
    assert client.get("/api/model").json["version"] == base
