"""``python -m tfcls.retrain [--config FILE] [--dry-run]``: learn from feedback, promote if better.

1. **Feedback → examples.** ``corrected`` and ``new_category`` verdicts label their text
   with ``chosen_label``; ``accepted`` ones confirm the label shown (``chosen_label`` or
   else ``predicted_label``); ``rejected`` verdicts without a chosen label are no examples.
   Texts are cleaned and joined as everywhere (``title. description``) and deduplicated:
   each client's latest verdict on a text counts; when clients disagree the majority wins
   (ties: the most recent verdict) and the conflict is reported. A new category becomes a
   label once it has ``retrain.min_examples_new_label`` examples; until then its examples
   wait (reported). A human verdict overrides the base data's label for the same text,
   but only with ``retrain.min_agreeing_clients`` distinct clients agreeing, and one
   client's verdicts give at most ``retrain.max_examples_per_client`` examples
   (``tfcls.feedback.examples.bound_influence``; what is discarded is listed, with why).
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
   it (``train.adapt.layers``, starting again from the run's base encoder; minutes on
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

**A multi-label served model** (``task: multi_label``) retrains from label sets the same
way: a verdict's chosen set (``chosen_labels``; accepted: the set shown) is its text's
example, one vote as a whole (each client's latest, the majority set across clients);
rejected verdicts (no label fits) are no examples. A label not in the base data becomes a
label at ``retrain.min_examples_new_label`` examples carrying it; until then every example
whose set holds it waits (``examples_waiting``). Weights as above, per label; a row of
several labels takes the largest of their boosts. The candidate is a multi-label
``tfcls.train`` run (frozen or adapted encoder as above), and the gate compares *subset
accuracy* (the whole set right) and macro-F1 over each holdout's labels, both within
``retrain.tolerance``; the feedback-learned checks use subset accuracy
(:func:`tfcls.feedback.gate.holdout_scores` says why). Verdicts on the other
kind of model are counted and set aside (``label_sets_ignored`` for a single-label model,
``single_labels_ignored`` for a multi-label one): one label is not a whole set.

Steps 1–3 are :mod:`tfcls.feedback.examples`, step 5's scores and verdict
:mod:`tfcls.feedback.gate`; this module runs the loop and returns a :class:`RetrainResult`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tfcls.atomic import write_replacing
from tfcls.config import Config, to_dict
from tfcls.feedback.examples import plan
from tfcls.feedback.gate import gate, holdout_scores
from tfcls.progress import Stages
from tfcls.training import runs
from tfcls.training.runs import Run

# what `retrain` announces on stderr as it goes (each step draws its own progress inside)
STAGES = (
    "reading feedback",
    "training the candidate",
    "scoring the holdouts",
    "exporting the promoted candidate",
)


@dataclass(frozen=True)
class RetrainResult:
    """What :func:`retrain` returns: the verdict, the runs and versions involved, and the
    whole decision record (``record``: the candidate's decision.json, printed by
    ``tfcls retrain``; per-holdout scores, weights, the data's report).

    ``candidate_run`` is None when nothing was trained (a dry run, or no feedback to learn
    from); ``promoted_version`` is the new served version when the candidate won.
    """

    verdict: str
    promoted: bool
    current_version: str
    current_run: Path
    candidate_run: Path | None
    promoted_version: str | None
    reasons: tuple[str, ...]
    record: dict[str, Any]

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> RetrainResult:
        candidate = record.get("candidate_run")
        return cls(
            verdict=record["verdict"],
            promoted=bool(record.get("promoted", False)),
            current_version=record["current_version"],
            current_run=Path(record["current_run"]),
            candidate_run=None if candidate is None else Path(candidate),
            promoted_version=record.get("promoted_version"),
            reasons=tuple(record.get("reasons", ())),
            record=record,
        )

    def to_dict(self) -> dict[str, Any]:
        """The decision record (as decision.json holds it)."""
        return self.record


def _feedback_rows(config: Config) -> list[dict[str, Any]]:
    from tfcls.feedback.store import FeedbackStore

    store = FeedbackStore.open(config.storage)
    try:
        return store.rows()
    finally:
        store.close()


def retrain(config: Config, dry_run: bool = False) -> RetrainResult:
    """Run the whole loop (see the module doc); ``dry_run`` only plans the data."""
    from tfcls.bundle.registry import Registry

    start = time.perf_counter()
    stages = Stages("retrain", STAGES)
    stages.begin("reading feedback")
    version, meta = Registry(Path(config.serving.exported)).require_metadata()
    current_run = meta.require_run()
    training, holdouts, planned = plan(config, current_run, _feedback_rows(config))
    record: dict[str, Any] = {"current_version": version, "current_run": str(current_run)}
    record.update(planned)
    if dry_run:
        record["verdict"] = "dry run: nothing trained"
        return RetrainResult.from_record(record)
    if not record["feedback_training_examples"]:
        record["verdict"] = "nothing to learn: no new feedback examples to train on"
        return RetrainResult.from_record(record)
    marker = Path(config.train.output_dir) / runs.LATEST
    latest_before = marker.read_text(encoding="utf-8") if marker.is_file() else None
    stages.begin("training the candidate")
    candidate = _train_candidate(config, current_run, training)
    runs.write_json(
        candidate / "holdouts.json",
        {"fixed": holdouts["fixed"], "recent": holdouts["recent_feedback"]},
    )
    stages.begin("scoring the holdouts")
    cur, cand = holdout_scores(current_run, holdouts), holdout_scores(candidate, holdouts)
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
    if promote:
        stages.begin("exporting the promoted candidate")
    _settle(record, candidate, config, latest_before)
    record["total_seconds"] = round(time.perf_counter() - start, 1)
    runs.write_json(candidate / "decision.json", record)
    return RetrainResult.from_record(record)


def _settle(
    record: dict[str, Any], candidate: Path, config: Config, latest_before: str | None
) -> None:
    """Export a promoted candidate; for a refused one restore the LATEST marker, so that it
    does not become what ``tfcls.predict`` uses by default. Sets the record's verdict."""
    from tfcls.bundle.export import export
    from tfcls.bundle.registry import Registry

    version = record["current_version"]
    if record["promoted"]:
        bundle = export(
            candidate,
            Path(config.serving.exported),
            config.retrain.quantize,
            check_texts=config.export.check_texts,
            check_n=config.export.check_n,
        )
        record["deleted_versions"] = Registry(Path(config.serving.exported)).prune(
            config.serving.keep_versions, config.serving.ab
        )
        record["promoted_version"] = bundle.version
        record["verdict"] = f"promoted: {bundle.version} replaces {version}"
        return
    marker = Path(config.train.output_dir) / runs.LATEST
    if latest_before is None:
        marker.unlink(missing_ok=True)
    else:
        write_replacing(marker, latest_before)
    record["verdict"] = f"refused: {version} stays current"


def _train_candidate(config: Config, current_run: Path, rows: list[dict[str, Any]]) -> Path:
    """Train on ``rows`` (text, label or labels, weight, ...) the way the current run was trained,
    on its encoder; the encoder is tuned again only with ``retrain.adapt_encoder``."""
    from tfcls.config import load_config
    from tfcls.training.pipeline import train

    cfg = load_config(current_run / Run.CONFIG)
    cfg.storage, cfg.serving, cfg.retrain = config.storage, config.serving, config.retrain
    cfg.train.output_dir = config.train.output_dir
    cfg.train.contrastive.enabled = False
    base = runs.read_json(current_run / Run.INFO).get("base_encoder")
    if not config.retrain.adapt_encoder:
        cfg.train.adapt.layers = 0  # heads only, on the current run's (adapted) encoder
    elif base:  # adapt again from where the current run started, not on top of it
        cfg.encoder.handle, cfg.encoder.preprocessor = base["handle"], base["preprocessor"]
    cfg.data.test_fraction = 0.0  # the holdouts are the test sets
    cfg.data.task = Run(current_run).task()  # label sets train a multi-label candidate
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
