"""Public benchmark plumbing: dataset loading and slicing, aggregation, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _fake_public(n_train: int, n_test: int, labels: int = 3):
    from tfcls.data.dataset import Dataset, Example

    def ds(n, start):
        texts = [(f"c{k}-{start + i}", f"l{k}") for k in range(labels) for i in range(n)]
        examples = [Example(t, label, "fake", t, "") for t, label in texts]
        return Dataset(Path("fake"), "0" * 64, examples, [f"l{k}" for k in range(labels)], None)

    return ds(n_train, 0), ds(n_test, 1000)


def test_run_seed_runs_the_training_steps_on_the_shots(tmp_path):
    """run_seed is tfcls.training.steps on the sampled shots, scored on the test split."""
    from training.test_steps import QUICK, LookupEncoder

    from tfcls.bench.public import run_seed
    from tfcls.config import load_config

    enc = LookupEncoder()
    train, test = _fake_public(12, 5)
    out = run_seed(enc, train, test, 6, 3, load_config(None, QUICK), tmp_path)
    assert out["seed"] == 3 and out["train"] == 18  # 6 shots of each of 3 labels
    assert "contrastive" not in out and out["crossfit"]["folds"] == 2
    assert 0.5 < out["accuracy"] <= 1 and 0 <= out["macro_f1"] <= 1
    shots = enc.calls[0]  # embedded once, then the test split once
    assert len(shots) == 18 and set(shots) <= set(train.texts)
    assert enc.calls[1:] == [test.texts]


@settings(max_examples=30, deadline=None)
@given(
    st.integers(2, 6),
    st.integers(1, 5),
    st.one_of(st.none(), st.integers(1, 4)),
    st.integers(0, 99),
    st.booleans(),
)
def test_known_sample_keeps_known_intents_only_renumbered(labels, n_known, shots, seed, all_known):
    from tfcls.bench.public import _known_sample

    n_known = min(n_known, labels)
    train, _ = _fake_public(5, 1, labels)
    sample, remap = _known_sample(train, None if all_known else n_known, shots, seed)
    known = np.flatnonzero(remap >= 0)
    assert len(known) == (labels if all_known else n_known)
    assert sorted(remap[known]) == list(range(len(known)))  # known ids 0..k-1, in order
    assert sample.labels == [train.labels[k] for k in known]
    assert {e.label for e in sample.examples} == set(sample.labels)
    assert len(sample.examples) == len(known) * (5 if shots is None else min(shots, 5))
    again, _ = _known_sample(train, None if all_known else n_known, shots, seed)
    assert again.texts == sample.texts  # seeded


def test_bench_unknown_refuses_a_known_fraction_outside_0_1(tmp_path):
    from tfcls.bench.public import bench_unknown
    from tfcls.config import Config

    with pytest.raises(TfclsError, match=r"--known-fraction must be in \(0, 1\), got 1"):
        bench_unknown(None, "hwu64", 1, 1, None, Config(), tmp_path)
