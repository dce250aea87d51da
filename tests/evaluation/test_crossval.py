"""k-fold cross-validation of the whole procedure on synthetic embeddings."""

from __future__ import annotations

import numpy as np

from tfcls.config import load_config
from tfcls.data.dataset import Dataset, Example, LoadReport
from tfcls.evaluation.crossval import cross_validate


def test_cross_validation_reports_every_fold_and_mean_std(tmp_path):
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((3, 16)) * 2
    y = np.repeat(np.arange(3), 20)
    x = (centres[y] + rng.standard_normal((60, 16))).astype(np.float32)
    config = load_config(
        overrides=[
            "tuner.max_trials=2",
            "tuner.kind=random",
            "tuner.epochs=10",
            "train.epochs=20",
            "train.tensorboard=false",
            "train.adapt.layers=0",  # synthetic vectors: no encoder to adapt
        ]
    )
    labels = ["a", "b", "c"]
    examples = [Example(f"t{i}", labels[c], f"x:{i}", f"t{i}", "") for i, c in enumerate(y)]
    dataset = Dataset("x", "0", examples, labels, LoadReport(60, 60))
    out = cross_validate(dataset, x, config, 2, tmp_path, repeats=2)
    assert len(out["folds"]) == 4 and sum(f["n"] for f in out["folds"]) == 120
    accs = [f["accuracy"] for f in out["folds"]]
    assert out["accuracy"]["mean"] == np.mean(accs)
    assert out["accuracy"]["std"] == np.std(accs, ddof=1)
    assert out["accuracy"]["mean"] > 0.8
    for fold in out["folds"]:  # shipped threshold, scored on the held-out fold
        assert 0 <= fold["auto_select_coverage"] <= 1 and 0 <= fold["auto_select_precision"] <= 1
        assert fold["threshold"] >= fold["unknown_threshold"]
    assert {(f["repeat"], f["fold"]) for f in out["folds"]} == {
        (r, i) for r in (0, 1) for i in (0, 1)
    }
    assert all(
        (tmp_path / f"r{r}f{i}" / "best_hparams.json").is_file() for r in (0, 1) for i in range(2)
    )
