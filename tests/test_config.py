"""The config tree: defaults, YAML, overrides and errors that name the key and file."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tfcls.config import (
    DEFAULT_CONFIG,
    AdaptConfig,
    Config,
    ConfigError,
    ContrastiveConfig,
    load_config,
    parse_override,
    to_dict,
)
from tfcls.config_sections import FLAT_TRAIN_KEYS


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
    assert config.train.adapt.layers == 4
    assert "ignoring removed key 'train.fine_tune_epochs' (use train.adapt.epochs)" in (
        capsys.readouterr().err
    )
    with pytest.raises(ConfigError, match=r"'train.fine_tune' was removed: .*adapt\.layers"):
        load_config(overrides=["train.fine_tune=true"])
    with pytest.raises(ConfigError, match=r"train\.crossfit_folds must be ≥ 2"):
        load_config(overrides=["train.crossfit_folds=1"])


def test_retrain_quantize_typo_fails_at_load_not_after_training():
    """A bad export setting of a promoted candidate is refused before anything trains."""
    bad = r"retrain\.quantize must be auto or one of .*float16, .*got 'int4'"
    with pytest.raises(ConfigError, match=bad):
        load_config(None, ["retrain.quantize=int4"])
    assert load_config(None, ["retrain.quantize=float16"]).retrain.quantize == "float16"


# train.adapt and train.contrastive: sections now, flat keys for one more release

FLAT = {  # old flat key → (section, key, a valid non-default value)
    "adapt_layers": ("adapt", "layers", 2),
    "adapt_epochs": ("adapt", "epochs", 7),
    "adapt_learning_rate": ("adapt", "learning_rate", 0.001),
    "adapt_batch_size": ("adapt", "batch_size", 8),
    "adapt_warmup": ("adapt", "warmup", 0.25),
    "contrastive": ("contrastive", "enabled", True),
    "contrastive_iterations": ("contrastive", "iterations", 3),
    "contrastive_epochs": ("contrastive", "epochs", 2),
    "contrastive_learning_rate": ("contrastive", "learning_rate", 0.0001),
    "contrastive_batch_size": ("contrastive", "batch_size", 4),
}


def test_every_flat_train_key_has_a_section_key():
    assert set(FLAT) == set(FLAT_TRAIN_KEYS)
    assert all(FLAT_TRAIN_KEYS[k] == (s, key) for k, (s, key, _) in FLAT.items())


def test_nested_sections_load_from_yaml_and_set(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  adapt:\n    layers: 2\n  contrastive:\n    enabled: true\n")
    config = load_config(path, ["train.adapt.epochs=3", "train.contrastive.iterations=5"])
    assert isinstance(config.train.adapt, AdaptConfig)
    assert isinstance(config.train.contrastive, ContrastiveConfig)
    assert (config.train.adapt.layers, config.train.adapt.epochs) == (2, 3)
    assert config.train.contrastive.enabled and config.train.contrastive.iterations == 5
    assert config.train.adapt.batch_size == AdaptConfig().batch_size  # the rest: defaults
    assert to_dict(config)["train"]["adapt"]["layers"] == 2  # what a run's config.yaml holds


def test_nested_typos_and_bad_values_name_the_key_and_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  adapt:\n    layer: 2\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: unknown key 'train\.adapt\.layer'.*layers"):
        load_config(path)
    with pytest.raises(ConfigError, match=r"--set train\.adapt\.layers=-1: train\.adapt\.layers"):
        load_config(overrides=["train.adapt.layers=-1"])
    with pytest.raises(ConfigError, match=r"train\.adapt = 4 is not a mapping"):
        load_config(overrides=["train.adapt=4"])
    with pytest.raises(ConfigError, match=r"train\.contrastive\.enabled = 'yes please'"):
        load_config(overrides=["train.contrastive.enabled=yes please"])


@pytest.mark.parametrize("old", sorted(FLAT))
def test_a_flat_key_in_a_file_still_works_with_a_warning(old, tmp_path, capsys):
    section, key, value = FLAT[old]
    path = tmp_path / "old.yaml"  # e.g. an older run's config.yaml
    path.write_text(f"train:\n  {old}: {value}\n")
    with pytest.warns(DeprecationWarning) as caught:
        config = load_config(path)
    assert getattr(getattr(config.train, section), key) == value
    message = f"{path}: train.{old} is deprecated"
    assert any(message in str(w.message) for w in caught)
    assert f"use train.{section}.{key}" in str(caught[0].message)
    assert message in capsys.readouterr().err  # people see it too, not only code


@given(st.sampled_from(sorted(FLAT)), st.booleans())
def test_a_flat_set_equals_its_nested_set(old, on_top_of_a_file_value):
    """``--set train.adapt_layers=5`` (BENCHMARKS.md's commands) means
    ``--set train.adapt.layers=5``, also when it overrides a file's nested value."""
    section, key, value = FLAT[old]
    first = [f"train.{section}.{key}={FLAT_DEFAULT[old]}"] if on_top_of_a_file_value else []
    with pytest.warns(DeprecationWarning, match=rf"--set train\.{old}=.*use train\.{section}"):
        flat = load_config(overrides=[*first, f"train.{old}={value}"])
    assert flat == load_config(overrides=[*first, f"train.{section}.{key}={value}"])
    assert getattr(getattr(flat.train, section), key) == value


FLAT_DEFAULT = {old: getattr(getattr(Config().train, s), k) for old, (s, k, _) in FLAT.items()}


def test_both_spellings_in_one_file_is_an_error(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  adapt_layers: 2\n  adapt:\n    layers: 3\n")
    same = r"c\.yaml: train\.adapt_layers and train\.adapt\.layers are the same setting"
    with pytest.raises(ConfigError, match=same):
        load_config(path)


def test_flat_contrastive_switch_merges_with_flat_settings(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  contrastive_iterations: 3\n  contrastive: true\n")
    with pytest.warns(DeprecationWarning):
        config = load_config(path)
    assert config.train.contrastive == ContrastiveConfig(enabled=True, iterations=3)


def test_flat_attributes_still_work_with_a_warning():
    """Code written against ``config.train.adapt_layers`` (retraining sets it) keeps working."""
    config = Config()
    with pytest.warns(DeprecationWarning, match=r"train\.adapt_layers is deprecated"):
        config.train.adapt_layers = 0
    assert config.train.adapt.layers == 0
    with pytest.warns(DeprecationWarning, match=r"use train\.contrastive\.enabled"):
        config.train.contrastive = True
    assert config.train.contrastive.enabled is True
    with pytest.warns(DeprecationWarning):
        assert config.train.contrastive_iterations == 20
    with pytest.raises(AttributeError):
        config.train.adapt_layer  # noqa: B018


@pytest.mark.parametrize(("old", "new"), [(False, "none"), (True, "inverse")])
def test_class_weights_true_false_read_as_their_kinds(old, new, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(f"train:\n  class_weights: {str(old).lower()}\n", encoding="utf-8")
    assert load_config(path).train.class_weights == new
    assert (
        load_config(overrides=[f"train.class_weights={str(old).lower()}"]).train.class_weights
        == new
    )


def test_old_loss_name_still_loads_and_bad_sections_name_their_key():
    assert load_config(overrides=["model.loss=binary_crossentropy"]).model.loss == "crossentropy"
    for override, key in [
        ("train.class_weights=balanced", "train.class_weights"),
        ("train.class_balance_beta=1", "train.class_balance_beta"),
        ("data.augment.operations=[synonym, shout]", "data.augment.operations"),
        ("data.augment.rate=0", "data.augment.rate"),
        ("tracking.mlflow.enabled=maybe", "tracking.mlflow.enabled"),
    ]:
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            load_config(overrides=[override])
