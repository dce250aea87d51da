"""Encoder fine-tuning: trains end to end, keeps the encoder only when validation improves."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tfcls.config import load_config
from tfcls.data import load_dataset
from tfcls.encoders import load_encoder
from tfcls.finetune import fine_tune
from tfcls.model import build_head, one_hot
from tfcls.splits import stratified_split


@pytest.fixture(scope="module")
def setup(small_dataset, minilm):
    ds = load_dataset(small_dataset)
    tr, val, _ = stratified_split(ds.y, 0.3, 0.0, seed=0)
    texts = {"train": [ds.texts[i] for i in tr], "val": [ds.texts[i] for i in val]}
    y = {"train": ds.y[tr], "val": ds.y[val]}
    return ds, texts, y


def weak_head(minilm, texts, y, n):
    """A head that has barely trained, so end-to-end training has room to help."""
    head = build_head(n, minilm.dim, units=64, learning_rate=1e-3)
    head.fit(minilm.embed(texts["train"]), one_hot(y["train"], n), epochs=1, verbose=0)
    return head


@pytest.mark.slow
def test_fine_tuning_that_helps_is_kept_and_saved(setup, minilm, tmp_path, cache_dir):
    ds, texts, y = setup
    n = len(ds.labels)
    head = weak_head(minilm, texts, y, n)
    config = load_config(
        overrides=[
            "train.fine_tune_learning_rate=0.0001",
            "train.fine_tune_epochs=3",
            "train.fine_tune_patience=3",
        ]
    )
    report = fine_tune(minilm.modules, head, texts, y, n, 0.0, config, tmp_path)
    assert report["kept"] and report["gain"] > 0, report
    assert report["val_accuracy_after"] == pytest.approx(
        report["val_accuracy_before"] + report["gain"]
    )
    tuned = load_encoder(report["encoder"], cache_dir=tmp_path)
    assert tuned.fingerprint != minilm.fingerprint and tuned.dim == minilm.dim
    a, b = tuned.embed(texts["val"][:4]), minilm.embed(texts["val"][:4])
    assert np.abs(a - b).max() > 1e-4  # the weights really changed
    acc = (head.predict(tuned.embed(texts["val"]), verbose=0).argmax(1) == y["val"]).mean()
    assert acc == pytest.approx(report["val_accuracy_after"], abs=1e-6)
    # the original module on disk is untouched
    np.testing.assert_allclose(
        load_encoder(cache_dir=cache_dir, use_cache=False).embed(texts["val"][:4]), b, atol=1e-6
    )
    json.dumps(report)  # JSON-able for metrics.json


def test_fine_tuning_without_gain_is_not_kept_and_restores_the_head(setup, minilm, tmp_path):
    ds, texts, y = setup
    n = len(ds.labels)
    head = weak_head(minilm, texts, y, n)
    before = [w.copy() for w in head.get_weights()]
    config = load_config(
        overrides=["train.fine_tune_learning_rate=1e-12", "train.fine_tune_epochs=1"]
    )
    report = fine_tune(minilm.modules, head, texts, y, n, 0.0, config, tmp_path)
    assert not report["kept"] and "encoder" not in report
    assert not (tmp_path / "encoder").exists()
    for w, w0 in zip(head.get_weights(), before, strict=True):
        np.testing.assert_array_equal(w, w0)


def test_string_input_encoders_cannot_be_fine_tuned(setup, tiny_text_module, tmp_path):
    ds, texts, y = setup
    enc = load_encoder(str(tiny_text_module), cache_dir=tmp_path)
    head = build_head(len(ds.labels), enc.dim)
    with pytest.raises(Exception, match="string-input encoder"):
        fine_tune(enc.modules, head, texts, y, len(ds.labels), 0.0, load_config(), tmp_path)
