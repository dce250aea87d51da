"""The promotion gate (retrain step 5): score both models on the holdouts, then decide.

:func:`holdout_scores` is a run's accuracy on each holdout, overall and per label;
:func:`gate` promotes a candidate only if no holdout's accuracy drops by more than
``retrain.tolerance`` and it has learned the recent feedback (enough accuracy on it, and
not every held-out text of a new label missed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tfcls.config import RetrainConfig

NEW_LABEL_MIN_HOLDOUT = 3  # held-out texts of a new label before "all missed" refuses


def holdout_scores(
    run_dir: Path, holdouts: dict[str, list[dict[str, Any]]]
) -> dict[str, dict[str, Any]]:
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
