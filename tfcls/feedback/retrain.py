"""``python -m tfcls.retrain [--config FILE] [--dry-run]``: learn from feedback, promote if better.

1. **Feedback → examples.** ``corrected`` and ``new_category`` verdicts label their text
   with ``chosen_label``; ``accepted`` ones confirm the label shown (``chosen_label`` or
   else ``predicted_label``); ``rejected`` verdicts without a chosen label are no examples.
   Texts are cleaned and joined as everywhere (``title. description``) and deduplicated:
   each client's latest verdict on a text counts; when clients disagree the majority wins
   (ties: the most recent verdict) and the conflict is reported. A new category becomes a
   label once it has ``retrain.min_examples_new_label`` examples; until then its examples
   wait (reported). A human verdict overrides the base data's label for the same text.
2. **Holdouts, never trained on:** the fixed test split of the base data (carried from run
   to run in ``holdouts.json``) and recent feedback: the newest ``retrain.recent_holdout``
   share of the examples of known labels and, of each new label, its newest ``ceil(share
   · n)`` while 3 stay to learn from: some of each new label, never all (deterministic).
3. **Weights: human verdicts count.** Each row of the candidate's data has a ``weight``: a
   base example its data file's (1 unless given), a feedback example
   ``retrain.feedback_weight`` (3) times that. With ``retrain.balance_labels``, a label
   whose total is below the floor (the median base label's total) has all its examples
   scaled up to reach it, none past ``retrain.max_weight`` (20): nine verdicts of a new
   label beside labels of ~95 weigh ≈ 10.6 each, not 1. Adam does not care about the
   loss's overall scale, so weights are not normalised. They are recomputed from base
   weights every retrain (never compounded) and listed per label in the decision record.
4. **Candidate:** the current run's training data plus the feedback examples, trained as
   ``tfcls.train`` does with the current run's hyperparameters (``retrain.tune: true``
   searches again) on the current run's encoder, fine-tuned or not: only the head is
   refitted and only texts the embedding cache lacks are embedded (seconds). It adapts the
   encoder again only when ``retrain.adapt_encoder`` is true and the current run adapted
   it (``train.adapt_layers``, starting again from the run's base encoder; minutes on
   CPU); contrastive tuning stays off. Calibration is cross-fitted on the heads only, so
   base texts (which the reused encoder has seen) look a little easier out of fold than
   they are: one reason to adapt the encoder again now and then.
5. **Gate:** both models are scored on the same holdouts; the candidate is promoted only if
   no holdout's accuracy drops by more than ``retrain.tolerance`` and it has learned the
   feedback: it is refused when its accuracy on a recent-feedback holdout of at least
   ``retrain.min_holdout_to_judge`` texts is below ``retrain.min_feedback_accuracy``, or
   when it misses all of a new label's held-out texts (3 or more). The decision (metrics
   per holdout and label, weights, verdict, reasons) is written to the candidate's run
   directory (``decision.json``) and printed. Promotion exports the candidate and switches
   ``exported/current.json`` atomically; a running server picks it up without a restart.
   A crash anywhere leaves the served model as it was.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tfcls.config import Config, RetrainConfig, to_dict
from tfcls.data.text import join_title_description
from tfcls.training import runs
from tfcls.training.runs import Run

MIN_TRAIN_NEW_LABEL = 3  # examples a new label keeps for training (data.min_per_label)
NEW_LABEL_MIN_HOLDOUT = 3  # held-out texts of a new label before "all missed" refuses


def feedback_examples(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Feedback rows → deduplicated ``{text, label, last_id}`` examples, plus a report
    (counts per action, ignored rejections, conflicts between clients)."""
    report: dict[str, Any] = {"rows": len(rows), "by_action": Counter(), "ignored": 0}
    latest: dict[str, dict[str, tuple[int, str]]] = {}  # text → client → (id, label)
    for row in sorted(rows, key=lambda r: r["id"]):
        report["by_action"][row["action"]] += 1
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


def _scores(run_dir: Path, holdouts: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """A run's accuracy on each holdout, overall and per label (``right`` of ``n``)."""
    from tfcls.decision.predictor import Predictor

    predictor, out = None, {}
    for name, items in holdouts.items():
        if not items:
            out[name] = {"n": 0, "accuracy": None, "by_label": {}}
            continue
        predictor = predictor or Predictor(run_dir)
        proba = predictor.predict_proba([it["text"] for it in items])
        predicted = [predictor.labels[j] for j in proba.argmax(axis=1)]
        tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for p, it in zip(predicted, items, strict=True):
            tally[it["label"]][0] += p == it["label"]
            tally[it["label"]][1] += 1
        out[name] = {
            "n": len(items),
            "accuracy": sum(r for r, _ in tally.values()) / len(items),
            "by_label": {
                label: {"n": n, "right": r, "accuracy": round(r / n, 4)}
                for label, (r, n) in sorted(tally.items())
            },
        }
    return out


def gate(
    current: dict[str, dict[str, Any]],
    candidate: dict[str, dict[str, Any]],
    rules: RetrainConfig,
    new_labels: Sequence[str] = (),
) -> tuple[bool, list[str]]:
    """Promote only if no holdout's accuracy drops by more than ``rules.tolerance`` and the
    candidate has learned the recent feedback (``_learned``)."""
    reasons, ok = [], True
    for name, cur in current.items():
        cand = candidate[name]
        if cur["n"] == 0:
            reasons.append(f"{name}: empty, not compared")
            continue
        delta = cand["accuracy"] - cur["accuracy"]
        verdict = "worse beyond tolerance" if delta < -rules.tolerance else "within tolerance"
        if delta < -rules.tolerance:
            ok = False
        reasons.append(
            f"{name} (n={cur['n']}): accuracy {cur['accuracy']:.4f} → {cand['accuracy']:.4f} "
            f"({delta:+.4f}, {verdict} {rules.tolerance})"
        )
    learned, more = _learned(candidate.get("recent_feedback"), rules, new_labels)
    return ok and learned, reasons + more


def _learned(
    scores: dict[str, Any] | None, rules: RetrainConfig, new_labels: Sequence[str]
) -> tuple[bool, list[str]]:
    """Whether the candidate learned the recent-feedback holdout: not if its accuracy is
    below ``min_feedback_accuracy`` on ``min_holdout_to_judge`` or more texts, nor if it
    misses every held-out text of a new label (``NEW_LABEL_MIN_HOLDOUT`` or more)."""
    if not scores or not scores["n"]:
        return True, []
    ok, reasons = True, []
    n, accuracy = scores["n"], scores["accuracy"]
    if n < rules.min_holdout_to_judge:
        reasons.append(
            f"recent_feedback: {n} text(s), fewer than retrain.min_holdout_to_judge="
            f"{rules.min_holdout_to_judge}: too few to judge its accuracy"
        )
    elif accuracy < rules.min_feedback_accuracy:
        ok = False
        reasons.append(
            f"recent_feedback (n={n}): candidate accuracy {accuracy:.4f} is below "
            f"retrain.min_feedback_accuracy {rules.min_feedback_accuracy}: it has not "
            "learned the feedback"
        )
    for label in new_labels:
        got = (scores.get("by_label") or {}).get(label)
        if not got:
            continue
        reason = (
            f"new label {label!r}: the candidate predicts it for {got['right']} of its "
            f"{got['n']} held-out feedback texts"
        )
        if got["n"] >= NEW_LABEL_MIN_HOLDOUT and got["right"] == 0:
            ok = False
            reason += ": it has not learned the label"
        reasons.append(reason)
    return ok, reasons


def retrain(config: Config, dry_run: bool = False) -> dict[str, Any]:
    """Run the whole loop; return the decision record (the candidate's decision.json)."""
    from tfcls.bundle.registry import Registry
    from tfcls.feedback.store import FeedbackStore

    start = time.perf_counter()
    exported = Path(config.serving.exported)
    version, meta = Registry(exported).require_metadata()
    current_run = Path(meta["run"])
    store = FeedbackStore.open(config.storage)
    try:
        rows = store.rows()
    finally:
        store.close()
    training, holdouts, planned = plan(config, current_run, rows)
    record: dict[str, Any] = {"current_version": version, "current_run": str(current_run)}
    record.update(planned)
    if dry_run:
        record["verdict"] = "dry run: nothing trained"
        return record
    if not record["feedback_training_examples"]:
        record["verdict"] = "nothing to learn: no new feedback examples to train on"
        return record
    marker = Path(config.train.output_dir) / runs.LATEST
    latest_before = marker.read_text(encoding="utf-8") if marker.is_file() else None
    candidate = _train_candidate(config, current_run, training)
    runs.write_json(
        candidate / "holdouts.json",
        {"fixed": holdouts["fixed"], "recent": holdouts["recent_feedback"]},
    )
    cur, cand = _scores(current_run, holdouts), _scores(candidate, holdouts)
    promote, reasons = gate(cur, cand, config.retrain, record["new_labels"])
    record.update(
        candidate_run=str(candidate),
        current=cur,
        candidate=cand,
        tolerance=config.retrain.tolerance,
        promoted=promote,
        reasons=reasons,
        retrain_seconds=round(time.perf_counter() - start, 1),
    )
    _settle(record, candidate, config, latest_before)
    record["total_seconds"] = round(time.perf_counter() - start, 1)
    runs.write_json(candidate / "decision.json", record)
    return record


def _settle(
    record: dict[str, Any], candidate: Path, config: Config, latest_before: str | None
) -> None:
    """Export a promoted candidate; for a refused one restore the LATEST marker, so that it
    does not become what ``tfcls.predict`` uses by default. Sets the record's verdict."""
    from tfcls.bundle.export import export

    version = record["current_version"]
    if record["promoted"]:
        bundle = export(candidate, Path(config.serving.exported), config.retrain.quantize)
        record["promoted_version"] = bundle["version"]
        record["verdict"] = f"promoted: {bundle['version']} replaces {version}"
        return
    marker = Path(config.train.output_dir) / runs.LATEST
    if latest_before is None:
        marker.unlink(missing_ok=True)
    else:
        runs.write_text_atomic(marker, latest_before)
    record["verdict"] = f"refused: {version} stays current"


def _train_candidate(config: Config, current_run: Path, rows: list[dict[str, Any]]) -> Path:
    """Train on ``rows`` (text, label, weight, ...) the way the current run was trained,
    on its encoder; the encoder is tuned again only with ``retrain.adapt_encoder``."""
    from tfcls.config import load_config
    from tfcls.training.pipeline import train

    cfg = load_config(current_run / Run.CONFIG)
    cfg.storage, cfg.serving, cfg.retrain = config.storage, config.serving, config.retrain
    cfg.train.output_dir = config.train.output_dir
    cfg.train.contrastive = False
    base = runs.read_json(current_run / Run.INFO).get("base_encoder")
    if not config.retrain.adapt_encoder:
        cfg.train.adapt_layers = 0  # heads only, on the current run's (adapted) encoder
    elif base:  # adapt again from where the current run started, not on top of it
        cfg.encoder.handle, cfg.encoder.preprocessor = base["handle"], base["preprocessor"]
    cfg.data.test_fraction = 0.0  # the holdouts are the test sets
    if not config.retrain.tune:
        best = current_run / Run.BEST_HPARAMS
        if best.is_file():
            for key, value in runs.read_json(best).items():
                setattr(cfg.model, key, value)
        cfg.tuner.enabled = False
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    folder = Path(cfg.train.output_dir) / "retrain-data"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stamp}.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    run_dir = train(cfg, data=path, name=f"retrain-{stamp}").run_dir
    runs.write_json(run_dir / "retrain_config.json", to_dict(config.retrain))
    return run_dir
