"""SetFit-style contrastive tuning: pairs, siamese training, a saved module pair."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tfcls.config import ConfigError, load_config
from tfcls.data.dataset import load_dataset
from tfcls.encoders import load_encoder
from tfcls.errors import TfclsError
from tfcls.training.contrastive import contrastive_fine_tune, contrastive_pairs, label_separation


def few_shot(ds, labels: int, per_label: int) -> tuple[list[str], np.ndarray]:
    keep = np.concatenate([np.flatnonzero(ds.y == k)[:per_label] for k in range(labels)])
    return [ds.texts[i] for i in keep], ds.y[keep]


@pytest.mark.slow
def test_contrastive_tuning_separates_labels_and_saves_the_encoder(
    small_dataset, minilm, tmp_path, cache_dir
):
    ds = load_dataset(small_dataset)
    texts, y = few_shot(ds, labels=3, per_label=6)
    config = load_config(
        overrides=["train.contrastive.iterations=2", "train.contrastive.learning_rate=0.0001"]
    )
    report = contrastive_fine_tune(minilm.modules, texts, y, config, tmp_path)
    assert report["pairs"] == 2 * (18 + 18) and report["epochs"] == 1
    assert len(report["loss"]) == 1
    # measured: ≈ 0.30 → 0.93; same-label pairs pulled together, others pushed apart
    assert report["separation_after"] > report["separation_before"] + 0.1, report
    tuned = load_encoder(report["encoder"], cache_dir=tmp_path)
    assert tuned.fingerprint != minilm.fingerprint and tuned.dim == minilm.dim
    a, b = tuned.embed(texts[:4]), minilm.embed(texts[:4])
    assert np.abs(a - b).max() > 1e-4  # the weights really changed
    # the original module on disk is untouched
    np.testing.assert_allclose(
        load_encoder(cache_dir=cache_dir, use_cache=False).embed(texts[:4]), b, atol=1e-6
    )
    json.dumps(report)  # JSON-able for metrics.json


def test_contrastive_tuning_runs_end_to_end_on_a_tiny_encoder(tiny_pair, tmp_path):
    enc = load_encoder(str(tiny_pair), cache_dir=tmp_path / "cache")
    texts = ["fix login bug", "login bug fixed", "redirect bug", "weekly team sync",
             "sprint review meeting", "plan the meeting"]  # fmt: skip
    y = np.array([0, 0, 0, 1, 1, 1])
    config = load_config(
        overrides=["train.contrastive.iterations=2", "train.contrastive.batch_size=8"]
    )
    report = contrastive_fine_tune(enc.modules, texts, y, config, tmp_path / "run")
    assert report["pairs"] == 24 and report["encoder"] == str(tmp_path / "run" / "encoder")
    assert np.isfinite(report["loss"]).all() and report["devices"]
    assert -2 <= report["separation_before"] <= 2 and -2 <= report["separation_after"] <= 2
    tuned = load_encoder(report["encoder"], cache_dir=tmp_path / "cache")
    assert tuned.dim == enc.dim and tuned.embed(texts).shape == (6, enc.dim)
    json.dumps(report)


labels_lists = st.lists(st.integers(0, 4), min_size=2, max_size=40).filter(
    lambda y: len(set(y)) >= 2 and max(y.count(k) for k in set(y)) >= 2
)


@settings(deadline=None)
@given(labels_lists, st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_contrastive_pairs_invariants(y, iterations, seed):
    y = np.array(y)
    a, b, labels = contrastive_pairs(y, iterations, seed)
    assert len(a) == len(b) == len(labels)
    counts = {k: int((y == k).sum()) for k in set(y.tolist())}
    with_positive = sum(c for c in counts.values() if c >= 2)
    assert int((labels == 1).sum()) == iterations * with_positive
    assert int((labels == 0).sum()) == iterations * len(y)
    assert set(labels.tolist()) <= {0.0, 1.0}
    assert (a != b).all()  # no self-pairs
    pos, neg = labels == 1, labels == 0
    assert (y[a[pos]] == y[b[pos]]).all()
    assert (y[a[neg]] != y[b[neg]]).all()
    # each round: every example anchors one negative, and one positive if it can
    anchored = np.bincount(a[neg], minlength=len(y))
    assert (anchored == iterations).all()
    anchored = np.bincount(a[pos], minlength=len(y))
    assert (anchored == np.array([iterations if counts[k] >= 2 else 0 for k in y])).all()
    again = contrastive_pairs(y, iterations, seed)
    for x, x2 in zip((a, b, labels), again, strict=True):
        np.testing.assert_array_equal(x, x2)


def test_contrastive_pairs_cover_partners_and_depend_on_the_seed():
    y = np.repeat(np.arange(3), 4)
    a, b, labels = contrastive_pairs(y, 50, seed=0)
    # every same-label partner and every other-label partner turns up over many rounds
    assert len(set(zip(a[labels == 1], b[labels == 1], strict=True))) == 12 * 3
    assert len(set(zip(a[labels == 0], b[labels == 0], strict=True))) == 12 * 8
    assert not np.array_equal(b, contrastive_pairs(y, 50, seed=1)[1])


def test_label_separation_is_high_for_clusters_and_near_zero_for_noise():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(6), 20)
    centres = np.eye(16)[:6] * 10
    clustered = centres[y] + rng.normal(size=(len(y), 16))  # unnormalised on purpose
    assert label_separation(clustered, y, seed=1) > 0.8  # cos ≈ 100 / (100 + 16)
    noise = rng.normal(size=(len(y), 16))
    assert abs(label_separation(noise, y, seed=1)) < 0.1


def test_contrastive_pairs_need_two_labels_and_a_positive():
    with pytest.raises(TfclsError, match="at least 2 labels"):
        contrastive_pairs(np.zeros(5, dtype=int), 1, 0)
    with pytest.raises(TfclsError, match="at least 2 examples"):
        contrastive_pairs(np.arange(4), 1, 0)


def test_contrastive_tuning_with_one_label_is_an_error(tiny_pair, tmp_path):
    enc = load_encoder(str(tiny_pair), cache_dir=tmp_path)
    with pytest.raises(TfclsError, match="at least 2 labels"):
        contrastive_fine_tune(
            enc.modules, ["a", "b", "c"], np.zeros(3, int), load_config(), tmp_path
        )
    assert not (tmp_path / "encoder").exists()


def test_string_input_encoders_cannot_be_contrastively_tuned(tiny_text_module, tmp_path):
    enc = load_encoder(str(tiny_text_module), cache_dir=tmp_path)
    with pytest.raises(TfclsError, match=r"train\.contrastive: .* string-input encoder"):
        contrastive_fine_tune(enc.modules, ["a", "b"], np.array([0, 1]), load_config(), tmp_path)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.contrastive.iterations=0", "train.contrastive.iterations must be ≥ 1, got 0"),
        ("train.contrastive.epochs=0", "train.contrastive.epochs must be ≥ 1, got 0"),
        ("train.contrastive.batch_size=0", "train.contrastive.batch_size must be ≥ 1, got 0"),
        ("train.contrastive.learning_rate=0", "train.contrastive.learning_rate must be > 0"),
    ],
)
def test_contrastive_config_is_validated(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=[override])
