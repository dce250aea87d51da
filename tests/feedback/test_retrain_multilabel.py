"""`tfcls.retrain` of a multi-label model: label-set feedback → a candidate, the gate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tfcls.config import RetrainConfig, load_config
from tfcls.feedback import retrain as retrain_mod
from tfcls.feedback.examples import example_weights, feedback_examples, split_recent
from tfcls.feedback.gate import SUBSET_ACCURACY, gate
from tfcls.training.runs import Run


def verdict(i, title, action, chosen, predicted=(), client="c1"):
    """A multi-label feedback row as the store returns it."""
    return {
        "id": i,
        "title": title,
        "description": "",
        "predicted_label": None,
        "confidence": 0.5,
        "chosen_label": None,
        "action": action,
        "model_version": "v1",
        "client_id": client,
        "chosen_labels": None if chosen is None else list(chosen),
        "predicted_labels": list(predicted),
    }


def test_label_sets_become_examples_a_set_is_one_vote():
    rows = [
        verdict(1, "refund crash", "accepted", ["billing"], ["billing"]),
        verdict(2, "refund crash", "corrected", ["bug", "billing"], ["billing"]),  # latest
        verdict(3, "font", "rejected", None, ["ui"]),  # no label fits: no example
        verdict(4, "layout", "corrected", ["ui"], client="a"),
        verdict(5, "layout", "corrected", ["ui", "bug"], client="b"),
        verdict(6, "layout", "corrected", ["bug", "ui"], client="c"),  # same set as b's
        verdict(7, "token", "new_category", ["security"]),
        {**verdict(8, "x", "accepted", None), "chosen_labels": None, "predicted_labels": None},
    ]
    rows[-1]["predicted_label"] = "bug"  # a verdict on an earlier single-label model
    examples, report = feedback_examples(rows, multi_label=True)
    assert {e["text"]: e["labels"] for e in examples} == {
        "refund crash": ["billing", "bug"],
        "layout": ["bug", "ui"],  # two of three clients chose this set
        "token": ["security"],
    }
    assert report["ignored"] == 1 and report["single_labels_ignored"] == 1
    assert report["label_sets_ignored"] == 0 and report["examples"] == 3
    assert report["conflicts"] == [
        {"text": "layout", "votes": {"ui": 1, "bug|ui": 2}, "chosen": "bug|ui"}
    ]
    # a single-label model reads none of them as examples, and says so
    single, report = feedback_examples(rows)
    assert [e["text"] for e in single] == ["x"] and report["label_sets_ignored"] == 7


def test_weights_of_label_sets_take_the_largest_boost_of_their_labels():
    rows = [
        {"text": f"b{i}", "labels": ["billing"], "origin": "base", "base_weight": 1.0}
        for i in range(20)
    ]
    rows += [
        {"text": f"u{i}", "labels": ["ui"], "origin": "base", "base_weight": 1.0} for i in range(20)
    ]
    rows += [
        {"text": f"s{i}", "labels": ["security", "ui"], "origin": "feedback", "base_weight": 1.0}
        for i in range(2)
    ]
    weights, record = example_weights(rows, RetrainConfig())
    assert record["floor"] == 20.0
    security = record["labels"]["security"]
    assert security["boost"] == pytest.approx(20 / 6, abs=1e-4)  # 2 verdicts · 3
    assert weights[-2:] == pytest.approx([10.0, 10.0])  # its boost, not ui's (1)
    assert record["labels"]["ui"]["total"] == pytest.approx(40.0)
    held = split_recent(
        [{"text": r["text"], "labels": r["labels"], "last_id": i} for i, r in enumerate(rows)],
        0.5,
        ["security"],
    )[1]
    # 2 examples of a new label: both stay to learn from; of the others, the newest half
    assert not any("security" in e["labels"] for e in held) and len(held) == 20


def test_the_gate_judges_label_sets_by_subset_accuracy_and_macro_f1():
    rules = RetrainConfig(tolerance=0.01, min_holdout_to_judge=2, min_feedback_accuracy=0.5)

    def scores(accuracy, macro_f1=0.6):
        one = {"n": 4, "accuracy": accuracy, "measure": SUBSET_ACCURACY, "by_label": {}}
        return {"fixed": {**one, "macro_f1": macro_f1}, "recent_feedback": {**one, "macro_f1": 0.5}}

    promote, reasons = gate(scores(0.5), scores(0.25), rules)
    assert not promote
    assert reasons[0].startswith("fixed (n=4): subset accuracy 0.5000 → 0.2500")
    assert reasons[1] == "fixed (n=4): macro-F1 0.6000 → 0.6000 (+0.0000, within tolerance 0.01)"
    assert "candidate subset accuracy 0.2500 is below" in reasons[-1]
    assert gate(scores(0.5), scores(0.5), rules)[0]
    # the same whole sets right, but single labels got worse: refused
    promote, reasons = gate(scores(0.5, 0.6), scores(0.5, 0.4), rules)
    assert not promote and "macro-F1 0.6000 → 0.4000 (-0.2000, worse beyond" in reasons[1]


# --- the whole loop on the tiny multi-label run --------------------------------------------

SECURITY = [f"login token sync {i}" for i in range(8)]  # a label the model cannot know


@pytest.fixture()
def served_multi(tiny_multilabel_bundle, tmp_path, cache_dir, monkeypatch):
    """A copy of the tiny multi-label bundle served by the app, a fresh SQLite store and the
    feedback of the module's story posted to it: (app, config, exported, version)."""
    from tfcls.bundle.registry import Registry
    from tfcls.feedback.store import FeedbackStore
    from tfcls.serving.app import create_app

    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    exported = tmp_path / "exported"
    shutil.copytree(tiny_multilabel_bundle, exported)
    version = Registry(exported).require_metadata()[0]
    overrides = [
        f"serving.exported={exported}",
        f"storage.path={tmp_path / 'fb.sqlite3'}",
        f"train.output_dir={tmp_path / 'runs'}",
        "retrain.quantize=float16",
        "retrain.tolerance=0.2",  # the fixed holdout has 14 texts
        "retrain.min_examples_new_label=5",
    ]
    config = load_config(overrides=overrides)
    app = create_app(config)
    client = app.test_client()
    posts = [
        (t, "new_category", ["security", "bug"] if i % 2 else ["security"])
        for i, t in enumerate(SECURITY)
    ]
    posts += [(f"invoice crash {i}", "corrected", ["billing", "bug"]) for i in range(4)]
    posts += [(f"contract clause {i}", "new_category", ["legal"]) for i in range(2)]  # too few
    posts += [("font colour", "accepted", ["ui"]), ("hello there", "rejected", None)]
    tokens = [client.get("/api/model").json["client_token"] for _ in range(3)]
    for i, (title, action, labels) in enumerate(posts):
        body = {
            "title": title,
            "confidence": 0.4,
            "labels": labels,
            "predicted_labels": ["ui"] if action == "accepted" else ["bug"],
            "action": action,
            "model_version": version,
            "client_id": tokens[i % 3],
        }
        resp = client.post("/api/feedback", json=body)
        assert resp.status_code == 201, resp.json
    store = FeedbackStore.open(config.storage)  # a verdict from an earlier single-label model
    old = {**verdict(0, "old ticket", "corrected", None), "predicted_labels": None}
    del old["id"]
    store.add({**old, "predicted_label": "ui", "chosen_label": "bug", "model_version": "v0"})
    store.close()
    yield app, config, exported, version
    app.extensions["tfcls"].store.close()


def test_label_set_feedback_retrains_a_multi_label_model_and_the_gate_decides(served_multi):
    app, config, exported, version = served_multi
    dry = retrain_mod.retrain(config, dry_run=True)
    record = dry.record
    assert dry.candidate_run is None and record["task"] == "multi_label"
    fb = record["feedback"]
    assert fb["label_sets_ignored"] == 0 and fb["single_labels_ignored"] == 1
    assert fb["ignored"] == 1 and fb["examples"] == 15  # the rejected verdict is no example
    assert record["new_labels"] == ["security"] and record["pending_new_labels"] == {"legal": 2}
    assert record["examples_waiting"] == 2
    assert record["recent_feedback_labels"]["security"] == 2  # ceil(0.2 · 8)
    assert record["holdouts"]["recent_feedback"] == 3  # and 1 of the 5 of known labels

    result = retrain_mod.retrain(config)
    candidate = Run(result.candidate_run)
    assert candidate.task() == "multi_label" and "security" in candidate.labels()
    assert "legal" not in candidate.labels()
    rec = result.record
    for model in ("current", "candidate"):
        for name in ("fixed", "recent_feedback"):
            assert rec[model][name]["measure"] == SUBSET_ACCURACY
            assert 0.0 <= rec[model][name]["macro_f1"] <= 1.0
    # the served model cannot know the new label; the gate's reasons name the measure
    assert rec["current"]["recent_feedback"]["by_label"]["security"]["right"] == 0
    assert any(r.startswith("fixed (n=14): subset accuracy") for r in result.reasons)
    assert any(r.startswith("fixed (n=14): macro-F1") for r in result.reasons)
    # the candidate's data carries the label sets and their weights, row by row
    data = Path(candidate.info()["data_path"]).read_text(encoding="utf-8")
    rows = [json.loads(line) for line in data.splitlines()]
    feedback = [r for r in rows if r["origin"] == "feedback"]
    assert all(isinstance(r["labels"], list) for r in rows)
    assert len(feedback) == rec["feedback_training_examples"] == 10  # 13 less 3 held out
    security = rec["weights"]["labels"]["security"]
    assert security["feedback_examples"] == 6 and security["weight_each"]["feedback"] > 3.0
    held = json.loads(candidate.path("holdouts.json").read_text())
    assert all("labels" in item for item in held["fixed"] + held["recent"])
    current = json.loads((exported / "current.json").read_text())["version"]
    if result.promoted:
        assert result.verdict == f"promoted: {result.promoted_version} replaces {version}"
        assert current == result.promoted_version
        assert "security" in app.test_client().get("/api/model").json["labels"]
    else:
        assert result.verdict == f"refused: {version} stays current" and current == version
    decision = json.loads(candidate.path("decision.json").read_text())
    assert decision["promoted"] is result.promoted and decision["reasons"]


def test_retrain_adapts_a_multi_label_encoder_again_from_where_it_started(served_multi, tiny_pair):
    _, config, _, _ = served_multi
    config.retrain.adapt_encoder = True
    result = retrain_mod.retrain(config)
    candidate = Run(result.candidate_run)
    assert candidate.metrics()["adapt"]["epochs_chosen"] >= 1
    assert candidate.config().encoder.handle == str(candidate.path(Run.ENCODER))
    assert candidate.info()["base_encoder"]["handle"] == str(tiny_pair)  # not the served copy
    assert result.verdict.startswith(("promoted: ", "refused: "))
