"""The configuration tree: section dataclasses ← YAML file ← ``--set key=value`` overrides.

Every command reads ``configs/default.yaml`` unless ``--config`` names another file.
Unknown keys and values of the wrong type are errors that name the key and the file.
The resolved config is what a run directory records. The sections themselves (and what
each value may be) are in ``tfcls.config_sections``; this module reads YAML into them,
coerces values, applies overrides and migrates keys that moved or were removed.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from tfcls import resources
from tfcls.config_sections import (
    FLAT_TRAIN_KEYS,
    QUANTIZATIONS,
    STRATEGIES,
    TUNER_KINDS,
    AdaptConfig,
    AugmentConfig,
    Config,
    ConfigError,
    ContrastiveConfig,
    DataConfig,
    DecisionConfig,
    EncoderConfig,
    ExportConfig,
    MlflowConfig,
    ModelConfig,
    MonitorConfig,
    RetrainConfig,
    ServingConfig,
    StorageConfig,
    TrackingConfig,
    TrainConfig,
    TunerConfig,
    flat_key_warning,
)

__all__ = [
    "DEFAULT_CONFIG",
    "QUANTIZATIONS",
    "REMOVED",
    "STRATEGIES",
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
    "dump_yaml",
    "load_config",
    "parse_override",
    "read_yaml",
    "to_dict",
]

DEFAULT_CONFIG = resources.DEFAULT_CONFIG


def _type_name(tp: Any) -> str:
    if dataclasses.is_dataclass(tp):
        return "mapping (a section of keys)"
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
    "train.fine_tune": "encoder adaptation is now train.adapt.layers (0 = frozen encoder, "
    "6 = every layer of MiniLM)",
    "train.fine_tune_learning_rate": "use train.adapt.learning_rate",
    "train.fine_tune_epochs": "use train.adapt.epochs",
    "train.fine_tune_batch_size": "use train.adapt.batch_size",
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


def _migrate(values: dict[str, Any], source: str) -> dict[str, Any]:
    """One layer of values (a file, or one ``--set``) with the flat ``train.adapt_*`` and
    ``train.contrastive*`` keys moved into their sections, each with a deprecation warning,
    and ``train.class_weights: true/false`` read as ``inverse``/``none``.

    Layers are migrated before they are merged, so ``--set train.adapt_layers=5`` still
    overrides a file's ``train.adapt.layers``. A layer giving both spellings is an error.
    """
    train = values.get("train")
    if not isinstance(train, dict):
        return values
    train = dict(train)
    if isinstance(train.get("class_weights"), bool):  # false/true before there were kinds
        train["class_weights"] = "inverse" if train["class_weights"] else "none"
    flat = [k for k in train if k in FLAT_TRAIN_KEYS]
    if isinstance(train.get("contrastive"), dict):
        flat.remove("contrastive")  # the section itself, not the old switch
    for old in sorted(flat, key=lambda k: k != "contrastive"):  # the switch first
        section, key = FLAT_TRAIN_KEYS[old]
        value = train.pop(old)
        node = train.get(section) or {}
        if not isinstance(node, dict):
            raise ConfigError(f"{source}: train.{section} must be a mapping, got {node!r}")
        if key in node:
            raise ConfigError(
                f"{source}: train.{old} and train.{section}.{key} are the same setting; "
                f"delete train.{old}"
            )
        flat_key_warning(old, source)
        train[section] = {**node, key: value}
    return {**values, "train": train}


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Load ``path`` (default ``configs/default.yaml``), then apply ``overrides``."""
    if path is None and DEFAULT_CONFIG.is_file():
        path = DEFAULT_CONFIG
    source = str(path) if path is not None else "defaults"
    values = _migrate(read_yaml(path), source) if path is not None else {}
    config = _build(Config, values, "", source)
    for text in overrides or []:
        source = f"--set {text}"
        values = _merge(values, _migrate(parse_override(text), source))
        config = _build(Config, values, "", source)
    return config


def to_dict(config: Any) -> dict[str, Any]:
    """Plain-dict form of a config (what gets written to a run directory)."""
    return dataclasses.asdict(config)


def dump_yaml(config: Any, path: str | Path) -> None:
    """Write the resolved config as YAML."""
    Path(path).write_text(yaml.safe_dump(to_dict(config), sort_keys=False), encoding="utf-8")
