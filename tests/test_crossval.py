"""k-fold cross-validation of the whole procedure on synthetic embeddings."""

from __future__ import annotations

import numpy as np

from tfcls.config import load_config
from tfcls.crossval import cross_validate


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
        ]
    )
    out = cross_validate(x, y, ["a", "b", "c"], config, 3, tmp_path)
    assert len(out["folds"]) == 3 and sum(f["n"] for f in out["folds"]) == 60
    accs = [f["accuracy"] for f in out["folds"]]
    assert out["accuracy"]["mean"] == np.mean(accs)
    assert out["accuracy"]["std"] == np.std(accs, ddof=1)
    assert out["accuracy"]["mean"] > 0.8
    assert all((tmp_path / f"fold{i}" / "best_hparams.json").is_file() for i in range(3))
