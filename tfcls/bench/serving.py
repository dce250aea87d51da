"""``python -m tfcls.bench retrain``: retrain time after new feedback, and whether a new
category posted by a few people is learnt (``--scenario new_category``).

The feedback load benchmark (``bench feedback``) is :mod:`tfcls.bench.feedback_load`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfcls.errors import TfclsError

if TYPE_CHECKING:
    from tfcls.feedback.retrain import RetrainResult


RETRAIN_SCENARIOS = ("rows", "new_category")
NEW_LABEL = "Admin"
# The case: a new category posted for 12 titles by 3 people (new_category verdicts)
ADMIN_POSTED = [
    "File the expense report for October",
    "Send invoice to the client",
    "Submit travel reimbursement for the Berlin trip",
    "Order office supplies: printer paper and toner",
    "Fill in my timesheet for last week",
    "Renew the office parking permits",
    "Scan the conference receipts and upload them to the finance portal",
    "Update my bank details with payroll",
    "Chase the unpaid invoice from Globex",
    "Approve the purchase order for the new chairs",
    "Submit mileage claim for the client visits",
    "Pay the office electricity bill",
]
# ... and paraphrases nobody posted: the candidate should predict the new label for them
ADMIN_HELD_OUT = [
    "Submit the expense report",
    "Send the invoice to Acme",
    "Get my reimbursement form signed by finance",
    "Restock the stationery cupboard",
    "Log my hours in the timesheet tool",
    "Expense the taxi receipts from Tuesday",
    "Invoice Initech for the March work",
    "Claim back the hotel costs from the offsite",
    "Order more coffee and printer ink for the office",
    "Send the signed purchase order to the supplier",
]
NEW_CATEGORY_TARGET = 0.8  # share of the held-out paraphrases predicted with the new label


def bench_retrain(
    exported: Path,
    rows: int,
    config_path: str | None,
    scenario: str = "rows",
    overrides: list[str] | None = None,
) -> dict[str, Any]:
    """``python -m tfcls.retrain`` on a copy of ``exported`` with a fresh store, warm cache.

    ``scenario="rows"``: ``rows`` corrections, titles of the current run's training data with
    a follow-up suffix (new texts, so they are embedded, while the base data hits the
    embedding cache); it times retrain (data, training, the gate) and, for a promoted
    candidate, the export that publishes it. ``scenario="new_category"`` (``rows`` unused):
    the issue's case, ``ADMIN_POSTED`` posted as the new category ``Admin`` by 3 clients;
    it reports which share of ``ADMIN_HELD_OUT`` (paraphrases never posted) the current and
    the candidate model predict as ``Admin``, besides the times and the gate's verdict.
    """
    import shutil

    from tfcls.bundle.registry import Registry
    from tfcls.config import load_config

    if scenario not in RETRAIN_SCENARIOS:
        raise TfclsError(f"unknown retrain scenario {scenario!r}; use one of {RETRAIN_SCENARIOS}")
    version, meta = Registry(exported).require_metadata()
    with tempfile.TemporaryDirectory(prefix="tfcls-bench-retrain-") as tmp:
        copy = Path(tmp) / "exported"
        shutil.copytree(exported / version, copy / version)
        Registry(copy).set_current(version)
        config = load_config(
            config_path,
            [
                *(overrides or []),  # --set, then the bench's own folders
                f"serving.exported={copy}",
                f"storage.path={Path(tmp) / 'fb.sqlite3'}",
                f"train.output_dir={Path(tmp) / 'runs'}",
            ],
        )
        if scenario == "new_category":
            return _retrain_new_category(config, version, meta.require_run())
        return _retrain_rows(config, version, meta.require_run(), rows)


def _retrain_rows(config: Any, version: str, current_run: Path, rows: int) -> dict[str, Any]:
    """Retrain after ``rows`` corrections of follow-ups of the training titles."""
    from tfcls.feedback.retrain import retrain
    from tfcls.feedback.store import FeedbackStore
    from tfcls.training.runs import load_run_data

    dataset = load_run_data(current_run, 1, "export a run whose data file exists")
    store = FeedbackStore.open(config.storage)
    store.add_many(
        [
            {
                "title": f"{e.text} (follow-up {i})",
                "description": "",
                "predicted_label": None,
                "confidence": None,
                "chosen_label": e.label,
                "action": "corrected",
                "model_version": version,
                "client_id": f"bench-{i % 10}",
            }
            for i, e in enumerate(dataset.examples[:rows])
        ]
    )
    store.close()
    result = retrain(config)
    record = result.record
    return {
        "benchmark": "retrain",
        "scenario": "rows",
        "feedback_rows": rows,
        "retrain_seconds": record.get("retrain_seconds"),
        "total_seconds_with_export": record.get("total_seconds"),
        "verdict": result.verdict,
        "training_examples": record["training_examples"],
        "holdouts": record["holdouts"],
        "current": record.get("current"),
        "candidate": record.get("candidate"),
    }


def _top(run_dir: Path, texts: list[str]) -> list[tuple[str, float]]:
    """The top label and its calibrated probability for each text."""
    from tfcls.decision.predictor import Predictor

    predictor = Predictor(run_dir)
    proba = predictor.predict_proba(texts)
    return [(predictor.labels[int(p.argmax())], round(float(p.max()), 4)) for p in proba]


def _retrain_new_category(config: Any, version: str, current_run: Path) -> dict[str, Any]:
    """The issue's case: 12 ``new_category`` verdicts of ``Admin`` by 3 clients, then
    retrain; the share of held-out paraphrases predicted ``Admin`` before and after."""
    from tfcls.feedback.retrain import retrain
    from tfcls.feedback.store import FeedbackStore

    shown = _top(current_run, ADMIN_POSTED + ADMIN_HELD_OUT)  # what the people were shown
    store = FeedbackStore.open(config.storage)
    store.add_many(
        [
            {
                "title": title,
                "description": "",
                "predicted_label": label,
                "confidence": probability,
                "chosen_label": NEW_LABEL,
                "action": "new_category",
                "model_version": version,
                "client_id": f"person-{i % 3}",
            }
            for i, (title, (label, probability)) in enumerate(
                zip(ADMIN_POSTED, shown[: len(ADMIN_POSTED)], strict=True)
            )
        ]
    )
    store.close()
    result = retrain(config)
    tops = {"current": shown[len(ADMIN_POSTED) :]}
    if result.candidate_run is not None:
        tops["candidate"] = _top(result.candidate_run, ADMIN_HELD_OUT)
    return _new_category_result(result, tops)


def _new_category_result(
    result: RetrainResult, tops: dict[str, list[tuple[str, float]]]
) -> dict[str, Any]:
    """The benchmark's result: held-out paraphrases predicted ``Admin`` (current →
    candidate), the gate's view (feedback holdout, fixed holdout), weights and times."""
    record = result.record
    share = {
        name: round(sum(label == NEW_LABEL for label, _ in top) / len(top), 4)
        for name, top in tops.items()
    }
    models = ("current", "candidate")
    return {
        "benchmark": "retrain",
        "scenario": "new_category",
        "new_label": NEW_LABEL,
        "feedback_rows": len(ADMIN_POSTED),
        "clients": 3,
        "held_out_paraphrases": len(ADMIN_HELD_OUT),
        "new_label_accuracy": share,  # on the held-out paraphrases
        "target": NEW_CATEGORY_TARGET,
        "meets_target": share.get("candidate", 0.0) >= NEW_CATEGORY_TARGET,
        "retrain_seconds": record.get("retrain_seconds"),
        "total_seconds_with_export": record.get("total_seconds"),
        "verdict": result.verdict,
        "reasons": list(result.reasons),
        "weights": record["weights"]["labels"].get(NEW_LABEL),
        "floor": record["weights"]["floor"],
        "holdouts": record["holdouts"],
        "feedback_holdout": {m: record[m]["recent_feedback"] for m in models if m in record},
        "fixed_holdout_accuracy": {
            m: record[m]["fixed"]["accuracy"] for m in models if m in record
        },
        "predictions": [
            {"text": text, **{name: list(top[i]) for name, top in tops.items()}}
            for i, text in enumerate(ADMIN_HELD_OUT)
        ],
    }
