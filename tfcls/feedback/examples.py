"""Feedback → the candidate's data: examples, holdouts and weights (retrain steps 1–3).

:func:`feedback_examples` turns verdicts into deduplicated examples (each client's latest
verdict on a text; the majority across clients, ties to the most recent);
:func:`split_recent` holds out the newest feedback; :func:`example_weights` weighs human
verdicts above base data and lifts small labels to the floor; :func:`plan` puts it all
together for one current run. The procedure is described in :mod:`tfcls.feedback.retrain`.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tfcls.config import Config, RetrainConfig
from tfcls.data.text import join_title_description
from tfcls.training import runs
from tfcls.training.runs import Run

MIN_TRAIN_NEW_LABEL = 3  # examples a new label keeps for training (data.min_per_label)


def feedback_examples(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Feedback rows → deduplicated ``{text, label, last_id}`` examples, plus a report
    (counts per action, ignored rejections, multi-label verdicts set aside, conflicts
    between clients)."""
    report: dict[str, Any] = {
        "rows": len(rows),
        "by_action": Counter(),
        "ignored": 0,
        "label_sets_ignored": 0,
    }
    latest: dict[str, dict[str, tuple[int, str]]] = {}  # text → client → (id, label)
    for row in sorted(rows, key=lambda r: r["id"]):
        report["by_action"][row["action"]] += 1
        if row.get("chosen_labels") is not None or row.get("predicted_labels") is not None:
            # a verdict on a multi-label model: never one example of its top label
            # (retraining from label sets is not built yet; counted, not dropped silently)
            report["label_sets_ignored"] += 1
            continue
        if row["action"] == "accepted":
            label = row.get("chosen_label") or row.get("predicted_label")
        elif row["action"] in ("corrected", "new_category"):
            label = row.get("chosen_label")
        else:  # rejected: a label only if the person chose one
            label = row.get("chosen_label")
        text = join_title_description(row["title"], row.get("description") or "")
        if not label or not label.strip() or not text:
            report["ignored"] += 1
            continue
        latest.setdefault(text, {})[row["client_id"]] = (row["id"], label.strip())
    examples, conflicts = [], []
    for text, by_client in latest.items():
        votes = Counter(label for _, label in by_client.values())
        last_id, last_label = max(by_client.values())
        top = max(votes.values())
        winners = {label for label, n in votes.items() if n == top}
        label = last_label if last_label in winners else sorted(winners)[0]
        if len(votes) > 1:
            conflicts.append({"text": text, "votes": dict(votes), "chosen": label})
        examples.append({"text": text, "label": label, "last_id": last_id})
    examples.sort(key=lambda e: e["last_id"])
    report["by_action"] = dict(report["by_action"])
    report["examples"] = len(examples)
    report["conflicts"] = conflicts
    return examples, report


def split_recent(
    examples: list[dict[str, Any]], share: float, new_labels: Sequence[str] = ()
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(train, holdout) of examples sorted by last verdict, both kept in that order: the
    newest ``share`` of the examples of known labels, plus of each of ``new_labels`` its
    newest ``ceil(share · n)`` examples while ``MIN_TRAIN_NEW_LABEL`` stay for training."""
    groups: dict[str | None, list[int]] = defaultdict(list)
    for i, e in enumerate(examples):
        groups[e["label"] if e["label"] in new_labels else None].append(i)
    held: set[int] = set()
    for label, index in groups.items():
        if label is None:
            n_hold = round(share * len(index))
        else:  # - 1e-9: 0.2 · 15 is 3.0000000000000004 in floating point
            n_hold = min(math.ceil(share * len(index) - 1e-9), len(index) - MIN_TRAIN_NEW_LABEL)
        held.update(index[len(index) - max(n_hold, 0) :])
    train = [e for i, e in enumerate(examples) if i not in held]
    return train, [e for i, e in enumerate(examples) if i in held]


def example_weights(
    rows: list[dict[str, Any]], rules: RetrainConfig
) -> tuple[list[float], dict[str, Any]]:
    """Sample weights of training rows (``label``, ``origin`` "base" or "feedback",
    ``base_weight``) and, for the decision record, how they came about per label.

    raw = base_weight, × feedback_weight for feedback. With balance_labels, a label whose
    raw total is below the floor (the median over labels of the base rows' total) is scaled
    up to it; a boosted weight stops at max_weight (a raw weight above it stays as it is).
    """
    labels = np.array([r["label"] for r in rows], dtype=object)
    fb = np.array([r["origin"] == "feedback" for r in rows], dtype=bool)
    own = np.array([r["base_weight"] for r in rows], dtype=np.float64)
    raw = np.where(fb, own * rules.feedback_weight, own)
    names = sorted(set(labels))
    base_totals = [own[(labels == lab) & ~fb].sum() for lab in names if (~fb[labels == lab]).any()]
    floor = float(np.median(base_totals)) if base_totals else 0.0
    weights, per_label = raw.copy(), {}
    for lab in names:
        m = labels == lab
        boost = max(1.0, floor / raw[m].sum()) if rules.balance_labels else 1.0
        weights[m] = np.minimum(raw[m] * boost, np.maximum(raw[m], rules.max_weight))
        per_label[lab] = {
            "examples": int(m.sum()),
            "feedback_examples": int((m & fb).sum()),
            "boost": round(boost, 4),
            "weight_each": {  # the mean: equal within an origin unless the data gave weights
                origin: round(float(weights[m & sel].mean()), 4) if (m & sel).any() else None
                for origin, sel in (("base", ~fb), ("feedback", fb))
            },
            "total": round(float(weights[m].sum()), 4),
            "capped": int((weights[m] < raw[m] * boost - 1e-9).sum()),  # held back by the cap
        }
    record = {
        "feedback_weight": rules.feedback_weight,
        "balance_labels": rules.balance_labels,
        "max_weight": rules.max_weight,
        "floor": round(floor, 4),
        "labels": per_label,
    }
    return [float(w) for w in weights], record


def _base(current_run: Path) -> tuple[dict[str, tuple[str, float]], list[dict[str, str]]]:
    """(training texts → (label, base weight), fixed holdout) of the current run."""
    dataset = runs.load_run_data(current_run, 1, "retrain from a run whose data file exists")
    splits = runs.read_json(current_run / Run.SPLITS)
    held = current_run / "holdouts.json"
    if held.is_file():
        fixed = runs.read_json(held)["fixed"]
        test = set()
    else:  # a run of tfcls.train: its test split becomes the fixed holdout, for good
        test = {int(i) for i in splits["test"]}
        fixed = [
            {"text": dataset.examples[i].text, "label": dataset.examples[i].label} for i in test
        ]
    fixed_texts = {f["text"] for f in fixed}
    own = _own_weights(current_run, dataset)
    base = {
        e.text: (e.label, own[i])
        for i, e in enumerate(dataset.examples)
        if i not in test and e.text not in fixed_texts
    }
    return base, fixed


def _own_weights(current_run: Path, dataset: Any) -> list[float]:
    """Each example's weight before retrain's factors: the data file's, or for data that
    retrain wrote, the ``base_weight`` it recorded, so that boosts never compound."""
    if not (current_run / "retrain_config.json").is_file():
        return [e.weight for e in dataset.examples]
    lines = Path(dataset.path).read_text(encoding="utf-8").split("\n")
    rows = [json.loads(lines[int(e.source.rpartition(":")[2]) - 1]) for e in dataset.examples]
    return [
        float(r.get("base_weight", e.weight)) for r, e in zip(rows, dataset.examples, strict=True)
    ]


def plan(
    config: Config, current_run: Path, rows: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """What a candidate of ``current_run`` learns from feedback ``rows``: (training rows
    ``{text, label, weight, origin, base_weight}``, holdouts, record of the data)."""
    examples, report = feedback_examples(rows)
    base, fixed = _base(current_run)
    known = {label for label, _ in base.values()}
    counts = Counter(e["label"] for e in examples)
    pending = {
        label: n
        for label, n in counts.items()
        if label not in known and n < config.retrain.min_examples_new_label
    }
    fixed_texts = {f["text"] for f in fixed}
    examples = [e for e in examples if e["label"] not in pending and e["text"] not in fixed_texts]
    new_labels = sorted({e["label"] for e in examples} - known)
    train_fb, recent = split_recent(examples, config.retrain.recent_holdout, new_labels)
    recent_texts = {e["text"] for e in recent}
    data = {
        t: {"text": t, "label": label, "origin": "base", "base_weight": w}
        for t, (label, w) in base.items()
        if t not in recent_texts
    }
    overridden = sum(
        1 for e in train_fb if e["text"] in data and data[e["text"]]["label"] != e["label"]
    )
    for e in train_fb:
        data[e["text"]] = {"text": e["text"], "label": e["label"], "origin": "feedback"}
        data[e["text"]]["base_weight"] = 1.0
    training = list(data.values())
    weights, weighting = example_weights(training, config.retrain)
    for row, w in zip(training, weights, strict=True):
        row["weight"] = round(w, 6)
    record = {
        "feedback": report,
        "pending_new_labels": pending,
        "new_labels": new_labels,
        "training_examples": len(training),
        "feedback_training_examples": len(train_fb),
        "base_labels_overridden": overridden,
        "holdouts": {"fixed": len(fixed), "recent_feedback": len(recent)},
        "recent_feedback_labels": dict(Counter(e["label"] for e in recent)),
        "weights": weighting,
    }
    return training, {"fixed": fixed, "recent_feedback": recent}, record
