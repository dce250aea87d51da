"""A finished run logged to MLflow (``tracking.mlflow``; the ``tfcls[mlflow]`` extra).

:func:`log_run` makes one MLflow run (named after the run directory) in
``tracking.mlflow.experiment`` holding the resolved config as params (flattened:
``tuner.max_trials``), every number of ``metrics.json`` as a metric (flattened:
``test.accuracy``; a list of numbers as steps), tags (``tfcls.task``,
``tfcls.encoder``, ``tfcls.version``, ``tfcls.run_dir``) and, with
``log_artifacts``, the run directory as artefacts without the tuner's per-trial state
and checkpoints (:data:`SKIPPED`: big and only for resuming). Its MLflow run id and
store are added to the run's ``run.json``.

``tracking_uri`` None means a local file store, ``./mlruns``; a plain path is a file
store there. MLflow 3 keeps the file store in maintenance mode and refuses it unless
``MLFLOW_ALLOW_FILE_STORE`` is set, so this module sets it (when unset) for file stores
only: they are what this section promises by default.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from pathlib import Path
from typing import Any

from tfcls.errors import TfclsError

SKIPPED = ("tuner", "checkpoints")  # run-directory entries never logged as artefacts
INSTALL = "pip install 'tfcls[mlflow]'"
_BATCH = 100  # params per log_batch call (MLflow's limit)
_KEY = re.compile(r"[^0-9A-Za-z_\-. /]")


def _mlflow() -> Any:
    """The mlflow module, or a TfclsError saying how to install it."""
    try:
        import mlflow
    except ImportError as err:
        raise TfclsError(
            f"tracking.mlflow.enabled is on but MLflow is not installed: {INSTALL}"
        ) from err
    return mlflow


def store_uri(tracking_uri: str | None) -> str:
    """The tracking URI: None → ``./mlruns`` as a file store, a plain path → a file store
    there (absolute ``file:`` URIs), anything else (``http://…``, ``sqlite:///…``) as is."""
    if tracking_uri is None:
        tracking_uri = "mlruns"
    if "://" in tracking_uri or tracking_uri.startswith("file:"):
        return tracking_uri
    return Path(tracking_uri).absolute().as_uri()


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}``; lists of dicts are indexed (``a.0.b``)."""
    if isinstance(tree, dict):
        out: dict[str, Any] = {}
        for k, v in tree.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    if isinstance(tree, list) and any(isinstance(v, dict) for v in tree):
        return flatten(dict(enumerate(tree)), prefix)
    return {prefix[:-1]: tree}


def params_of(config: Any) -> dict[str, str]:
    """The resolved config as MLflow params: flattened keys, values as text."""
    from tfcls.config import to_dict

    return {
        _key(k): v if isinstance(v, str) else json.dumps(v)
        for k, v in flatten(to_dict(config)).items()
    }


def metrics_of(metrics: dict[str, Any]) -> dict[str, list[float]]:
    """Every finite number of ``metrics.json`` (flattened; booleans left out), a list of
    numbers as its steps."""
    out = {}
    for k, v in flatten(metrics).items():
        values = v if isinstance(v, list) else [v]
        numbers = [float(x) for x in values if _number(x)]
        if numbers and len(numbers) == len(values) and all(math.isfinite(x) for x in numbers):
            out[_key(k)] = numbers
    return out


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _key(name: str) -> str:
    """A key MLflow accepts (letters, digits, ``_-. /``; per-class labels may have more)."""
    return _KEY.sub("_", name)[:250]


def log_run(run_dir: str | Path, config: Any = None) -> str | None:
    """Log a finished run to MLflow when ``tracking.mlflow.enabled``; its MLflow run id,
    else None. ``config`` defaults to the run's own ``config.yaml``."""
    from tfcls.training import runs
    from tfcls.training.runs import Run

    run_dir = Path(run_dir)
    if config is None:
        from tfcls.config import load_config

        config = load_config(run_dir / Run.CONFIG)
    settings = config.tracking.mlflow
    if not settings.enabled:
        return None
    mlflow = _mlflow()
    uri = store_uri(settings.tracking_uri)
    if uri.startswith("file:"):
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(settings.experiment)
    experiment = found.experiment_id if found else client.create_experiment(settings.experiment)
    metrics = runs.read_json(run_dir / Run.METRICS)
    run = client.create_run(experiment, run_name=run_dir.name, tags=_tags(run_dir, config))
    run_id = run.info.run_id
    try:
        _log_values(client, run_id, params_of(config), metrics_of(metrics))
        if settings.log_artifacts:
            _log_directory(client, run_id, run_dir)
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id, "FINISHED")
    runs.update_json(
        run_dir / Run.INFO, mlflow={"run_id": run_id, "experiment": experiment, "uri": uri}
    )
    return run_id


def _tags(run_dir: Path, config: Any) -> dict[str, str]:
    """What the run is: task, encoder, tfcls version, where its directory is."""
    from importlib import metadata

    try:
        version = metadata.version("tfcls")
    except metadata.PackageNotFoundError:
        version = "unknown"
    info_path = run_dir / "run.json"
    info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.is_file() else {}
    return {
        "tfcls.task": str(info.get("task", config.data.task)),
        "tfcls.encoder": config.encoder.handle,
        "tfcls.version": version,
        "tfcls.run_dir": str(run_dir.absolute()),
    }


def _log_values(
    client: Any, run_id: str, params: dict[str, str], metrics: dict[str, list[float]]
) -> None:
    """Params and metrics in batches (MLflow caps a batch's size)."""
    from mlflow.entities import Metric, Param

    items = list(params.items())
    for start in range(0, len(items), _BATCH):
        batch = [Param(k, v[:6000]) for k, v in items[start : start + _BATCH]]
        client.log_batch(run_id, params=batch)
    now = int(time.time() * 1000)
    rows = [Metric(k, v, now, step) for k, vs in metrics.items() for step, v in enumerate(vs)]
    for start in range(0, len(rows), 10 * _BATCH):
        client.log_batch(run_id, metrics=rows[start : start + 10 * _BATCH])


def _log_directory(client: Any, run_id: str, run_dir: Path) -> None:
    """The run directory's entries as artefacts, but :data:`SKIPPED`."""
    for entry in sorted(run_dir.iterdir()):
        if entry.name in SKIPPED:
            continue
        if entry.is_dir():
            client.log_artifacts(run_id, str(entry), entry.name)
        elif entry.is_file():
            client.log_artifact(run_id, str(entry))
