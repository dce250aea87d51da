"""Feedback → the candidate's data: examples, holdouts and weights (retrain steps 1–3).

:func:`feedback_examples` turns verdicts into deduplicated examples (each client's latest
verdict on a text; the majority across clients, ties to the most recent);
:func:`bound_influence` keeps any one client from pushing examples through alone;
:func:`split_recent` holds out the newest feedback, per client; :func:`example_weights` weighs human
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


def labels_of(item: dict[str, Any]) -> tuple[str, ...]:
    """The labels of an example, holdout item or training row: its ``labels`` (a
    multi-label set) or its one ``label``."""
    return tuple(item["labels"]) if "labels" in item else (item["label"],)


def _verdict_labels(row: dict[str, Any], multi_label: bool) -> tuple[Any, str | None]:
    """(the label, or for ``multi_label`` the sorted label set, that a feedback row gives
    its text; or None and the report counter the row goes to instead). Accepted verdicts
    confirm what was shown (the chosen labels, else the predicted ones); corrected and new
    verdicts give the chosen ones; rejected verdicts only when the person chose some."""
    has_sets = row.get("chosen_labels") is not None or row.get("predicted_labels") is not None
    if has_sets != multi_label:  # a verdict on the other kind of model: counted, not read
        return None, "label_sets_ignored" if has_sets else "single_labels_ignored"
    suffix = "_labels" if multi_label else "_label"
    chosen = row.get("chosen" + suffix)
    if row["action"] == "accepted" and not chosen:
        chosen = row.get("predicted" + suffix)
    if multi_label:
        labels = tuple(sorted({lab.strip() for lab in chosen or () if lab and lab.strip()}))
        return (labels, None) if labels else (None, "ignored")
    if not chosen or not chosen.strip():
        return None, "ignored"
    return chosen.strip(), None


def _shown(key: Any) -> str:
    """A vote's key as the report shows it: the label, or a set's labels joined by |."""
    return key if isinstance(key, str) else "|".join(key)


def feedback_examples(
    rows: list[dict[str, Any]], multi_label: bool = False
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Feedback rows → deduplicated ``{text, label, last_id, clients}`` examples
    (``multi_label``: ``labels``, a verdict's whole label set; ``clients``: the distinct
    clients whose latest verdict on the text gave that label), plus a report (counts per
    action, ignored rows, verdicts on the other kind of model set aside, conflicts between
    clients). A set is one vote: clients who chose different sets disagree."""
    report: dict[str, Any] = {
        "rows": len(rows),
        "by_action": Counter(),
        "ignored": 0,
        "label_sets_ignored": 0,
    }
    if multi_label:
        report["single_labels_ignored"] = 0
    latest: dict[str, dict[str, tuple[int, Any]]] = {}  # text → client → (id, label or set)
    for row in sorted(rows, key=lambda r: r["id"]):
        report["by_action"][row["action"]] += 1
        label, set_aside = _verdict_labels(row, multi_label)
        text = join_title_description(row["title"], row.get("description") or "")
        if set_aside is None and not text:
            set_aside = "ignored"
        if set_aside is not None:
            report[set_aside] += 1
            continue
        latest.setdefault(text, {})[row["client_id"]] = (row["id"], label)
    examples, conflicts = [], []
    field = "labels" if multi_label else "label"
    for text, by_client in latest.items():
        votes = Counter(label for _, label in by_client.values())
        last_id, last_label = max(by_client.values())
        top = max(votes.values())
        winners = {label for label, n in votes.items() if n == top}
        label = last_label if last_label in winners else sorted(winners)[0]
        if len(votes) > 1:
            shown = {_shown(k): n for k, n in votes.items()}
            conflicts.append({"text": text, "votes": shown, "chosen": _shown(label)})
        value = list(label) if multi_label else label
        clients = sorted(c for c, (_, voted) in by_client.items() if voted == label)
        examples.append({"text": text, field: value, "last_id": last_id, "clients": clients})
    examples.sort(key=lambda e: e["last_id"])
    report["by_action"] = dict(report["by_action"])
    report["examples"] = len(examples)
    report["conflicts"] = conflicts
    return examples, report


def bound_influence(
    examples: list[dict[str, Any]],
    base: dict[str, tuple[tuple[str, ...], float]],
    rules: RetrainConfig,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(kept, discarded) examples: what no single client can push through alone.

    Oldest verdict first, an example is discarded when it contradicts the base data's
    label of its text (``base``: text → labels) with fewer than
    ``rules.min_agreeing_clients`` distinct clients agreeing, or when every client behind
    it has already given ``rules.max_examples_per_client`` kept examples. A kept example
    is charged to the first of its clients with room left, so no client accounts for more
    than that many. Each discarded example says why (``reason``), for ``--dry-run``."""
    used: Counter[str] = Counter()
    kept, discarded = [], []
    for e in sorted(examples, key=lambda e: e["last_id"]):
        clients = e["clients"]
        known = base.get(e["text"])
        reason = None
        contradicts = known is not None and set(known[0]) != set(labels_of(e))
        if contradicts and len(clients) < rules.min_agreeing_clients:
            reason = (
                f"contradicts the base label {_shown(tuple(known[0]))!r} with "
                f"{len(clients)} of retrain.min_agreeing_clients="
                f"{rules.min_agreeing_clients} distinct clients agreeing"
            )
        room = [c for c in clients if used[c] < rules.max_examples_per_client]
        if reason is None and not room:
            reason = (
                f"its clients gave retrain.max_examples_per_client="
                f"{rules.max_examples_per_client} examples already"
            )
        if reason is not None:
            discarded.append({**e, "reason": reason})
            continue
        used[room[0]] += 1
        kept.append({**e, "client": room[0]})  # the client it is charged to
    return kept, discarded


def _held_per_client(examples: list[dict[str, Any]], index: list[int], n: int) -> list[int]:
    """Up to ``n`` of ``index`` (rows of ``examples``, oldest first) to hold out: each
    client's newest first, round-robin over the clients (newest verdict first), and no
    client more than ``ceil(n / clients)``, so a flood from one client cannot make up the
    holdout the gate judges by. Examples without a ``client`` are one client's."""
    queues: dict[Any, list[int]] = defaultdict(list)
    for i in reversed(index):
        queues[examples[i].get("client")].append(i)
    cap = math.ceil(n / len(queues)) if queues else 0
    order = sorted(queues.values(), key=lambda q: -examples[q[0]]["last_id"])
    held: list[int] = []
    for rank in range(cap):
        for queue in order:
            if rank < len(queue) and len(held) < n:
                held.append(queue[rank])
    return held


def split_recent(
    examples: list[dict[str, Any]], share: float, new_labels: Sequence[str] = ()
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(train, holdout) of examples sorted by last verdict, both kept in that order: the
    newest ``share`` of the examples of known labels, plus of each of ``new_labels`` its
    newest ``ceil(share · n)`` examples while ``MIN_TRAIN_NEW_LABEL`` stay for training
    (a label set holding new labels counts as an example of the first of them). "Newest"
    is per client (:func:`_held_per_client`): every client's newest verdicts, none more
    than an equal share, so the holdout may be smaller than ``share`` under a flood."""
    groups: dict[str | None, list[int]] = defaultdict(list)
    for i, e in enumerate(examples):
        new = sorted(set(labels_of(e)) & set(new_labels))
        groups[new[0] if new else None].append(i)
    held: set[int] = set()
    for label, index in groups.items():
        if label is None:
            n_hold = round(share * len(index))
        else:  # - 1e-9: 0.2 · 15 is 3.0000000000000004 in floating point
            n_hold = min(math.ceil(share * len(index) - 1e-9), len(index) - MIN_TRAIN_NEW_LABEL)
        held.update(_held_per_client(examples, index, max(n_hold, 0)))
    train = [e for i, e in enumerate(examples) if i not in held]
    return train, [e for i, e in enumerate(examples) if i in held]


def example_weights(
    rows: list[dict[str, Any]], rules: RetrainConfig
) -> tuple[list[float], dict[str, Any]]:
    """Sample weights of training rows (``label`` or a ``labels`` set, ``origin`` "base" or
    "feedback", ``base_weight``) and, for the decision record, how they came about per label.

    raw = base_weight, × feedback_weight for feedback. With balance_labels, a label whose
    raw total is below the floor (the median over labels of the base rows' total) is scaled
    up to it; a boosted weight stops at max_weight (a raw weight above it stays as it is).
    A row of several labels (multi-label) takes the largest boost among them, so that each
    of its labels gets at least its own.
    """
    member = _label_members(rows)
    fb = np.array([r["origin"] == "feedback" for r in rows], dtype=bool)
    own = np.array([r["base_weight"] for r in rows], dtype=np.float64)
    raw = np.where(fb, own * rules.feedback_weight, own)
    base_totals = [own[m & ~fb].sum() for m in member.values() if (m & ~fb).any()]
    floor = float(np.median(base_totals)) if base_totals else 0.0
    boosts = {
        lab: max(1.0, floor / raw[m].sum()) if rules.balance_labels else 1.0
        for lab, m in member.items()
    }
    boost = np.ones(len(rows))
    for lab, m in member.items():
        boost[m] = np.maximum(boost[m], boosts[lab])
    weights = np.minimum(raw * boost, np.maximum(raw, rules.max_weight))
    per_label = {}
    for lab, m in member.items():
        per_label[lab] = {
            "examples": int(m.sum()),
            "feedback_examples": int((m & fb).sum()),
            "boost": round(boosts[lab], 4),
            "weight_each": {  # the mean: equal within an origin unless the data gave weights
                origin: round(float(weights[m & sel].mean()), 4) if (m & sel).any() else None
                for origin, sel in (("base", ~fb), ("feedback", fb))
            },
            "total": round(float(weights[m].sum()), 4),
            "capped": int((weights[m] < (raw * boost)[m] - 1e-9).sum()),  # held back by the cap
        }
    record = {
        "feedback_weight": rules.feedback_weight,
        "balance_labels": rules.balance_labels,
        "max_weight": rules.max_weight,
        "floor": round(floor, 4),
        "labels": per_label,
    }
    return [float(w) for w in weights], record


def _label_members(rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """label → which rows carry it (sorted by label)."""
    sets = [set(labels_of(r)) for r in rows]
    names = sorted(set().union(*sets)) if sets else []
    return {lab: np.array([lab in s for s in sets], dtype=bool) for lab in names}


def _item(text: str, labels: tuple[str, ...], multi_label: bool) -> dict[str, Any]:
    """``{text, label}``, or for a multi-label run ``{text, labels}``."""
    return (
        {"text": text, "labels": list(labels)}
        if multi_label
        else {"text": text, "label": labels[0]}
    )


def _base(
    current_run: Path, multi_label: bool
) -> tuple[dict[str, tuple[tuple[str, ...], float]], list[dict[str, Any]]]:
    """(training texts → (labels, base weight), fixed holdout) of the current run."""
    what_to_do = "retrain from a run whose data file exists"
    if multi_label:
        dataset = Run(current_run).label_sets(what_to_do)
        labels = [e.labels for e in dataset.examples]
    else:
        dataset = runs.load_run_data(current_run, 1, what_to_do)
        labels = [(e.label,) for e in dataset.examples]
    splits = runs.read_json(current_run / Run.SPLITS)
    held = current_run / "holdouts.json"
    if held.is_file():
        fixed = runs.read_json(held)["fixed"]
        test = set()
    else:  # a run of tfcls.train: its test split becomes the fixed holdout, for good
        test = {int(i) for i in splits["test"]}
        fixed = [_item(dataset.examples[i].text, labels[i], multi_label) for i in test]
    fixed_texts = {f["text"] for f in fixed}
    own = _own_weights(current_run, dataset)
    base = {
        e.text: (labels[i], own[i])
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


def _overriding(feedback: list[dict[str, Any]], data: dict[str, dict[str, Any]]) -> int:
    """How many feedback examples give a base text (in ``data``) other labels."""
    return sum(
        1
        for e in feedback
        if e["text"] in data and set(labels_of(data[e["text"]])) != set(labels_of(e))
    )


def plan(
    config: Config, current_run: Path, rows: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """What a candidate of ``current_run`` learns from feedback ``rows``: (training rows
    ``{text, label, weight, origin, base_weight}``, holdouts, record of the data). For a
    multi-label run the rows and holdout items carry ``labels`` (a set) instead of
    ``label``, and an example whose set holds a label still pending waits whole."""
    multi = Run(current_run).task() == "multi_label"
    examples, report = feedback_examples(rows, multi)
    base, fixed = _base(current_run, multi)
    examples, discarded = bound_influence(examples, base, config.retrain)
    report["discarded"] = len(discarded)
    known = {label for labels, _ in base.values() for label in labels}
    counts = Counter(label for e in examples for label in labels_of(e))
    pending = {
        label: n
        for label, n in counts.items()
        if label not in known and n < config.retrain.min_examples_new_label
    }
    fixed_texts = {f["text"] for f in fixed}
    kept = [e for e in examples if not set(labels_of(e)) & pending.keys()]
    waiting = len(examples) - len(kept)
    examples = [e for e in kept if e["text"] not in fixed_texts]
    new_labels = sorted({label for e in examples for label in labels_of(e)} - known)
    train_fb, recent = split_recent(examples, config.retrain.recent_holdout, new_labels)
    recent_texts = {e["text"] for e in recent}
    data = {
        t: {**_item(t, labels, multi), "origin": "base", "base_weight": w}
        for t, (labels, w) in base.items()
        if t not in recent_texts
    }
    overridden = _overriding(train_fb, data)
    for e in train_fb:
        data[e["text"]] = {**_item(e["text"], labels_of(e), multi), "origin": "feedback"}
        data[e["text"]]["base_weight"] = 1.0
    training = list(data.values())
    weights, weighting = example_weights(training, config.retrain)
    for row, w in zip(training, weights, strict=True):
        row["weight"] = round(w, 6)
    record = {
        "task": "multi_label" if multi else "single_label",
        "feedback": report,
        "pending_new_labels": pending,
        "examples_waiting": waiting,  # for pending labels (single-label: their sum)
        "feedback_on_fixed_holdout": len(kept) - len(examples),  # the fixed holdout's texts
        "new_labels": new_labels,
        "training_examples": len(training),
        "feedback_training_examples": len(train_fb),
        "base_labels_overridden": overridden,
        "holdouts": {"fixed": len(fixed), "recent_feedback": len(recent)},
        "recent_feedback_labels": dict(Counter(lab for e in recent for lab in labels_of(e))),
        "weights": weighting,
        "discarded": [  # what no single client could push through alone, and why
            {"text": d["text"], "labels": list(labels_of(d)), "reason": d["reason"]}
            for d in discarded
        ],
    }
    return training, {"fixed": fixed, "recent_feedback": recent}, record
