"""Exporting a multi-label run: per-label calibrated sigmoids in the bundle, label-set fidelity."""

from __future__ import annotations

import numpy as np
import pytest

from tfcls.bundle import fidelity as fidelity_mod
from tfcls.bundle.registry import Registry
from tfcls.bundle.runtime import BundleModel
from tfcls.decision.label_predictor import LabelSetPredictor


def test_a_multi_label_bundle_states_its_thresholds_and_matches_keras(tiny_multilabel_bundle):
    registry = Registry(tiny_multilabel_bundle)
    version, meta = registry.require_metadata()
    record = meta.record
    assert meta.task == "multi_label" and record["task"] == "multi_label"
    assert meta.labels == ("billing", "bug", "ui") and len(meta.thresholds) == 3
    assert record["threshold"] is None and record["unknown"] is None
    for runtime in ("node_tfjs", "node_tfjs_check", "python_bundle"):
        f = meta.fidelity[runtime]
        assert {"agreement", "label_decision_agreement"} <= set(f), f
    assert "macro_f1" in meta.fidelity["node_tfjs"]  # labels: the macro-F1 change is gated
    assert meta.fidelity["python_bundle"]["max_probability_diff_vs_node"] < 1e-5
    # the bundle's probabilities are the run's calibrated per-label probabilities
    predictor = LabelSetPredictor(meta.run)
    texts = ["invoice refund crash", "button font", "payment charge layout", ""]
    ref, _ = predictor.text_scores(texts)
    node, _ = fidelity_mod.node_predict(registry.path(version), texts)
    python, _ = BundleModel(registry.path(version)).predict(texts)
    assert node.shape == (4, 3) and np.abs(node - ref).max() < 1e-2  # float16 weights
    assert np.abs(python - node).max() < 1e-5
    assert not np.allclose(node.sum(1), 1.0)  # independent sigmoids
    sets = predictor.predict_sets(texts)
    for row, chosen in zip(ref, sets, strict=True):
        assert set(chosen) == {
            label for label, p, t in zip(meta.labels, row, meta.thresholds, strict=True) if p >= t
        }


def test_label_set_fidelity_counts_whole_sets_and_single_decisions():
    ref = np.array([[0.9, 0.1], [0.6, 0.6], [0.2, 0.2]])
    moved = ref + np.array([[0, 0], [0, -0.2], [0, 0]])  # one decision of one text flips
    f = fidelity_mod.label_set_fidelity(moved, ref, np.array([0.5, 0.5]), np.array([[1, 0]] * 3))
    assert f["agreement"] == pytest.approx(2 / 3)
    assert f["label_decision_agreement"] == pytest.approx(5 / 6)
    assert f["n"] == 3 and f["max_probability_diff"] == pytest.approx(0.2)
    assert not fidelity_mod.acceptable(f)


def test_metadata_of_a_multi_label_bundle_is_checked(tiny_multilabel_bundle, tmp_path):
    from tfcls.bundle.metadata import BundleMetadata, MetadataError

    registry = Registry(tiny_multilabel_bundle)
    record = dict(registry.require_metadata()[1].record)
    for bad in ([0.5, 0.5], [0.5, 2.0, 0.5], None):
        with pytest.raises(MetadataError, match="'thresholds' must hold one number"):
            BundleMetadata.from_record({**record, "thresholds": bad}, tmp_path / "m.json")
    with pytest.raises(MetadataError, match="'task' must be"):
        BundleMetadata.from_record({**record, "task": "multi"}, tmp_path / "m.json")
