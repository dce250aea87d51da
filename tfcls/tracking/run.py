"""Everything ``tracking`` asks for, for one finished run: :func:`track_run`.

One call at the end of training (after ``metrics.json`` and ``run.json`` are final)
writes the tuner's trials as TensorBoard HParams (``tracking.hparams`` with
``train.tensorboard``) and then logs the run to MLflow (``tracking.mlflow.enabled``), so
the MLflow artefacts include the HParams events. It reads only the run directory, so it
serves both tasks (a single-label search's ``tuner_summary.json``, a multi-label one's
``metrics.json`` ``trials``) and old runs alike.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tfcls.tracking.hparams import TUNER_SUMMARY, write_run_hparams
from tfcls.tracking.mlflow import log_run


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def run_trials(run_dir: Path) -> tuple[list[dict[str, Any]] | None, str | None]:
    """(the search's trial rows, its objective when not ``tuner.objective``) of a run:
    ``tuner_summary.json``, else a multi-label run's ``metrics.json`` ``trials``."""
    summary = _read(run_dir / TUNER_SUMMARY)
    if isinstance(summary, list):
        return summary, None
    metrics = _read(run_dir / "metrics.json") or {}
    if isinstance(metrics.get("trials"), list):
        from tfcls.training.multilabel import OBJECTIVE

        return metrics["trials"], OBJECTIVE
    return None, None


def track_run(run_dir: str | Path, config: Any = None) -> dict[str, Any]:
    """HParams, then MLflow, for a finished run (``config``: default its ``config.yaml``):
    ``{"hparams": folder or None, "mlflow_run_id": id or None}``."""
    run_dir = Path(run_dir)
    if config is None:
        from tfcls.config import load_config

        config = load_config(run_dir / "config.yaml")
    trials, objective = run_trials(run_dir)
    hparams = None
    if trials:
        hparams = write_run_hparams(run_dir, config, trials, objective)
    return {"hparams": hparams, "mlflow_run_id": log_run(run_dir, config)}
