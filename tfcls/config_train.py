"""The configuration's training sections: ``train`` and its ``adapt`` / ``contrastive``
subsections, and the flat keys they replaced (kept for one release).

Part of ``tfcls.config_sections``' tree (re-exported by ``tfcls.config``); each section's
``__post_init__`` checks its values, so a bad value fails at load with the key named.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass, field
from typing import Any

from tfcls.config_errors import ConfigError

STRATEGIES = ("default", "mirrored", "multi_worker")
CLASS_WEIGHTS = ("none", "inverse", "effective")


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
    # none; inverse: weight classes inversely to their frequency; effective: by the
    # effective number of samples, (1 - beta) / (1 - beta^n) (Cui et al. 2019)
    class_weights: str = "none"
    class_balance_beta: float = 0.999
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
        if self.class_weights not in CLASS_WEIGHTS:
            raise ConfigError(
                f"train.class_weights must be one of {', '.join(CLASS_WEIGHTS)}, "
                f"got {self.class_weights!r}"
            )
        if not 0 < self.class_balance_beta < 1:
            raise ConfigError(
                f"train.class_balance_beta must be in (0, 1), got {self.class_balance_beta}"
            )
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
