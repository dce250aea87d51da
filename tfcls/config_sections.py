"""The configuration's sections: one dataclass per YAML section, each validating itself.

``tfcls.config`` reads YAML into these (and re-exports them); a section's ``__post_init__``
checks its values, so a bad value fails at load with the key named, never mid-run.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass, field
from typing import Any

from tfcls.errors import TfclsError


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


TASKS = ("auto", "single_label", "multi_label")


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
    # multi_label: binary cross-entropy, or focal (down-weights easy labels: rare labels)
    loss: str = "binary_crossentropy"
    focal_gamma: float = 2.0

    def __post_init__(self) -> None:
        if self.units < 1 or not 0.0 <= self.dropout < 1.0 or self.learning_rate <= 0:
            raise ConfigError("model: units ≥ 1, 0 ≤ dropout < 1 and learning_rate > 0 needed")
        if self.loss not in ("binary_crossentropy", "focal"):
            raise ConfigError(f"model.loss must be binary_crossentropy or focal, got {self.loss!r}")
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


STRATEGIES = ("default", "mirrored", "multi_worker")
# bundle weight quantizations, smallest first (tfcls.bundle.export; auto tries them in order,
# but for per-tensor uint8). int8: per-channel 8-bit; int8e6: the same with the embedding table
# on 6-bit levels (tfcls.bundle.quantize)
QUANTIZATIONS = ("int8e6", "int8", "uint8", "float16", "none")


@dataclass
class AdaptConfig:
    """``train.adapt``: adapting the encoder's top layers with the head (tfcls.training.adapt)."""

    layers: int = 4  # top transformer layers adapted; 0: frozen encoder (--fast)
    epochs: int = 4  # scheduled; the count with the best out-of-fold accuracy is kept
    learning_rate: float = 3e-4  # peak, after a linear warm-up, then cosine decay
    batch_size: int = 32
    warmup: float = 0.1  # share of the steps spent warming up

    def __post_init__(self) -> None:
        if self.layers < 0:
            raise ConfigError(f"train.adapt.layers must be ≥ 0, got {self.layers}")
        if not 0 <= self.warmup < 1:
            raise ConfigError(f"train.adapt.warmup must be in [0, 1), got {self.warmup}")
        if not self.learning_rate > 0:
            raise ConfigError(f"train.adapt.learning_rate must be > 0, got {self.learning_rate}")
        _at_least_one(self, "train.adapt", ("epochs", "batch_size"))


@dataclass
class ContrastiveConfig:
    """``train.contrastive``: SetFit-style pair training of the encoder before the head
    (tfcls.training.contrastive); helps few-shot."""

    enabled: bool = False
    iterations: int = 20  # pair-generation rounds: 1 positive + 1 negative each
    epochs: int = 1
    learning_rate: float = 2e-5
    batch_size: int = 16

    def __post_init__(self) -> None:
        _at_least_one(self, "train.contrastive", ("iterations", "epochs", "batch_size"))
        if not self.learning_rate > 0:
            raise ConfigError(
                f"train.contrastive.learning_rate must be > 0, got {self.learning_rate}"
            )


def _at_least_one(section: Any, prefix: str, names: tuple[str, ...]) -> None:
    for name in names:
        value = getattr(section, name)
        if value < 1:
            raise ConfigError(f"{prefix}.{name} must be ≥ 1, got {value}")


# The flat keys of ``train.adapt`` and ``train.contrastive`` before they were sections:
# old key under ``train`` → (section, key). They keep working for one release, with a
# DeprecationWarning naming the new key (files and --set: tfcls.config; attributes: below).
FLAT_TRAIN_KEYS: dict[str, tuple[str, str]] = {
    **{f"adapt_{k}": ("adapt", k) for k in ("layers", "epochs", "learning_rate", "batch_size")},
    "adapt_warmup": ("adapt", "warmup"),
    "contrastive": ("contrastive", "enabled"),
    **{
        f"contrastive_{k}": ("contrastive", k)
        for k in ("iterations", "epochs", "learning_rate", "batch_size")
    },
}


def flat_key_warning(old: str, where: str) -> None:
    """Say that ``train.<old>`` is deprecated, where it was used and its new key: a
    DeprecationWarning for code, and the same line on stderr for people (Python hides
    DeprecationWarnings outside ``__main__``, and a config file is not code)."""
    section, key = FLAT_TRAIN_KEYS[old]
    message = (
        f"{where}: train.{old} is deprecated and will be removed in the next release; "
        f"use train.{section}.{key}"
    )
    print(f"warning: {message}", file=sys.stderr)
    warnings.warn(message, DeprecationWarning, stacklevel=3)


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
    adapt: AdaptConfig = field(default_factory=AdaptConfig)
    contrastive: ContrastiveConfig = field(default_factory=ContrastiveConfig)

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ConfigError(
                f"train.strategy must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}"
            )
        if self.epochs < 1 or self.patience < 1:
            raise ConfigError("train.epochs and train.patience must be ≥ 1")
        if self.crossfit_folds < 2:
            raise ConfigError(f"train.crossfit_folds must be ≥ 2, got {self.crossfit_folds}")

    # One release of the flat attributes (``config.train.adapt_layers``, and
    # ``config.train.contrastive = False``) for code written against them.
    def __getattr__(self, name: str) -> Any:
        if name not in FLAT_TRAIN_KEYS or name == "contrastive":
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        flat_key_warning(name, "attribute")
        section, key = FLAT_TRAIN_KEYS[name]
        return getattr(getattr(self, section), key)

    def __setattr__(self, name: str, value: Any) -> None:
        flat = name in FLAT_TRAIN_KEYS and (name != "contrastive" or isinstance(value, bool))
        if not flat:
            object.__setattr__(self, name, value)
            return
        flat_key_warning(name, "attribute")
        section, key = FLAT_TRAIN_KEYS[name]
        if section not in self.__dict__:  # TrainConfig(contrastive=True), during __init__
            object.__setattr__(self, section, ContrastiveConfig())
        setattr(getattr(self, section), key, value)


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
    # exported versions kept on disk; publishing deletes the oldest beyond it, never the
    # current one, the rollback target or an A/B version (tfcls.bundle.registry.prune)
    keep_versions: int = 5

    def __post_init__(self) -> None:
        if self.keep_versions < 1:
            raise ConfigError(f"serving.keep_versions must be ≥ 1, got {self.keep_versions}")
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
class ExportConfig:
    """``python -m tfcls.export``: the fidelity gate's second, larger text set.

    Every candidate bundle is run in Node on the held-out split and on these texts; auto
    keeps the smallest whose argmax agreement with float32 is ≥ 99.5% on both."""

    check_texts: str | None = None  # JSONL with a 'text' field; None: the run's own texts
    check_n: int = 2000  # texts taken from it (seeded, distinct)

    def __post_init__(self) -> None:
        if self.check_n < 1:
            raise ConfigError(f"export.check_n must be ≥ 1, got {self.check_n}")


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
    export: ExportConfig = field(default_factory=ExportConfig)
    retrain: RetrainConfig = field(default_factory=RetrainConfig)
