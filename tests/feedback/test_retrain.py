"""`python -m tfcls.retrain`: feedback → examples, the gate, promotion, refusal, crashes."""

from __future__ import annotations

import hashlib
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

from tfcls.config import RetrainConfig, load_config
from tfcls.data.dataset import load_dataset
from tfcls.feedback import retrain as retrain_mod
from tfcls.feedback.examples import example_weights, feedback_examples, plan, split_recent
from tfcls.feedback.gate import gate
from tfcls.feedback.retrain import RetrainResult


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


def test_multi_label_verdicts_are_set_aside_not_read_as_their_top_label():
    rows = [
        fb(1, "Fix bug", "accepted", predicted="Dev"),
        {**fb(2, "Refund crash", "accepted", predicted="billing"), "chosen_labels": ["billing"]},
        {**fb(3, "Font", "rejected"), "predicted_labels": ["ui"], "chosen_labels": None},
    ]
    examples, report = feedback_examples(rows)
    assert [e["text"] for e in examples] == ["Fix bug"]
    assert report["label_sets_ignored"] == 2 and report["ignored"] == 0


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


def test_retrain_result_types_the_decision_record():
    planned = {"current_version": "v1", "current_run": "runs/a", "new_labels": []}
    dry = RetrainResult.from_record({**planned, "verdict": "dry run: nothing trained"})
    assert (dry.promoted, dry.candidate_run, dry.promoted_version, dry.reasons) == (
        False,
        None,
        None,
        (),
    )
    assert dry.current_run == Path("runs/a") and dry.to_dict() is dry.record
    done = {
        **planned,
        "candidate_run": "runs/b",
        "promoted": True,
        "reasons": ["fixed (n=3): accuracy 1.0000 → 1.0000 (+0.0000, within tolerance 0.02)"],
        "promoted_version": "v2",
        "verdict": "promoted: v2 replaces v1",
    }
    result = RetrainResult.from_record(done)
    assert result.promoted and result.candidate_run == Path("runs/b")
    assert result.promoted_version == "v2" and result.reasons == tuple(done["reasons"])
    with pytest.raises(AttributeError):
        result.verdict = "changed"  # frozen


def test_split_recent_holds_out_the_newest():
    examples = [{"text": str(i), "label": "x", "last_id": i} for i in range(10)]
    train, recent = split_recent(examples, 0.2)
    assert [e["text"] for e in recent] == ["8", "9"] and len(train) == 8
    assert split_recent(examples, 0.0)[1] == []


def test_a_flood_from_one_client_does_not_make_up_the_holdout():
    examples = [
        {"text": f"flood {i}", "label": "x", "last_id": i, "client": "mallory"} for i in range(50)
    ]
    examples += [
        {"text": f"honest {i}", "label": "x", "last_id": 100 + i, "client": f"p{i}"}
        for i in range(5)
    ]
    train, recent = split_recent(examples, 0.2)  # 11 to hold out, 6 clients: 2 each at most
    held = [e["text"] for e in recent]
    assert sorted(held) == ["flood 48", "flood 49", *(f"honest {i}" for i in range(5))]
    assert len(train) + len(recent) == len(examples)
    assert [e["last_id"] for e in recent] == sorted(e["last_id"] for e in recent)


def test_split_recent_holds_out_some_of_each_new_label():
    def ex(i, label):
        return {"text": f"{label} {i}", "label": label, "last_id": i}

    # Admin's verdicts are the oldest: "the newest 20%" alone would hold none of them
    examples = [ex(i, "Admin") for i in range(12)] + [ex(i, "Dev") for i in range(12, 32)]
    examples.append(ex(40, "Errands"))  # too few to spare any: all of it is trained on
    examples += [ex(i, "Errands") for i in range(41, 43)]
    train, recent = split_recent(examples, 0.2, ["Admin", "Errands"])
    held = [e["text"] for e in recent]
    assert held == ["Admin 9", "Admin 10", "Admin 11", *(f"Dev {i}" for i in range(28, 32))]
    assert [e["last_id"] for e in train] == sorted(e["last_id"] for e in train)
    assert len(train) + len(recent) == len(examples)
    assert sum(e["label"] == "Admin" for e in train) == 9  # ceil(0.2 · 12) = 3 held out
    # a new label of 4 keeps 3 to learn from; 15 holds out ceil(3.0000000000000004) = 3
    assert split_recent([ex(i, "N") for i in range(4)], 0.5, ["N"])[1] == [ex(3, "N")]
    assert len(split_recent([ex(i, "N") for i in range(15)], 0.2, ["N"])[1]) == 3
    assert split_recent(examples, 0.2, ["Admin"]) == split_recent(examples, 0.2, ["Admin"])


def test_gate():
    rules = RetrainConfig(tolerance=0.01)
    cur = {"fixed": {"n": 20, "accuracy": 0.90}, "recent_feedback": {"n": 5, "accuracy": 0.2}}
    ok = {"fixed": {"n": 20, "accuracy": 0.895}, "recent_feedback": {"n": 5, "accuracy": 1.0}}
    assert gate(cur, ok, rules)[0]
    worse = {"fixed": {"n": 20, "accuracy": 0.85}, "recent_feedback": {"n": 5, "accuracy": 1.0}}
    promote, reasons = gate(cur, worse, rules)
    assert not promote and "worse beyond tolerance" in reasons[0]
    empty = {"fixed": {"n": 20, "accuracy": 0.9}, "recent_feedback": {"n": 0, "accuracy": None}}
    assert gate(empty, {**ok, "recent_feedback": empty["recent_feedback"]}, rules)[0]


def test_gate_refuses_a_candidate_that_learned_none_of_the_feedback():
    rules = RetrainConfig(tolerance=0.01, min_holdout_to_judge=5, min_feedback_accuracy=0.5)
    fixed = {"n": 85, "accuracy": 0.8}

    def scores(n, accuracy, by_label=None):
        return {
            "fixed": fixed,
            "recent_feedback": {"n": n, "accuracy": accuracy, "by_label": by_label or {}},
        }

    # "0.0 → 0.0, within tolerance" used to promote; on 6 texts it tells: not learned
    promote, reasons = gate(scores(6, 0.0), scores(6, 0.0), rules)
    assert not promote and "recent_feedback (n=6): accuracy 0.0000 → 0.0000" in reasons[1]
    assert reasons[2] == (
        "recent_feedback (n=6): candidate accuracy 0.0000 is below "
        "retrain.min_feedback_accuracy 0.5: it has not learned the feedback"
    )
    assert not gate(scores(6, 0.0), scores(6, 1 / 3), rules)[0]
    assert gate(scores(6, 0.0), scores(6, 0.5), rules)[0]
    # 4 texts are too few to judge the accuracy: promoted, and the reason says why
    promote, reasons = gate(scores(4, 0.0), scores(4, 0.0), rules)
    assert promote and "fewer than retrain.min_holdout_to_judge=5" in reasons[-1]
    # a new label whose 3 held-out texts are all missed is refused, even on a small holdout
    missed = {"Admin": {"n": 3, "right": 0, "accuracy": 0.0}}
    promote, reasons = gate(scores(3, 0.0), scores(3, 0.0, missed), rules, ["Admin"])
    assert not promote and reasons[-1] == (
        "new label 'Admin': the candidate predicts it for 0 of its 3 held-out feedback texts: "
        "it has not learned the label"
    )
    one = {"Admin": {"n": 3, "right": 1, "accuracy": 0.3333}}
    assert gate(scores(3, 0.0), scores(3, 1 / 3, one), rules, ["Admin"])[0]
    two = {"Admin": {"n": 2, "right": 0, "accuracy": 0.0}}  # 2 held-out texts: too few
    assert gate(scores(2, 0.0), scores(2, 0.0, two), rules, ["Admin"])[0]


def base_rows(counts):
    return [
        {"text": f"{label} {i}", "label": label, "origin": "base", "base_weight": 1.0}
        for label, n in counts.items()
        for i in range(n)
    ]


def test_weights_lift_a_new_label_to_the_floor_within_the_cap():
    rows = base_rows({"Meeting": 96, "Development": 95, "Design": 94, "Planning": 95, "Rare": 19})
    rows += [
        {"text": f"admin {i}", "label": "Admin", "origin": "feedback", "base_weight": 1.0}
        for i in range(10)
    ]
    rows += [
        {"text": f"dev {i}", "label": "Development", "origin": "feedback", "base_weight": 1.0}
        for i in range(2)
    ]
    weights, record = example_weights(rows, RetrainConfig())
    by = record["labels"]
    assert record["floor"] == 95.0  # the median base label's total
    admin = [w for r, w in zip(rows, weights, strict=True) if r["label"] == "Admin"]
    assert admin == pytest.approx([9.5] * 10)  # 3 (feedback) · 95 / 30 ≤ 20
    assert by["Admin"] == {
        "examples": 10,
        "feedback_examples": 10,
        "boost": pytest.approx(95 / 30, abs=1e-4),
        "weight_each": {"base": None, "feedback": 9.5},
        "total": pytest.approx(95.0),
        "capped": 0,
    }
    assert by["Rare"]["weight_each"]["base"] == 5.0 and by["Rare"]["total"] == pytest.approx(95)
    assert by["Development"]["weight_each"] == {"base": 1.0, "feedback": 3.0}  # no boost
    assert by["Meeting"]["total"] == 96.0 and by["Meeting"]["boost"] == 1.0
    # 3 verdicts would need 31.7 each to reach the floor: the cap holds them at 20
    few = base_rows({"a": 100, "b": 100, "c": 100})
    few += [
        {"text": f"n {i}", "label": "New", "origin": "feedback", "base_weight": 1.0}
        for i in range(3)
    ]
    weights, record = example_weights(few, RetrainConfig(max_weight=20))
    assert max(weights) == 20.0 and record["labels"]["New"]["total"] == 60.0
    assert record["labels"]["New"]["capped"] == 3
    # no balancing: feedback counts feedback_weight, nothing else
    weights, _ = example_weights(rows, RetrainConfig(balance_labels=False, feedback_weight=2))
    assert sorted(set(weights)) == [1.0, 2.0]
    # a data file's own weight above the cap is kept, not lowered
    heavy = base_rows({"a": 10, "b": 10})
    heavy.append({"text": "h", "label": "a", "origin": "base", "base_weight": 50.0})
    assert max(example_weights(heavy, RetrainConfig())[0]) == 50.0


def fake_run(folder, rows, test=(), **files):
    """A run directory as far as `plan` reads it: data file, run.json, splits.json."""
    folder.mkdir(parents=True)
    data = folder / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    digest = hashlib.sha256(data.read_bytes()).hexdigest()
    run_json = {"data_path": str(data), "data_sha256": digest}
    (folder / "run.json").write_text(json.dumps(run_json))
    (folder / "splits.json").write_text(json.dumps({"test": list(test)}))
    for name, content in files.items():
        (folder / f"{name}.json").write_text(json.dumps(content))
    return folder


def test_one_client_cannot_flip_a_base_label_three_agreeing_clients_can(tmp_path):
    """Poisoning: 1,000 contradicting verdicts from one client change nothing; the same
    correction from three distinct clients counts; the dry-run record says what was
    discarded and why."""
    base = [{"text": f"{lab} task {i}", "label": lab} for lab in ("Dev", "Meet") for i in range(40)]
    run = fake_run(tmp_path / "run", base, test=[0, 40])
    flood = [fb(i + 1, "Dev task 5", "corrected", chosen="Meet", client="mallory")
             for i in range(1000)]  # fmt: skip
    config = load_config(overrides=["retrain.recent_holdout=0"])
    training, _, record = plan(config, run, flood)
    assert record["feedback_training_examples"] == 0 and record["base_labels_overridden"] == 0
    assert {r["text"]: r["label"] for r in training}["Dev task 5"] == "Dev"
    (why,) = record["discarded"]
    assert why["text"] == "Dev task 5" and why["labels"] == ["Meet"]
    assert "1 of retrain.min_agreeing_clients=3 distinct clients" in why["reason"]
    agreeing = flood + [
        fb(2000 + i, "Dev task 5", "corrected", chosen="Meet", client=c)
        for i, c in enumerate(["ann", "bob"])
    ]
    training, _, record = plan(config, run, agreeing)
    assert record["base_labels_overridden"] == 1 and not record["discarded"]
    assert {r["text"]: r["label"] for r in training}["Dev task 5"] == "Meet"


def test_through_the_api_a_script_cannot_reach_three_clients(tiny_bundle, tmp_path, monkeypatch):
    """The same poisoning against the real app: one issued id posting 1,000 corrections is
    stopped by its rate limit and then by the retrain's bound; made-up ids are refused;
    three ids the server issued agreeing make the correction count."""
    from tfcls.serving.app import create_app

    monkeypatch.delenv("TFCLS_CLIENT_SECRET", raising=False)
    shutil.copytree(tiny_bundle, tmp_path / "exported")
    config = load_config(
        overrides=[
            f"serving.exported={tmp_path / 'exported'}",
            f"storage.path={tmp_path / 'fb.sqlite3'}",
            "retrain.recent_holdout=0",
        ]
    )
    app = create_app(config)
    client, store = app.test_client(), app.extensions["tfcls"].store
    version = client.get("/api/model").json["version"]

    def post(token):
        row = fb(0, "Dev task 5", "corrected", chosen="Meet", client=token)
        del row["id"]
        return client.post("/api/feedback", json={**row, "model_version": version})

    def tokens(n):
        return [client.get("/api/model").json["client_token"] for _ in range(n)]

    base = [{"text": f"{lab} task {i}", "label": lab} for lab in ("Dev", "Meet") for i in range(40)]
    run = fake_run(tmp_path / "run", base, test=[0, 40])
    (mallory,) = tokens(1)
    statuses = [post(mallory).status_code for _ in range(1000)]
    assert statuses.count(201) == 30 and statuses.count(429) == 970  # 30/minute per client
    assert {post(f"forged-{i}").status_code for i in range(3)} == {401}
    _, _, record = plan(config, run, store.rows())
    assert record["base_labels_overridden"] == 0 and record["feedback_training_examples"] == 0
    assert [post(t).status_code for t in tokens(2)] == [201, 201]
    training, _, record = plan(config, run, store.rows())
    assert record["base_labels_overridden"] == 1
    assert {r["text"]: r["label"] for r in training}["Dev task 5"] == "Meet"
    store.close()


def test_one_client_gives_at_most_max_examples_per_client(tmp_path):
    base = [{"text": f"{lab} task {i}", "label": lab} for lab in ("Dev", "Meet") for i in range(40)]
    run = fake_run(tmp_path / "run", base, test=[0, 40])
    rows = [fb(i + 1, f"new errand {i}", "new_category", chosen="Errands", client="mallory")
            for i in range(200)]  # fmt: skip
    rows += [fb(500 + i, f"honest errand {i}", "new_category", chosen="Errands", client=f"p{i}")
             for i in range(6)]  # fmt: skip
    config = load_config(
        overrides=["retrain.recent_holdout=0", "retrain.max_examples_per_client=50"]
    )
    training, _, record = plan(config, run, rows)
    fed = [r["text"] for r in training if r["origin"] == "feedback"]
    assert sum(t.startswith("new errand") for t in fed) == 50  # the first 50 of mallory's
    assert sum(t.startswith("honest errand") for t in fed) == 6
    assert len(record["discarded"]) == 150
    assert "max_examples_per_client=50" in record["discarded"][0]["reason"]
    with pytest.raises(Exception, match=r"retrain\.max_examples_per_client must be an integer"):
        load_config(overrides=["retrain.max_examples_per_client=0"])


def test_plan_weights_the_new_label_records_it_and_never_compounds(tmp_path):
    base = [{"text": f"{lab} task {i}", "label": lab} for lab in ("Dev", "Meet") for i in range(40)]
    base += [{"text": f"heavy {i}", "label": "Dev", "weight": 2} for i in range(2)]
    run = fake_run(tmp_path / "run", base, test=[0, 40])
    titles = [f"file expense report {i}" for i in range(12)]
    rows = [
        fb(i + 1, t, "new_category", chosen="Admin", client=f"p{i % 3}")
        for i, t in enumerate(titles)
    ]
    rows.append(fb(20, "Dev task 5", "corrected", chosen="Meet"))
    # one client may correct a base label here (the bound is tested on its own)
    config = load_config(overrides=["retrain.recent_holdout=0.2", "retrain.min_agreeing_clients=1"])
    training, holdouts, record = plan(config, run, rows)
    assert record["new_labels"] == ["Admin"] and record["base_labels_overridden"] == 1
    assert record["recent_feedback_labels"] == {"Admin": 3}  # ceil(0.2 · 12); Meet: round(0.2)
    assert [h["text"] for h in holdouts["recent_feedback"]] == titles[9:]
    assert [f["text"] for f in holdouts["fixed"]] == ["Dev task 0", "Meet task 0"]
    weights = record["weights"]
    assert weights["floor"] == 40.5  # Dev 38 + 2 · 2 (one text is feedback now), Meet 39
    admin = weights["labels"]["Admin"]
    assert admin["examples"] == 9 and admin["weight_each"]["feedback"] == 4.5  # 3 · 40.5 / 27
    assert admin["total"] == pytest.approx(weights["floor"])
    by_text = {r["text"]: r for r in training}
    assert by_text["Dev task 5"] == {
        "text": "Dev task 5",
        "label": "Meet",
        "origin": "feedback",
        "base_weight": 1.0,
        "weight": 3.0,
    }
    assert by_text["heavy 0"]["weight"] == 2.0 and by_text["Dev task 1"]["weight"] == 1.0
    # the candidate's data as retrain writes it is the next retrain's base: the base weights
    # come back from it (its base_weight), not the boosted ones: weights never compound
    again = fake_run(
        tmp_path / "retrain-run",
        training,
        holdouts={"fixed": holdouts["fixed"]},
        retrain_config={},
    )
    training2, holdouts2, record2 = plan(config, again, rows)
    assert record2["new_labels"] == [] and record2["weights"]["floor"] == 40.5
    # Admin is pooled with the known labels now: the newest 3 of 13 verdicts are held out
    assert [h["text"] for h in holdouts2["recent_feedback"]] == [*titles[10:], "Dev task 5"]
    by_text2 = {r["text"]: r for r in training2}
    assert by_text2["heavy 0"]["weight"] == 2.0 and by_text2["Dev task 1"]["weight"] == 1.0
    heavy = {t: r["base_weight"] for t, r in by_text2.items() if r["base_weight"] != 1.0}
    assert heavy == {"heavy 0": 2.0, "heavy 1": 2.0}
    # Admin's 10 trained verdicts are lifted from 30 to the floor again: 3 · 40.5 / 30 each
    assert record2["weights"]["labels"]["Admin"]["weight_each"]["feedback"] == 4.05


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
    from tfcls.bundle.export import export

    exported = tmp_path_factory.mktemp("base-exported")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TFCLS_CACHE", str(cache_dir))
        version = export(trained[0], exported, "float16").version
    return exported, version


@pytest.fixture()
def loop(base_bundle, tmp_path, cache_dir, monkeypatch):
    """A copy of the exported base served by the app (test client), with a fresh store."""
    from tfcls.config import load_config
    from tfcls.serving.app import create_app

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
    app.extensions["tfcls"].store.close()


def post_errands(client, version):
    """ERRANDS as new_category verdicts from three clients (ids the app issued)."""
    tokens = [client.get("/api/model").json["client_token"] for _ in range(3)]
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
                "client_id": tokens[i % 3],
            },
        )
        assert resp.status_code == 201, resp.json


@pytest.mark.slow
def test_feedback_retrains_promotes_and_the_server_switches(loop, cache_dir, capsys):
    app, config, exported, base, _ = loop
    client = app.test_client()
    probe = "add cereal to my shopping list"
    before = client.post("/api/predict", json={"texts": [probe]}).json
    assert before["version"] == base
    assert before["results"][0]["predictions"][0]["label"] != "errands"  # it cannot know it
    post_errands(client, base)
    dry = retrain_mod.retrain(config, dry_run=True)
    assert dry.verdict == "dry run: nothing trained" and not dry.promoted
    assert dry.candidate_run is None and dry.current_version == base
    assert dry.record["new_labels"] == ["errands"]
    assert dry.record["holdouts"]["recent_feedback"] == 2
    capsys.readouterr()
    result = retrain_mod.retrain(config)
    assert isinstance(result, RetrainResult) and result.promoted, result
    announced = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("retrain ")]
    assert announced == [f"retrain {i}/4: {name}" for i, name in enumerate(retrain_mod.STAGES, 1)]
    record = result.record
    assert record["candidate"]["fixed"]["accuracy"] >= record["current"]["fixed"]["accuracy"] - 0.1
    # the newest errands texts were held out: the old model cannot know the label
    assert record["current"]["recent_feedback"]["accuracy"] == 0.0
    assert record["candidate"]["recent_feedback"]["accuracy"] >= 0.5
    decision = json.loads((result.candidate_run / "decision.json").read_text())
    assert decision == json.loads(json.dumps(result.to_dict()))  # the record is decision.json
    assert decision["verdict"].startswith("promoted") and decision["reasons"]
    # the decision records the weights; the candidate's data carries them, row by row
    weights = decision["weights"]["labels"]
    assert weights["errands"]["examples"] == 6 and weights["errands"]["feedback_examples"] == 6
    assert weights["errands"]["weight_each"]["feedback"] > config.retrain.feedback_weight
    assert weights["errands"]["total"] == pytest.approx(decision["weights"]["floor"], rel=1e-3)
    assert decision["candidate"]["recent_feedback"]["by_label"]["errands"]["n"] == 2
    run_json = json.loads((result.candidate_run / "run.json").read_text())
    data = load_dataset(run_json["data_path"])
    by_label = {e.label: e.weight for e in data.examples}
    assert by_label["errands"] == pytest.approx(weights["errands"]["weight_each"]["feedback"])
    new = result.promoted_version
    assert result.verdict == f"promoted: {new} replaces {base}"
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

    def shuffled(config, current_run, rows):
        labels = [r["label"] for r in rows]
        random.Random(0).shuffle(labels)
        return real(
            config, current_run, [{**r, "label": lab} for r, lab in zip(rows, labels, strict=True)]
        )

    monkeypatch.setattr(retrain_mod, "_train_candidate", shuffled)
    result = retrain_mod.retrain(config)
    assert not result.promoted and result.verdict == f"refused: {base} stays current"
    assert any("worse beyond tolerance" in r for r in result.reasons)
    assert result.promoted_version is None and result.reasons == tuple(result.record["reasons"])
    assert json.loads((exported / "current.json").read_text())["version"] == base
    decision = json.loads((result.candidate_run / "decision.json").read_text())
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
