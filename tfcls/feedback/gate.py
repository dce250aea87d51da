"""The promotion gate (retrain step 5): score both models on the holdouts, then decide.

:func:`holdout_scores` is a run's accuracy on each holdout, overall and per label (a
multi-label run's: subset accuracy, the whole label set right, and macro-F1; its docstring
says why); :func:`gate` promotes a candidate only if no holdout's accuracy drops by more
than ``retrain.tolerance`` (multi-label: neither subset accuracy nor macro-F1) and it has
learned the recent feedback (enough accuracy on it, and not every held-out text of a new
label missed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tfcls.config import RetrainConfig
from tfcls.feedback.examples import labels_of

NEW_LABEL_MIN_HOLDOUT = 3  # held-out texts of a new label before "all missed" refuses


SUBSET_ACCURACY = "subset accuracy"  # a multi-label holdout's measure: the whole set right


def holdout_scores(
    run_dir: Path, holdouts: dict[str, list[dict[str, Any]]]
) -> dict[str, dict[str, Any]]:
    """A run's accuracy on each holdout, overall and per label (``right`` of ``n``).

    A multi-label run (items with ``labels``) is judged by subset accuracy: a text is right
    when its predicted label set is the set the person (or the data) gave. It is what a
    person judges in the client (a verdict accepts or corrects a whole set), it means the
    same on holdouts of any size and label mix (a few texts lack most labels), and with
    one label a text it is plain accuracy, so
    ``retrain.tolerance`` and ``retrain.min_feedback_accuracy`` mean what they mean for
    single-label runs. But subset accuracy alone is blind where few whole sets come out
    right (a weak or many-label model: 0 → 0 hides a regression of single labels), so
    macro-F1 over the holdout's labels is gated beside it, with the same tolerance. Per
    label, ``right`` counts the texts carrying the label whose predicted set holds it
    (recall)."""
    from tfcls.training.runs import Run

    multi = Run(run_dir).task() == "multi_label"
    predict, out = None, {}
    for name, items in holdouts.items():
        if not items:
            out[name] = {"n": 0, "accuracy": None, "by_label": {}}
            continue
        predict = predict or _predictor(run_dir, multi)
        predicted = predict([it["text"] for it in items])
        out[name] = _score(items, predicted, multi)
    return out


def _predictor(run_dir: Path, multi_label: bool) -> Callable[[list[str]], list[set[str]]]:
    """texts → each text's predicted labels (a set; single-label: the top label)."""
    if multi_label:
        from tfcls.decision.label_predictor import LabelSetPredictor

        sets = LabelSetPredictor(run_dir, purpose="retraining").predict_sets
        return lambda texts: [set(s) for s in sets(texts)]
    from tfcls.decision.predictor import Predictor

    predictor = Predictor(run_dir)

    def top(texts: list[str]) -> list[set[str]]:
        proba = predictor.predict_proba(texts)
        return [{predictor.labels[j]} for j in proba.argmax(axis=1)]

    return top


def _score(items: list[dict[str, Any]], predicted: list[set[str]], multi: bool) -> dict[str, Any]:
    """One holdout's scores (see :func:`holdout_scores`)."""
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    right = 0
    for p, it in zip(predicted, items, strict=True):
        truth = set(labels_of(it))
        right += p == truth
        for label in truth:
            tally[label][0] += label in p
            tally[label][1] += 1
    scores: dict[str, Any] = {"n": len(items), "accuracy": right / len(items)}
    if multi:
        scores["measure"] = SUBSET_ACCURACY
        scores["macro_f1"] = round(_macro_f1(items, predicted), 4)
    scores["by_label"] = {
        label: {"n": n, "right": r, "accuracy": round(r / n, 4)}
        for label, (r, n) in sorted(tally.items())
    }
    return scores


def _macro_f1(items: list[dict[str, Any]], predicted: list[set[str]]) -> float:
    """Macro-F1 over the labels the holdout holds: the same labels for every model judged
    on it (one that knows more labels is not scored on more); a label predicted outside
    them still costs subset accuracy."""
    from tfcls.evaluation.multilabel_metrics import macro_f1

    truth = [set(labels_of(it)) for it in items]
    labels = sorted(set().union(*truth))
    y = np.array([[lab in t for lab in labels] for t in truth], dtype=np.int8)
    p = np.array([[lab in s for lab in labels] for s in predicted], dtype=np.int8)
    return macro_f1(y, p)


def gate(
    current: dict[str, dict[str, Any]],
    candidate: dict[str, dict[str, Any]],
    rules: RetrainConfig,
    new_labels: Sequence[str] = (),
) -> tuple[bool, list[str]]:
    """Promote only if no holdout's accuracy (multi-label: subset accuracy, and macro-F1
    over the holdout's labels) drops by more than ``rules.tolerance`` and the candidate has
    learned the recent feedback (``_learned``)."""
    reasons, ok = [], True
    for name, cur in current.items():
        cand = candidate[name]
        if cur["n"] == 0:
            reasons.append(f"{name}: empty, not compared")
            continue
        measures = {"accuracy": cur.get("measure", "accuracy")}
        if "macro_f1" in cur:  # multi-label: a regression of single labels counts too
            measures["macro_f1"] = "macro-F1"
        for key, measure in measures.items():
            delta = cand[key] - cur[key]
            verdict = "worse beyond tolerance" if delta < -rules.tolerance else "within tolerance"
            if delta < -rules.tolerance:
                ok = False
            reasons.append(
                f"{name} (n={cur['n']}): {measure} {cur[key]:.4f} → {cand[key]:.4f} "
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
    n, accuracy, measure = scores["n"], scores["accuracy"], scores.get("measure", "accuracy")
    if n < rules.min_holdout_to_judge:
        reasons.append(
            f"recent_feedback: {n} text(s), fewer than retrain.min_holdout_to_judge="
            f"{rules.min_holdout_to_judge}: too few to judge its accuracy"
        )
    elif accuracy < rules.min_feedback_accuracy:
        ok = False
        reasons.append(
            f"recent_feedback (n={n}): candidate {measure} {accuracy:.4f} is below "
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
