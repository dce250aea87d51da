"""Run directories: everything one training produced, written so later stages can read it.

``runs/<name>/`` holds config.yaml (resolved), data.json (path, sha256, counts, skipped
rows), splits.json, label_map.json, tuner/ (KerasTuner state), tuner_summary.json,
best_hparams.json, head.keras, model.keras, checkpoints/, logs/ (TensorBoard),
history.json, metrics.json and run.json (status, timings, versions). :class:`Run` owns the
file names and how each file is read.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tfcls.atomic import open_replacing, write_replacing
from tfcls.decision.rule import Calibration
from tfcls.errors import TfclsError

if TYPE_CHECKING:
    from tfcls.config import Config
    from tfcls.data.dataset import Dataset


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays (and Paths) so json.dump accepts them."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json(path: str | Path, data: Any) -> None:
    """Write JSON atomically (temp file + rename): a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open_replacing(path) as f:
        json.dump(to_jsonable(data), f, indent=2, ensure_ascii=False)
        f.write("\n")


def read_json(path: str | Path) -> Any:
    """Read a JSON file of a run, with an error that names it."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TfclsError(f"{path}: missing; is {path.parent} a tfcls run directory?") from None
    except json.JSONDecodeError as err:
        raise TfclsError(f"{path}: line {err.lineno}: invalid JSON ({err.msg})") from None


def default_run_name(data_sha256: str) -> str:
    """UTC time + data hash prefix, e.g. ``20261122-221500-0b42e3d7``."""
    return f"{dt.datetime.now(dt.UTC).strftime('%Y%m%d-%H%M%S')}-{data_sha256[:8]}"


def new_run_dir(output_dir: str | Path, data_sha256: str, name: str | None = None) -> Path:
    """Create ``output_dir/<name>`` (default: :func:`default_run_name`)."""
    path = Path(output_dir) / (name or default_run_name(data_sha256))
    if path.exists():
        raise TfclsError(
            f"{path}: run directory exists; pick another --name or use --resume {path}"
        )
    path.mkdir(parents=True)
    return path


def now() -> str:
    """UTC timestamp for run records."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


LATEST = "LATEST"


def mark_latest(run_dir: Path) -> None:
    """Record ``run_dir`` as the newest finished run of its output directory (atomic)."""
    write_replacing(run_dir.parent / LATEST, run_dir.name + "\n")


def latest_run(output_dir: str | Path) -> Path:
    """The newest finished run under ``output_dir``, or a clear error."""
    marker = Path(output_dir) / LATEST
    if not marker.is_file():
        raise TfclsError(
            f"{output_dir}: no finished training run yet; run "
            "`python -m tfcls.train` or pass --run RUN_DIR"
        )
    return Path(output_dir) / marker.read_text(encoding="utf-8").strip()


def update_json(path: str | Path, **fields: Any) -> None:
    """Set fields of a run's JSON record (read, update, atomic write)."""
    write_json(path, {**read_json(path), **fields})


def load_run_data(run_dir: str | Path, min_per_label: int, what_to_do: str) -> Dataset:
    """The dataset a run was trained on, refused if the file changed since (sha256).

    ``what_to_do`` ends the error message, e.g. "start a new run instead of resuming".
    """
    from tfcls.data.dataset import load_dataset

    run = read_json(Path(run_dir) / Run.INFO)
    dataset = load_dataset(run["data_path"], min_per_label)
    if dataset.sha256 != run["data_sha256"]:
        raise TfclsError(
            f"{run['data_path']}: changed since {run_dir} started "
            f"(sha256 {dataset.sha256[:12]}… ≠ {run['data_sha256'][:12]}…); {what_to_do}"
        )
    return dataset


class Run:
    """One run directory: its file names and the one way each file is read and written.

    Every stage reads a run through this class (training writes it, the predictor,
    evaluation, export and retraining read it), so a missing or stale file gets the same
    error everywhere.
    """

    CONFIG = "config.yaml"
    INFO = "run.json"
    SPLITS = "splits.json"
    LABEL_MAP = "label_map.json"
    HEAD = "head.keras"
    MODEL = "model.keras"
    CALIBRATION = "calibration.json"
    REFERENCES = "references.npy"
    METRICS = "metrics.json"
    HISTORY = "history.json"
    BEST_HPARAMS = "best_hparams.json"
    ENCODER = "encoder"

    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)

    def __repr__(self) -> str:
        return f"Run({str(self.dir)!r})"

    @classmethod
    def create(cls, output_dir: str | Path, data_sha256: str, name: str | None = None) -> Run:
        """A new, empty run directory (see :func:`new_run_dir`)."""
        return cls(new_run_dir(output_dir, data_sha256, name))

    @classmethod
    def latest(cls, output_dir: str | Path) -> Run:
        """The newest finished run under ``output_dir`` (see :func:`latest_run`)."""
        return cls(latest_run(output_dir))

    def use_encoder(self, config: Config, handle: str) -> None:
        """Make ``handle`` (a module pair this run saved: a contrastively tuned or adapted
        encoder) the run's encoder, in ``config`` and in the run's config.yaml."""
        from tfcls.config import dump_yaml

        config.encoder.handle, config.encoder.preprocessor = handle, None
        dump_yaml(config, self.path(self.CONFIG))

    def path(self, name: str) -> Path:
        return self.dir / name

    def finished(self, what: str, multi_label: bool = False) -> Run:
        """This run, or an error saying it is not a finished run (``what`` needs one) or
        that ``what`` does not take a multi-label run (unless ``multi_label``)."""
        if not self.path(self.HEAD).is_file():
            raise TfclsError(
                f"{self.dir}: no {self.HEAD}; {what} needs a finished run directory of "
                "`python -m tfcls.train`"
            )
        if self.task() == "multi_label" and not multi_label:
            raise TfclsError(
                f"{self.dir}: a multi-label run; {what} takes single-label runs (a "
                "multi-label run predicts label sets: `python -m tfcls.predict`, or "
                "tfcls.LabelSetPredictor in Python)"
            )
        return self

    def task(self) -> str:
        """``single_label`` or ``multi_label`` (runs before multi-label say nothing)."""
        return self.info().get("task", "single_label")

    def label_sets(self, what_to_do: str) -> Any:
        """The multi-label dataset the run was trained on (:func:`load_multilabel` with the
        run's settings), refused if the file changed since."""
        from tfcls.data.multilabel import load_multilabel

        info, data = self.info(), self.config().data
        dataset = load_multilabel(info["data_path"], data.min_per_label, data.label_delimiter)
        if dataset.sha256 != info["data_sha256"]:
            raise TfclsError(f"{info['data_path']}: changed since {self.dir} started; {what_to_do}")
        return dataset

    def config(self) -> Config:
        from tfcls.config import load_config

        return load_config(self.path(self.CONFIG))

    def info(self) -> dict[str, Any]:
        return read_json(self.path(self.INFO))

    def update_info(self, **fields: Any) -> None:
        update_json(self.path(self.INFO), **fields)

    def labels(self) -> list[str]:
        label_map = read_json(self.path(self.LABEL_MAP))
        return sorted(label_map, key=label_map.get)

    def splits(self) -> dict[str, np.ndarray]:
        """Row indices into the run's dataset: ``train``, ``val``, ``test``."""
        raw = read_json(self.path(self.SPLITS))
        return {k: np.asarray(v, dtype=np.int64) for k, v in raw.items()}

    def calibration(self) -> Calibration:
        """The calibration, or the identity (temperature 1, no thresholds) for a run that
        has none (trained before calibration existed)."""
        path = self.path(self.CALIBRATION)
        return Calibration.from_record(read_json(path)) if path.is_file() else Calibration()

    def references(self, calibration: Calibration) -> np.ndarray | None:
        """The training embeddings unknown detection compares with, when it needs them."""
        if not calibration.needs_references:
            return None
        path = self.path(self.REFERENCES)
        if not path.is_file():
            raise TfclsError(f"{path}: missing; {self.CALIBRATION} needs it for unknown detection")
        return np.load(path)

    def metrics(self) -> dict[str, Any]:
        return read_json(self.path(self.METRICS))

    def head(self) -> Any:
        from tfcls.training.model import load_model

        return load_model(self.path(self.HEAD))

    def dataset(self, min_per_label: int, what_to_do: str) -> Dataset:
        """See :func:`load_run_data`."""
        return load_run_data(self.dir, min_per_label, what_to_do)

    def write(self, name: str, data: Any) -> None:
        """Write one of the run's JSON files."""
        write_json(self.path(name), data)
