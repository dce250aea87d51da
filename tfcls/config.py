"""The configuration tree: nested dataclasses ← YAML file ← ``--set key=value`` overrides.

Every command reads ``configs/default.yaml`` unless ``--config`` names another file.
Unknown keys and values of the wrong type are errors that name the key and the file.
The resolved config is what a run directory records.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tfcls.errors import TfclsError

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "default.yaml"


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
class Config:
    """Root of the configuration tree."""

    encoder: EncoderConfig = field(default_factory=EncoderConfig)


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
    elif origin is list:
        if isinstance(value, list):
            (item,) = typing.get_args(tp)
            return [_coerce(v, item, f"{key}[{i}]", source) for i, v in enumerate(value)]
    elif tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(value, tp):
        return value
    raise ConfigError(f"{source}: {key} = {value!r} is not a {_type_name(tp)}")


def _build(cls: type, values: dict[str, Any], prefix: str, source: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for name, value in values.items():
        key = f"{prefix}.{name}" if prefix else str(name)
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
