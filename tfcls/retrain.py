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
   to run in ``holdouts.json``) and the newest ``retrain.recent_holdout`` share of feedback
   examples.
3. **Candidate:** the current run's training data plus the feedback examples, trained as
   ``tfcls.train`` does with the current run's hyperparameters (``retrain.tune: true``
   searches again). Only texts the embedding cache has not seen are embedded.
4. **Gate:** candidate and current model are scored on the same holdouts; the candidate is
   promoted only if no holdout's accuracy drops by more than ``retrain.tolerance``. The
   decision (both models' metrics, verdict, reasons) is written to the candidate's run
   directory (``decision.json``) and printed. Promotion exports the candidate and switches
   ``exported/current.json`` atomically; a running server picks it up without a restart.
   A crash anywhere leaves the served model as it was.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tfcls import cli

cli.quiet_tensorflow()

import numpy as np

from tfcls import runs
from tfcls.config import Config, to_dict
from tfcls.errors import TfclsError
from tfcls.text import join_title_description


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
    examples: list[dict[str, Any]], share: float
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(train, holdout): the newest ``share`` of examples (by last verdict) is held out."""
    n_hold = round(share * len(examples))
    cut = len(examples) - n_hold
    return examples[:cut], examples[cut:]


def _base(current_run: Path) -> tuple[dict[str, str], list[dict[str, str]]]:
    """(training texts → labels, fixed holdout) of the current run."""
    dataset = runs.load_run_data(current_run, 1, "retrain from a run whose data file exists")
    splits = runs.read_json(current_run / "splits.json")
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
    base = {
        e.text: e.label
        for i, e in enumerate(dataset.examples)
        if i not in test and e.text not in fixed_texts
    }
    return base, fixed


def _accuracy(run_dir: Path, items: list[dict[str, str]]) -> dict[str, Any]:
    from tfcls.predict import Predictor

    if not items:
        return {"n": 0, "accuracy": None}
    predictor = Predictor(run_dir)
    proba = predictor.predict_proba([it["text"] for it in items])
    predicted = [predictor.labels[j] for j in proba.argmax(axis=1)]
    right = [p == it["label"] for p, it in zip(predicted, items, strict=True)]
    return {"n": len(items), "accuracy": float(np.mean(right))}


def gate(
    current: dict[str, dict[str, Any]], candidate: dict[str, dict[str, Any]], tolerance: float
) -> tuple[bool, list[str]]:
    """Promote only if no holdout's accuracy drops by more than ``tolerance``."""
    reasons, ok = [], True
    for name, cur in current.items():
        cand = candidate[name]
        if cur["n"] == 0:
            reasons.append(f"{name}: empty, not compared")
            continue
        delta = cand["accuracy"] - cur["accuracy"]
        verdict = "worse beyond tolerance" if delta < -tolerance else "within tolerance"
        if delta < -tolerance:
            ok = False
        reasons.append(
            f"{name} (n={cur['n']}): accuracy {cur['accuracy']:.4f} → {cand['accuracy']:.4f} "
            f"({delta:+.4f}, {verdict} {tolerance})"
        )
    return ok, reasons


def retrain(config: Config, dry_run: bool = False) -> dict[str, Any]:
    """Run the whole loop; return the decision record."""
    from tfcls.export import current_version, export
    from tfcls.store import FeedbackStore

    start = time.perf_counter()
    exported = Path(config.serving.exported)
    version = current_version(exported)
    if version is None:
        raise TfclsError(f"{exported}/current.json: no served model to improve on; export one")
    meta = json.loads((exported / version / "metadata.json").read_text())
    current_run = Path(meta["run"])
    store = FeedbackStore.open(config.storage)
    try:
        rows = store.rows()
    finally:
        store.close()
    examples, report = feedback_examples(rows)
    base, fixed = _base(current_run)
    counts = Counter(e["label"] for e in examples)
    known = set(base.values())
    pending = {
        label: n
        for label, n in counts.items()
        if label not in known and n < config.retrain.min_examples_new_label
    }
    examples = [e for e in examples if e["label"] not in pending]
    fixed_texts = {f["text"] for f in fixed}
    examples = [e for e in examples if e["text"] not in fixed_texts]
    train_fb, recent = split_recent(examples, config.retrain.recent_holdout)
    recent_texts = {e["text"] for e in recent}
    data = {t: lab for t, lab in base.items() if t not in recent_texts}
    overridden = sum(1 for e in train_fb if e["text"] in data and data[e["text"]] != e["label"])
    data.update({e["text"]: e["label"] for e in train_fb})
    new_labels = sorted(set(data.values()) - known)
    record: dict[str, Any] = {
        "current_version": version,
        "current_run": str(current_run),
        "feedback": report,
        "pending_new_labels": pending,
        "new_labels": new_labels,
        "training_examples": len(data),
        "feedback_training_examples": len(train_fb),
        "base_labels_overridden": overridden,
        "holdouts": {"fixed": len(fixed), "recent_feedback": len(recent)},
    }
    if dry_run:
        record["verdict"] = "dry run: nothing trained"
        return record
    if not train_fb:
        record["verdict"] = "nothing to learn: no new feedback examples to train on"
        return record
    marker = Path(config.train.output_dir) / runs.LATEST
    latest_before = marker.read_text(encoding="utf-8") if marker.is_file() else None
    candidate = _train_candidate(config, current_run, data)
    runs.write_json(candidate / "holdouts.json", {"fixed": fixed, "recent": recent})
    holdouts = {"fixed": fixed, "recent_feedback": recent}
    cur = {k: _accuracy(current_run, v) for k, v in holdouts.items()}
    cand = {k: _accuracy(candidate, v) for k, v in holdouts.items()}
    promote, reasons = gate(cur, cand, config.retrain.tolerance)
    record.update(
        candidate_run=str(candidate),
        current=cur,
        candidate=cand,
        tolerance=config.retrain.tolerance,
        promoted=promote,
        reasons=reasons,
        retrain_seconds=round(time.perf_counter() - start, 1),
    )
    if promote:
        bundle = export(candidate, exported, config.retrain.quantize)
        record["promoted_version"] = bundle["version"]
        record["verdict"] = f"promoted: {bundle['version']} replaces {version}"
    else:
        # a refused candidate must not become what `tfcls.predict` uses by default
        if latest_before is None:
            marker.unlink(missing_ok=True)
        else:
            runs.write_text_atomic(marker, latest_before)
        record["verdict"] = f"refused: {version} stays current"
    record["total_seconds"] = round(time.perf_counter() - start, 1)
    runs.write_json(candidate / "decision.json", record)
    return record


def _train_candidate(config: Config, current_run: Path, data: dict[str, str]) -> Path:
    """Train on ``data`` (text → label) the way the current run was trained."""
    from tfcls.config import load_config
    from tfcls.train import train

    cfg = load_config(current_run / "config.yaml")
    cfg.storage, cfg.serving, cfg.retrain = config.storage, config.serving, config.retrain
    cfg.train.output_dir = config.train.output_dir
    cfg.train.fine_tune = cfg.train.contrastive = False  # the encoder stays as it is
    cfg.data.test_fraction = 0.0  # the holdouts are the test sets
    if not config.retrain.tune:
        best = current_run / "best_hparams.json"
        if best.is_file():
            for key, value in runs.read_json(best).items():
                setattr(cfg.model, key, value)
        cfg.tuner.enabled = False
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    folder = Path(cfg.train.output_dir) / "retrain-data"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stamp}.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for text, label in data.items():
            f.write(json.dumps({"text": text, "label": label}, ensure_ascii=False) + "\n")
    cfg.data.path = str(path)

    class Args:
        resume, dev_mode, name = None, False, f"retrain-{stamp}"

    metrics = train(cfg, Args())
    run_dir = Path(metrics["run_dir"])
    runs.write_json(run_dir / "retrain_config.json", to_dict(config.retrain))
    return run_dir


def _parser():
    p = cli.parser("python -m tfcls.retrain", __doc__.split("\n\n")[0])
    p.add_argument(
        "--dry-run", action="store_true", help="report the data it would train on; change nothing"
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    record = retrain(cli.config_from(args), args.dry_run)
    print(json.dumps(record, indent=2, ensure_ascii=False), file=sys.stderr)
    for reason in record.get("reasons", []):
        print(reason)
    print(record["verdict"])
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
