"""KerasTuner search of the head on cached embeddings, with honest failure handling.

KerasTuner reports "best" hyperparameters even when every trial failed, so after the
search each trial's status is checked: failed trials are reported, and if none
completed the search stops with the first trial's error. The tuner's state lives in the
run directory, so ``--resume`` continues a killed search where it stopped.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np

from tfcls.config import ModelConfig, TunerConfig
from tfcls.errors import TfclsError
from tfcls.progress import log
from tfcls.progress_keras import TrialProgress
from tfcls.training.model import HeadHyperModel


class TuningError(TfclsError):
    """The search produced no usable trial."""


def distributed_role() -> str:
    """This process's part in a KerasTuner distributed search.

    KerasTuner reads KERASTUNER_ORACLE_IP / KERASTUNER_ORACLE_PORT (where the chief's
    oracle listens) and KERASTUNER_TUNER_ID ("chief" for the oracle, any other id such as
    "tuner0" for a worker). Without them the search runs in this process alone.
    """
    if "KERASTUNER_ORACLE_IP" not in os.environ:
        return "single"
    missing = [v for v in ("KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID") if v not in os.environ]
    if missing:
        raise TuningError(
            f"KERASTUNER_ORACLE_IP is set but {', '.join(missing)} is not; a "
            "distributed search needs all three KERASTUNER_* variables"
        )
    return "chief" if "chief" in os.environ["KERASTUNER_TUNER_ID"] else "worker"


def tuner_class(kind: str) -> type:
    base = {
        "random": kt.RandomSearch,
        "hyperband": kt.Hyperband,
        "bayesian": kt.BayesianOptimization,
    }[kind]

    class ReportingTuner(base):  # type: ignore[misc, valid-type]
        """Prints one line per finished trial instead of KerasTuner's verbose tables."""

        def _try_build(self, hp: kt.HyperParameters) -> keras.Model:
            # KerasTuner clears the Keras session and runs gc.collect() twice before every
            # build (~0.5 s a trial here) to free the last trial's graph. HeadHyperModel
            # reuses one graph for every trial on purpose, so there is nothing to free.
            return self._build_hypermodel(hp)

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.ran: list[dict[str, Any]] = []  # trials run here (all a worker sees)
            super().__init__(*args, **kwargs)

        def on_trial_end(self, trial: Any) -> None:
            super().on_trial_end(trial)
            self.ran.append(
                {"trial_id": trial.trial_id, "status": trial.status, "score": trial.score}
            )
            done = len(self.ran)
            score = trial.score if trial.score is not None else float("nan")
            values = ", ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in trial.hyperparameters.values.items()
                if not k.startswith("tuner/")
            )
            log(
                f"trial {done}: {trial.status.lower()} "
                f"{self.oracle.objective.name}={score:.4f} ({values})"
            )
            progress = getattr(self, "progress", None)  # set by search (TrialProgress)
            if progress is not None:
                progress.trial_end(trial)

    return ReportingTuner


def make_tuner(
    hypermodel: HeadHyperModel,
    cfg: TunerConfig,
    directory: Path,
    seed: int,
    max_trials: int,
    resume: bool,
    strategy: Any = None,
) -> kt.Tuner:
    """A tuner of ``cfg.kind`` whose state lives in ``directory`` (reloaded on resume)."""
    common: dict[str, Any] = dict(
        hypermodel=hypermodel,
        distribution_strategy=strategy,
        objective=cfg.objective,
        seed=seed,
        directory=str(directory),
        project_name="head",
        overwrite=not resume,
        # keep going after failures: whether any trial worked is checked afterwards
        max_consecutive_failed_trials=max_trials + 1,
    )
    if cfg.kind == "hyperband":
        # Hyperband sizes its own bracket from max_epochs; max_trials does not apply.
        return tuner_class("hyperband")(
            max_epochs=cfg.epochs, factor=3, hyperband_iterations=1, **common
        )
    return tuner_class(cfg.kind)(max_trials=max_trials, **common)


def trial_summary(tuner: kt.Tuner) -> list[dict[str, Any]]:
    """Every trial: id, status, score, hyperparameters and error message (JSON-able)."""
    rows = []
    for trial in tuner.oracle.trials.values():
        rows.append(
            {
                "trial_id": trial.trial_id,
                "status": trial.status,
                "score": trial.score,
                "hyperparameters": dict(trial.hyperparameters.values),
                "message": trial.message,
            }
        )
    return sorted(rows, key=lambda r: r["trial_id"])


def search(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    n_classes: int,
    cfg: TunerConfig,
    defaults: ModelConfig,
    directory: Path,
    seed: int,
    max_trials: int,
    resume: bool = False,
    sample_weights: tuple[np.ndarray, np.ndarray] | None = None,
    strategy: Any = None,
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Run (or continue) the search; return the best values and the trial summary.

    ``sample_weights`` (train, val) weight every trial's loss and validation score per text.

    In a distributed search (see :func:`distributed_role`) the chief serves the oracle and
    returns the best values of all workers' trials; a worker runs the trials the chief
    hands it and returns ``None`` with the trials it ran.
    """
    role = distributed_role()
    if len(x_val) == 0:
        raise TuningError("tuning needs a validation split; set data.val_fraction > 0")
    hypermodel = HeadHyperModel(n_classes, x_train.shape[1], cfg, defaults)
    try:  # KerasTuner builds one model up front to learn the search space
        tuner = make_tuner(hypermodel, cfg, directory, seed, max_trials, resume, strategy)
    except (ValueError, TypeError) as err:
        raise TuningError(f"could not build the head: {err}") from err
    tuner.progress = TrialProgress.for_tuner(tuner, None if cfg.kind == "hyperband" else max_trials)
    try:
        _run_search(tuner, (x_train, y_train, x_val, y_val), cfg, seed, sample_weights)
    finally:
        tuner.progress.close()
    if role == "worker":
        return None, tuner.ran
    summary = trial_summary(tuner)
    _check_trials(summary)
    best = tuner.get_best_hyperparameters(1)[0].values
    return {k: v for k, v in best.items() if not k.startswith("tuner/")}, summary


def _run_search(
    tuner: kt.Tuner,
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    cfg: TunerConfig,
    seed: int,
    sample_weights: tuple[np.ndarray, np.ndarray] | None,
) -> None:
    """Run the trials, each early-stopped on ``cfg.objective`` (at its best weights)."""
    x_train, y_train, x_val, y_val = data
    monitor = cfg.objective
    stop = keras.callbacks.EarlyStopping(
        monitor=monitor,
        patience=cfg.patience,
        restore_best_weights=True,
        mode="max" if "acc" in monitor else "min",
    )
    try:
        tuner.search(
            x_train,
            y_train,
            validation_data=(x_val, y_val),
            seed=seed,
            epochs=cfg.epochs,
            callbacks=[stop],
            sample_weights=sample_weights,  # HeadHyperModel.fit weights its datasets
            verbose=0,
        )
    except RuntimeError as err:  # KerasTuner's own consecutive-failure limit (Hyperband)
        if "consecutive failures" not in str(err):
            raise


def _check_trials(summary: list[dict[str, Any]]) -> None:
    """Warn about failed trials (with the first error); raise when none completed."""
    completed = [t for t in summary if t["status"] == "COMPLETED"]
    failed = [t for t in summary if t["status"] == "FAILED"]
    if failed:
        print(
            f"warning: {len(failed)} of {len(summary)} trials failed; first error:\n"
            f"{failed[0]['message']}",
            file=sys.stderr,
        )
    if not completed:
        first = failed[0]["message"] if failed else "no trial ran"
        raise TuningError(f"every tuner trial failed ({len(summary)} tried); first error:\n{first}")
