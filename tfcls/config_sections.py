"""The configuration's sections: one dataclass per YAML section, each validating itself.

``tfcls.config`` reads YAML into these (and re-exports them); a section's ``__post_init__``
checks its values, so a bad value fails at load with the key named, never mid-run.
The ``train`` sections live in ``tfcls.config_train``, those of what follows training
(export, storage, serving, retrain, monitor) in ``tfcls.config_deploy``; this module holds
the rest and the root, ``Config``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tfcls.config_deploy import (
    QUANTIZATIONS,
    ExportConfig,
    MonitorConfig,
    RetrainConfig,
    ServingConfig,
    StorageConfig,
)
from tfcls.config_errors import ConfigError
from tfcls.config_train import (
    FLAT_TRAIN_KEYS,
    STRATEGIES,
    AdaptConfig,
    ContrastiveConfig,
    TrainConfig,
    flat_key_warning,
)

__all__ = [
    "FLAT_TRAIN_KEYS",
    "QUANTIZATIONS",
    "STRATEGIES",
    "TASKS",
    "TUNER_KINDS",
    "AdaptConfig",
    "AugmentConfig",
    "Config",
    "ConfigError",
    "ContrastiveConfig",
    "DataConfig",
    "DecisionConfig",
    "EncoderConfig",
    "ExportConfig",
    "MlflowConfig",
    "ModelConfig",
    "MonitorConfig",
    "RetrainConfig",
    "ServingConfig",
    "StorageConfig",
    "TrackingConfig",
    "TrainConfig",
    "TunerConfig",
    "flat_key_warning",
]


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


TASKS = ("auto", "single_label", "multi_label")
AUGMENT_OPERATIONS = ("synonym", "insert", "swap", "delete")


@dataclass
class AugmentConfig:
    """``data.augment``: token-level augmentation of the training part of small datasets
    (``tfcls.data.augment``); never applied to validation, test or held-out folds."""

    enabled: bool = False  # off by default: BENCHMARKS.md says what it gives where
    copies: int = 2  # new texts made from each training text
    rate: float = 0.1  # share of a text's words each operation changes (at least one)
    operations: list[str] = field(default_factory=lambda: list(AUGMENT_OPERATIONS))
    # only labels with fewer training texts than this are augmented; 0: every label
    below_per_label: int = 0

    def __post_init__(self) -> None:
        if self.copies < 1:
            raise ConfigError(f"data.augment.copies must be ≥ 1, got {self.copies}")
        if not 0 < self.rate <= 0.5:
            raise ConfigError(f"data.augment.rate must be in (0, 0.5], got {self.rate}")
        unknown = [op for op in self.operations if op not in AUGMENT_OPERATIONS]
        if unknown or not self.operations:
            raise ConfigError(
                f"data.augment.operations must be a non-empty list of "
                f"{', '.join(AUGMENT_OPERATIONS)}; got {self.operations}"
            )
        if self.below_per_label < 0:
            raise ConfigError(
                f"data.augment.below_per_label must be ≥ 0, got {self.below_per_label}"
            )


@dataclass
class DataConfig:
    """Which dataset, and how it is split."""

    path: str = "data/training_data.json"  # SmartSynch JSON, or JSONL/CSV (text+label)
    val_fraction: float = 0.15  # tuning/early stopping/calibration
    test_fraction: float = 0.15  # held out; reported, never trained or tuned on
    min_per_label: int = 3  # fewer examples of a label is an error naming it
    # single_label (one label a text), multi_label (a set), or auto: multi_label when the
    # label field holds lists (JSON/JSONL) — a CSV label column needs multi_label set
    task: str = "auto"
    label_delimiter: str = "|"  # multi_label CSV: labels within one cell
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ConfigError(f"data.task must be one of {', '.join(TASKS)}, got {self.task!r}")
        if not self.label_delimiter or self.label_delimiter.strip() != self.label_delimiter:
            raise ConfigError(
                f"data.label_delimiter must be a non-blank separator, got {self.label_delimiter!r}"
            )
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
    # crossentropy (categorical for single_label, binary for multi_label), or focal:
    # down-weights examples the head already gets right, so rare classes weigh more
    loss: str = "crossentropy"
    focal_gamma: float = 2.0

    def __post_init__(self) -> None:
        if self.units < 1 or not 0.0 <= self.dropout < 1.0 or self.learning_rate <= 0:
            raise ConfigError("model: units ≥ 1, 0 ≤ dropout < 1 and learning_rate > 0 needed")
        if self.loss == "binary_crossentropy":  # its name before single_label had a choice
            self.loss = "crossentropy"
        if self.loss not in ("crossentropy", "focal"):
            raise ConfigError(f"model.loss must be crossentropy or focal, got {self.loss!r}")
        if not 0 <= self.focal_gamma < 10:
            raise ConfigError(f"model.focal_gamma must be in [0, 10), got {self.focal_gamma}")


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
    # multi_label: each label's threshold maximises its F1 out of fold (f1), or is the
    # lowest reaching target_precision there (precision)
    label_thresholds: str = "f1"

    def __post_init__(self) -> None:
        if self.label_thresholds not in ("f1", "precision"):
            raise ConfigError(
                f"decision.label_thresholds must be f1 or precision, got {self.label_thresholds!r}"
            )
        if self.unknown_score not in ("max_softmax", "nearest"):
            raise ConfigError(
                f"decision.unknown_score must be max_softmax or nearest, got {self.unknown_score!r}"
            )
        for name in ("target_precision", "known_recall"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ConfigError(f"decision.{name} must be in (0, 1], got {value}")


@dataclass
class MlflowConfig:
    """``tracking.mlflow``: log each run to MLflow (needs the ``tfcls[mlflow]`` extra)."""

    enabled: bool = False
    tracking_uri: str | None = None  # None: a local file store, ./mlruns
    experiment: str = "tfcls"
    log_artifacts: bool = True  # the run directory (config, metrics, report, model)


@dataclass
class TrackingConfig:
    """Experiment tracking beyond the run directory."""

    # tuner trials in TensorBoard's HParams tab (when train.tensorboard is on)
    hparams: bool = True
    mlflow: MlflowConfig = field(default_factory=MlflowConfig)


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
    export: ExportConfig = field(default_factory=ExportConfig)
    retrain: RetrainConfig = field(default_factory=RetrainConfig)
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
