"""Public benchmark plumbing: dataset loading and slicing, aggregation, errors."""

from __future__ import annotations

import pytest

from tfcls.bench.public import PUBLISHED, TARGETS, load_public, mean_std
from tfcls.errors import TfclsError


def test_load_public_slices_and_keeps_class_ids_aligned():
    train, test = load_public("banking77", labels=3, test_per_label=5)
    assert train.labels == test.labels and len(train.labels) == 3
    assert len(test.examples) == 15
    assert set(test.y) == {0, 1, 2}
    full_train, full_test = load_public("hwu64")
    assert len(full_train.labels) == 64 and len(full_test.examples) == 1076
    assert set(full_test.labels) <= set(full_train.labels)


def test_missing_datasets_name_the_path_and_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("TFCLS_DATASETS", str(tmp_path))
    with pytest.raises(TfclsError, match=r"banking77/train\.jsonl.*TFCLS_DATASETS"):
        load_public("banking77")


def test_test_labels_unknown_to_train_are_an_error(tmp_path, monkeypatch):
    (tmp_path / "hwu64").mkdir()
    (tmp_path / "hwu64" / "train.jsonl").write_text(
        '{"text": "hi there", "label": "a"}\n{"text": "ok then", "label": "c"}\n'
    )
    (tmp_path / "hwu64" / "test.jsonl").write_text(
        '{"text": "bye now", "label": "b"}\n{"text": "fine", "label": "a"}\n'
    )
    monkeypatch.setenv("TFCLS_DATASETS", str(tmp_path))
    with pytest.raises(TfclsError, match=r"labels missing from train\.jsonl: b"):
        load_public("hwu64")


def test_mean_std():
    assert mean_std([0.8]) == {"mean": 0.8, "std": 0.0}
    r = mean_std([0.8, 0.9, 1.0])
    assert r["mean"] == pytest.approx(0.9) and r["std"] == pytest.approx(0.1)


def test_targets_sit_above_the_published_frozen_encoder_results():
    for (name, shots), target in TARGETS.items():
        published = PUBLISHED[name][shots]
        frozen = [v for k, v in published.items() if "fine-tuned" not in k]
        assert target > max(frozen, default=0.0)
        assert target <= max(published.values()) + 0.1  # a published figure, not invented
