"""The config tree: defaults, YAML, overrides and errors that name the key and file."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tfcls.config import DEFAULT_CONFIG, Config, ConfigError, load_config, parse_override, to_dict


def test_default_yaml_equals_dataclass_defaults():
    assert DEFAULT_CONFIG.is_file()
    assert to_dict(load_config()) == to_dict(Config())


def test_overrides_are_parsed_as_yaml_values():
    cfg = load_config(
        overrides=[
            "encoder.batch_size=16",
            "encoder.embedding_cache=false",
            "encoder.preprocessor=/tmp/pre",
        ]
    )
    assert cfg.encoder.batch_size == 16 and cfg.encoder.embedding_cache is False
    assert cfg.encoder.preprocessor == "/tmp/pre"


def test_unknown_key_names_key_and_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("encoder:\n  handel: x\n")
    with pytest.raises(ConfigError, match=r"c.yaml: unknown key 'encoder.handel'.*handle"):
        load_config(path)
    with pytest.raises(ConfigError, match=r"--set nope.x=1: unknown key 'nope'"):
        load_config(overrides=["nope.x=1"])


def test_wrong_type_and_bad_value_are_named(tmp_path):
    with pytest.raises(ConfigError, match=r"encoder.batch_size = 'many' is not a int"):
        load_config(overrides=["encoder.batch_size=many"])
    with pytest.raises(ConfigError, match=r"encoder.batch_size must be ≥ 1"):
        load_config(overrides=["encoder.batch_size=0"])
    with pytest.raises(ConfigError, match=r"expected section\.key=value"):
        parse_override("encoder.batch_size")


def test_yaml_syntax_error_names_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("encoder:\n  handle: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: line \d+, column \d+ invalid YAML"):
        load_config(path)
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.yaml")


@given(st.integers(min_value=1, max_value=10_000))
def test_int_overrides_roundtrip(n):
    cfg = load_config(overrides=[f"encoder.batch_size={n}"])
    assert dataclasses.replace(cfg.encoder).batch_size == n


def test_removed_keys_say_what_replaced_them(tmp_path, capsys):
    old = tmp_path / "old.yaml"
    old.write_text("train:\n  fine_tune: false\n  fine_tune_epochs: 4\n")
    config = load_config(old)  # an older run's config.yaml still loads
    assert config.train.adapt_layers == 4
    assert "ignoring removed key 'train.fine_tune_epochs' (use train.adapt_epochs)" in (
        capsys.readouterr().err
    )
    with pytest.raises(ConfigError, match=r"'train.fine_tune' was removed: .*adapt_layers"):
        load_config(overrides=["train.fine_tune=true"])
    with pytest.raises(ConfigError, match=r"train\.crossfit_folds must be ≥ 2"):
        load_config(overrides=["train.crossfit_folds=1"])


def test_retrain_quantize_typo_fails_at_load_not_after_training():
    """A bad export setting of a promoted candidate is refused before anything trains."""
    with pytest.raises(ConfigError, match=r"retrain\.quantize must be auto or one of uint8"):
        load_config(None, ["retrain.quantize=int8"])
    assert load_config(None, ["retrain.quantize=float16"]).retrain.quantize == "float16"
