"""The configuration tree: nested dataclasses ← YAML file ← ``--set key=value`` overrides.

Every command reads ``configs/default.yaml`` unless ``--config`` names another file.
Unknown keys and values of the wrong type are errors that name the key and the file.
The resolved config is what a run directory records.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tfcls import resources
from tfcls.errors import TfclsError

DEFAULT_CONFIG = resources.DEFAULT_CONFIG


class ConfigError(TfclsError):
    """Invalid configuration (unknown key, wrong type, bad value)."""


@dataclass
class EncoderConfig:
    """Which sentence encoder embeds the texts, and how."""

    handle: str = "all-MiniLM-L6-v2"  # registered name or TF Hub handle (URL / path)
    preprocessor: str | None = None  # TF Hub preprocessor, for BERT-style handles only
    batch_size: int = 64
    embedding_cache: bool = True  # keep embeddings on disk, keyed by encoder + text
    cache_dir: str | None = None  # default: $TFCLS_CACHE or ~/.cache/tfcls

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ConfigError(f"encoder.batch_size must be ≥ 1, got {self.batch_size}")
        if not self.handle:
            raise ConfigError("encoder.handle must not be empty")


@dataclass
class DataConfig:
    """Which dataset, and how it is split."""

    path: str = "data/training_data.json"  # SmartSynch JSON, or JSONL/CSV (text+label)
    val_fraction: float = 0.15  # tuning/early stopping/calibration
    test_fraction: float = 0.15  # held out; reported, never trained or tuned on
    min_per_label: int = 3  # fewer examples of a label is an error naming it

    def __post_init__(self) -> None:
        for name in ("val_fraction", "test_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"data.{name} must be in [0, 1), got {value}")
        if self.val_fraction + self.test_fraction >= 1.0:
            raise ConfigError("data.val_fraction + data.test_fraction must be < 1")


@dataclass
class ModelConfig:
    """The classification head used when tuning is off (and the tuner's default values)."""

    units: int = 128
    dropout: float = 0.2
    learning_rate: float = 1e-3
    batch_size: int = 32
    l2: float = 0.0
    label_smoothing: float = 0.0

    def __post_init__(self) -> None:
        if self.units < 1 or not 0.0 <= self.dropout < 1.0 or self.learning_rate <= 0:
            raise ConfigError("model: units ≥ 1, 0 ≤ dropout < 1 and learning_rate > 0 needed")


TUNER_KINDS = ("random", "hyperband", "bayesian")


@dataclass
class TunerConfig:
    """KerasTuner search over the head's hyperparameters (on cached embeddings)."""

    enabled: bool = True
    kind: str = "bayesian"  # random | hyperband | bayesian
    max_trials: int = 10
    objective: str = "val_accuracy"
    epochs: int = 60  # per trial, with early stopping
    patience: int = 6
    units_min: int = 64
    units_max: int = 512
    dropout_max: float = 0.75
    learning_rate_min: float = 1e-4
    learning_rate_max: float = 1e-2
    batch_sizes: list[int] = field(default_factory=lambda: [16, 32, 64])
    search_l2: bool = True
    search_label_smoothing: bool = True

    def __post_init__(self) -> None:
        if self.kind not in TUNER_KINDS:
            raise ConfigError(
                f"tuner.kind must be one of {', '.join(TUNER_KINDS)}, got {self.kind!r}"
            )
        if self.max_trials < 1:
            raise ConfigError(f"tuner.max_trials must be ≥ 1, got {self.max_trials}")
        if not 1 <= self.units_min <= self.units_max:
            raise ConfigError("tuner: need 1 ≤ units_min ≤ units_max")
        if not 0 < self.learning_rate_min <= self.learning_rate_max:
            raise ConfigError("tuner: need 0 < learning_rate_min ≤ learning_rate_max")
        if not self.batch_sizes or min(self.batch_sizes) < 1:
            raise ConfigError("tuner.batch_sizes must be a non-empty list of positive ints")


STRATEGIES = ("default", "mirrored", "multi_worker")
# bundle weight quantizations, smallest first (tfcls.bundle.export; auto tries them in order)
QUANTIZATIONS = ("uint8", "float16", "none")


@dataclass
class TrainConfig:
    """The final fit, cross-fitting, encoder adaptation, the run directory, reproducibility."""

    seed: int = 42
    epochs: int = 200  # upper bound; early stopping ends sooner
    patience: int = 10  # early stopping on val_loss
    reduce_lr_patience: int = 4
    reduce_lr_factor: float = 0.5
    class_weights: bool = False  # weight classes inversely to their frequency
    output_dir: str = "runs"
    tensorboard: bool = True
    strategy: str = "default"  # default | mirrored | multi_worker (tf.distribute)
    dev_mode_per_label: int = 15  # --dev-mode: examples kept per label
    dev_mode_trials: int = 3
    # out-of-fold predictions of every training text calibrate the model (tfcls.training.crossfit)
    crossfit_folds: int = 3
    # adapt the encoder's top layers with the head (tfcls.training.adapt); 0: frozen (--fast)
    adapt_layers: int = 4
    adapt_epochs: int = 4  # scheduled; the count with the best out-of-fold accuracy is kept
    adapt_learning_rate: float = 3e-4  # peak, after a linear warm-up, then cosine decay
    adapt_batch_size: int = 32
    adapt_warmup: float = 0.1  # share of the steps spent warming up
    # SetFit-style pair training of the encoder before the head; helps few-shot
    contrastive: bool = False
    contrastive_iterations: int = 20  # pair-generation rounds: 1 positive + 1 negative each
    contrastive_epochs: int = 1
    contrastive_learning_rate: float = 2e-5
    contrastive_batch_size: int = 16

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ConfigError(
                f"train.strategy must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}"
            )
        if self.epochs < 1 or self.patience < 1:
            raise ConfigError("train.epochs and train.patience must be ≥ 1")
        if self.crossfit_folds < 2:
            raise ConfigError(f"train.crossfit_folds must be ≥ 2, got {self.crossfit_folds}")
        if self.adapt_layers < 0:
            raise ConfigError(f"train.adapt_layers must be ≥ 0, got {self.adapt_layers}")
        if not 0 <= self.adapt_warmup < 1:
            raise ConfigError(f"train.adapt_warmup must be in [0, 1), got {self.adapt_warmup}")
        if not self.adapt_learning_rate > 0:
            raise ConfigError(
                f"train.adapt_learning_rate must be > 0, got {self.adapt_learning_rate}"
            )
        for name in (
            "adapt_epochs",
            "adapt_batch_size",
            "contrastive_iterations",
            "contrastive_epochs",
            "contrastive_batch_size",
        ):
            value = getattr(self, name)
            if value < 1:
                raise ConfigError(f"train.{name} must be ≥ 1, got {value}")
        lr = self.contrastive_learning_rate
        if not lr > 0:
            raise ConfigError(f"train.contrastive_learning_rate must be > 0, got {lr}")


@dataclass
class DecisionConfig:
    """Calibrated confidence and when the client may auto-select a category."""

    calibrate: bool = True  # fit a softmax temperature on the validation split
    target_precision: float = 0.95  # auto-select threshold: this precision on validation
    unknown_detection: bool = True  # flag texts that fit no known category
    # max_softmax: top calibrated probability (won on BANKING77, see BENCHMARKS.md);
    # nearest: cosine similarity to the nearest training text (ships the embeddings)
    unknown_score: str = "max_softmax"
    known_recall: float = 0.95  # unknown threshold keeps this share of validation texts

    def __post_init__(self) -> None:
        if self.unknown_score not in ("max_softmax", "nearest"):
            raise ConfigError(
                f"decision.unknown_score must be max_softmax or nearest, got {self.unknown_score!r}"
            )
        for name in ("target_precision", "known_recall"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ConfigError(f"decision.{name} must be in (0, 1], got {value}")


@dataclass
class StorageConfig:
    """Where feedback from the web client is kept."""

    path: str = "var/feedback.sqlite3"  # SQLite file (WAL, synchronous=FULL); folder created
    url: str | None = None  # a database URL instead, e.g. postgresql+psycopg://u@host/db


@dataclass
class ServingConfig:
    """``python -m tfcls.serve``: what is served and the limits of its API."""

    exported: str = "exported"  # bundles; exported/current.json names the served version
    host: str = "127.0.0.1"
    port: int = 5000
    max_predict_texts: int = 256  # POST /api/predict
    max_field_chars: int = 2000  # each text field of POST /api/feedback
    max_request_bytes: int = 65536  # larger bodies get 413
    # A/B test: version → traffic share (summing to 1); empty = everyone gets current.
    ab: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ConfigError(f"serving.port must be in 1..65535, got {self.port}")
        for name in ("max_predict_texts", "max_field_chars", "max_request_bytes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"serving.{name} must be ≥ 1, got {getattr(self, name)}")
        if self.ab:
            if any(share < 0 for share in self.ab.values()):
                raise ConfigError(f"serving.ab: shares must be ≥ 0, got {self.ab}")
            if abs(sum(self.ab.values()) - 1.0) > 1e-6:
                raise ConfigError(
                    f"serving.ab: shares must sum to 1, got {sum(self.ab.values())} ({self.ab})"
                )


@dataclass
class RetrainConfig:
    """``python -m tfcls.retrain``: feedback → training data, and the promotion gate."""

    min_examples_new_label: int = 5  # a new category becomes a label at this many examples
    recent_holdout: float = 0.2  # newest share of feedback examples held out, never trained on
    tolerance: float = 0.01  # promote unless a holdout's accuracy drops by more than this
    tune: bool = False  # search the head again (slow); default: the current run's hyperparameters
    quantize: str = "auto"  # export setting for a promoted candidate
    # sample weights of the candidate's data (tfcls.retrain's docstring says how)
    feedback_weight: float = 3.0  # a human verdict counts this many base examples
    balance_labels: bool = True  # lift each label's total weight to the median base label's
    max_weight: float = 20.0  # boosting stops here: one example cannot dominate
    # the gate also refuses a candidate that has not learned the feedback holdout
    min_holdout_to_judge: int = 5  # recent-feedback texts needed to judge its accuracy
    min_feedback_accuracy: float = 0.5  # refuse below this on a judgeable feedback holdout
    adapt_encoder: bool = False  # true: adapt the encoder again if the current run did

    def __post_init__(self) -> None:
        if self.min_examples_new_label < 1:
            raise ConfigError("retrain.min_examples_new_label must be ≥ 1")
        for name in ("feedback_weight", "max_weight"):
            if not 0 < getattr(self, name) < float("inf"):
                raise ConfigError(f"retrain.{name} must be > 0, got {getattr(self, name)}")
        if self.min_holdout_to_judge < 1:
            raise ConfigError("retrain.min_holdout_to_judge must be ≥ 1")
        if not 0 <= self.min_feedback_accuracy <= 1:
            raise ConfigError(
                f"retrain.min_feedback_accuracy must be in [0, 1], got {self.min_feedback_accuracy}"
            )
        if not 0 <= self.recent_holdout < 1:
            raise ConfigError(
                f"retrain.recent_holdout must be in [0, 1), got {self.recent_holdout}"
            )
        if not 0 <= self.tolerance < 1:
            raise ConfigError(f"retrain.tolerance must be in [0, 1), got {self.tolerance}")
        if self.quantize not in ("auto", *QUANTIZATIONS):
            raise ConfigError(
                f"retrain.quantize must be auto or one of {', '.join(QUANTIZATIONS)}, "
                f"got {self.quantize!r}"
            )


@dataclass
class Config:
    """Root of the configuration tree."""

    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    tuner: TunerConfig = field(default_factory=TunerConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    decision: DecisionConfig = field(default_factory=DecisionConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    serving: ServingConfig = field(default_factory=ServingConfig)
    retrain: RetrainConfig = field(default_factory=RetrainConfig)


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp)).replace("NoneType", "null")


def _coerce(value: Any, tp: Any, key: str, source: str) -> Any:
    """Check (and gently convert: int → float) a YAML value against a field type."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(tp):
            try:
                return _coerce(value, option, key, source)
            except ConfigError:
                continue
        raise ConfigError(f"{source}: {key} = {value!r} is not a {_type_name(tp)}")
    if tp is type(None):
        if value is None:
            return None
    elif dataclasses.is_dataclass(tp):
        if isinstance(value, dict):
            return _build(tp, value, key, source)
    elif origin is dict:
        if isinstance(value, dict):
            k_tp, v_tp = typing.get_args(tp)
            return {
                _coerce(k, k_tp, f"{key} key", source): _coerce(v, v_tp, f"{key}.{k}", source)
                for k, v in value.items()
            }
    elif origin is list:
        if isinstance(value, list):
            (item,) = typing.get_args(tp)
            return [_coerce(v, item, f"{key}[{i}]", source) for i, v in enumerate(value)]
    elif tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # PyYAML reads "1e-4" (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(value, tp):
        return value
    raise ConfigError(f"{source}: {key} = {value!r} is not a {_type_name(tp)}")


# Keys that existed once. An older run's config.yaml names them with their defaults:
# those are ignored with a warning; a value that asked for something is an error saying
# what replaced it.
REMOVED = {
    "train.fine_tune": "encoder adaptation is now train.adapt_layers (0 = frozen encoder, "
    "6 = every layer of MiniLM)",
    "train.fine_tune_learning_rate": "use train.adapt_learning_rate",
    "train.fine_tune_epochs": "use train.adapt_epochs",
    "train.fine_tune_batch_size": "use train.adapt_batch_size",
    "train.fine_tune_patience": "the adaptation epochs are chosen out of fold, not by patience",
}


def _removed(key: str, value: Any, source: str) -> None:
    if key == "train.fine_tune" and value is not False:
        raise ConfigError(f"{source}: {key!r} was removed: {REMOVED[key]}; delete the key")
    print(f"{source}: ignoring removed key {key!r} ({REMOVED[key]})", file=sys.stderr)


def _build(cls: type, values: dict[str, Any], prefix: str, source: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for name, value in values.items():
        key = f"{prefix}.{name}" if prefix else str(name)
        if key in REMOVED:
            _removed(key, value, source)
            continue
        if name not in names:
            raise ConfigError(
                f"{source}: unknown key {key!r}; known keys here: {', '.join(sorted(names))}"
            )
        kwargs[name] = _coerce(value, hints[name], key, source)
    try:
        return cls(**kwargs)
    except ConfigError as err:
        raise ConfigError(f"{source}: {err}") from None


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def parse_override(text: str) -> dict[str, Any]:
    """``section.key=value`` → nested dict; the value is parsed as YAML (1, true, [a, b])."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {text!r}: expected section.key=value")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as err:
        raise ConfigError(f"--set {text!r}: value is not valid YAML ({err})") from None
    out: dict[str, Any] = {}
    node = out
    parts = key.strip().split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML mapping from a file, with errors that name the file and line."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}:{where} invalid YAML: {getattr(err, 'problem', err)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: top level must be a mapping of sections, got {type(data).__name__}"
        )
    return data


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Load ``path`` (default ``configs/default.yaml``), then apply ``overrides``."""
    if path is None and DEFAULT_CONFIG.is_file():
        path = DEFAULT_CONFIG
    values = read_yaml(path) if path is not None else {}
    source = str(path) if path is not None else "defaults"
    config = _build(Config, values, "", source)
    for text in overrides or []:
        values = _merge(values, parse_override(text))
        config = _build(Config, values, "", f"--set {text}")
    return config


def to_dict(config: Any) -> dict[str, Any]:
    """Plain-dict form of a config (what gets written to a run directory)."""
    return dataclasses.asdict(config)


def dump_yaml(config: Any, path: str | Path) -> None:
    """Write the resolved config as YAML."""
    Path(path).write_text(yaml.safe_dump(to_dict(config), sort_keys=False), encoding="utf-8")
