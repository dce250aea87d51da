"""The tuner's trials in TensorBoard's HParams tab, written from ``tuner_summary.json``.

After the search, :func:`write_run_hparams` writes under ``<run>/logs/hparams/`` the
experiment (each hyperparameter with its domain, the tuner's objective as the metric)
and one session per completed trial (its hyperparameters and objective), through
``tensorboard.plugins.hparams.api``. ``tensorboard --logdir <run>/logs`` (or a folder of
runs) then compares the trials in the HParams tab. Reading the trial records after the
search, rather than a callback, sees every trial (a resumed search's and a distributed
search's workers' too) and nothing half-finished.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

HPARAMS_DIR = "hparams"  # under the run's TensorBoard logs/
TUNER_SUMMARY = "tuner_summary.json"


_RECORD = ("trial_id", "score", "status", "message")  # a flat trial row's other keys


def normalise(trial: Mapping[str, Any]) -> dict[str, Any]:
    """A trial row as ``tuning.trial_summary`` writes it (``hyperparameters`` apart,
    ``status``); a multi-label search's flat rows (``trial_id``, ``score`` and the values
    side by side) are completed when scored."""
    if "hyperparameters" in trial:
        return dict(trial)
    values = {k: v for k, v in trial.items() if k not in _RECORD}
    status = trial.get("status") or ("COMPLETED" if trial.get("score") is not None else "FAILED")
    return {**{k: trial.get(k) for k in _RECORD}, "status": status, "hyperparameters": values}


def _values(trial: Mapping[str, Any]) -> dict[str, bool | int | float | str]:
    """A trial's hyperparameters HParams can show (no tuner/ bookkeeping, no None)."""
    return {
        k: v
        for k, v in trial.get("hyperparameters", {}).items()
        if not k.startswith("tuner/") and isinstance(v, bool | int | float | str)
    }


def domains(trials: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Each hyperparameter's HParams domain from the values the trials took: booleans,
    strings and integers as the discrete set seen, floats as their interval."""
    from tensorboard.plugins.hparams import api as hp

    seen: dict[str, list[Any]] = {}
    for trial in trials:
        for k, v in _values(trial).items():
            seen.setdefault(k, []).append(v)
    out = {}
    for name, values in sorted(seen.items()):
        kinds = {bool if isinstance(v, bool) else type(v) for v in values}
        if len(kinds) == 1 and kinds <= {bool, int, str}:
            out[name] = hp.Discrete(sorted(set(values)))
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            lo, hi = float(min(values)), float(max(values))
            out[name] = hp.RealInterval(lo, hi) if lo < hi else hp.Discrete([lo])
        else:  # mixed kinds: shown without a domain
            out[name] = None
    return out


def write_hparams(log_dir: str | Path, trials: Sequence[Mapping[str, Any]], objective: str) -> int:
    """Write the HParams experiment and one session per completed trial into ``log_dir``
    (replacing what an earlier call wrote there); the number of sessions written."""
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    log_dir = Path(log_dir)
    shutil.rmtree(log_dir, ignore_errors=True)  # a resumed run rewrites every trial
    rows = [normalise(t) for t in trials]
    done = [t for t in rows if t["status"] == "COMPLETED" and t.get("score") is not None]
    params = {name: hp.HParam(name, domain) for name, domain in domains(done).items()}
    with tf.summary.create_file_writer(str(log_dir)).as_default():
        hp.hparams_config(
            hparams=list(params.values()),
            metrics=[hp.Metric(objective, display_name=objective)],
        )
    for trial in done:
        values = {params[k]: _as_domain(params[k], v) for k, v in _values(trial).items()}
        session = log_dir / f"trial_{trial['trial_id']}"
        with tf.summary.create_file_writer(str(session)).as_default():
            hp.hparams(values, trial_id=f"trial {trial['trial_id']}")
            tf.summary.scalar(objective, float(trial["score"]), step=0)
    return len(done)


def _as_domain(param: Any, value: Any) -> Any:
    """Integers of a float domain as floats (HParams checks values against domains)."""
    if param.domain is not None and param.domain.dtype is float and not isinstance(value, bool):
        return float(value)
    return value


def write_run_hparams(
    run_dir: str | Path,
    config: Any,
    trials: Sequence[Mapping[str, Any]] | None = None,
    objective: str | None = None,
) -> Path | None:
    """HParams of a run's search into ``<run>/logs/hparams``, when ``tracking.hparams``
    and ``train.tensorboard`` are on and the search left trials: the folder written, else
    None. ``trials`` default to the run's ``tuner_summary.json`` (the rows of
    ``tuning.trial_summary``), ``objective`` to ``tuner.objective`` (a multi-label
    search passes its own)."""
    if not (config.tracking.hparams and config.train.tensorboard):
        return None
    summary = Path(run_dir) / TUNER_SUMMARY
    if trials is None:
        if not summary.is_file():  # tuner.enabled off: no search
            return None
        trials = json.loads(summary.read_text(encoding="utf-8"))
    log_dir = Path(run_dir) / "logs" / HPARAMS_DIR
    written = write_hparams(log_dir, trials, objective or config.tuner.objective)
    return log_dir if written else None
