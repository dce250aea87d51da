"""Multi-label training (``data.task: multi_label`` or list-valued labels): a real run."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import TOPICS, write_label_sets

from tfcls.errors import TfclsError
from tfcls.training import runs
from tfcls.training.runs import Run


@pytest.fixture(scope="module")
def multilabel_run(tiny_multilabel_run):
    return tiny_multilabel_run


def test_a_multi_label_run_records_its_decision_and_metrics(multilabel_run):
    run = Run(multilabel_run.run_dir)
    assert run.info()["task"] == "multi_label" and run.info()["status"] == "complete"
    labels = sorted(TOPICS)
    assert runs.read_json(run.path(Run.LABEL_MAP)) == {label: i for i, label in enumerate(labels)}
    calibration = runs.read_json(run.path(Run.CALIBRATION))
    assert calibration["task"] == "multi_label" and list(calibration["labels"]) == labels
    for entry in calibration["labels"].values():
        assert 0.0 <= entry["threshold"] <= 1.0 and np.isfinite([entry["a"], entry["b"]]).all()
    metrics = multilabel_run.metrics
    for part in ("oof", "test"):
        m = metrics[part]
        assert 0.0 <= m["macro_f1"] <= 1.0 and 0.0 <= m["hamming_loss"] <= 1.0
        assert set(m["per_label"]) == set(labels)
    assert metrics["oof"]["n"] + metrics["test"]["n"] == 90
    assert len(metrics["trials"]) == 2 and "test_fixed_0_5" in metrics
    # the tiny encoder has 2 layers: train.adapt.layers=4 adapts both, out of fold
    assert metrics["adapt"]["layers"] == 2 and "adapt_clamped" in metrics
    head = run.head()
    assert head.output_shape[-1] == 3  # one sigmoid per label
    out = head.predict(np.zeros((2, head.input_shape[-1]), np.float32), verbose=0)
    assert out.shape == (2, 3) and not np.allclose(out.sum(1), 1.0)  # not a softmax


def test_single_label_commands_refuse_a_multi_label_run_by_name(multilabel_run):
    from tfcls.decision.predictor import Predictor

    with pytest.raises(TfclsError, match="a multi-label run; prediction takes single-label runs"):
        Predictor(multilabel_run.run_dir)


def test_the_task_can_be_forced(tmp_path):
    import tfcls
    from tfcls.training.multilabel_run import is_multi_label

    data = tmp_path / "t.jsonl"
    write_label_sets(data, n=12)
    config = tfcls.load_config(None, [f"data.path={data}"])
    assert is_multi_label(config)
    config.data.task = "single_label"
    assert not is_multi_label(config)
