"""KerasTuner search on embeddings: finds a head, reports and refuses failed trials."""

from __future__ import annotations

import numpy as np
import pytest

from tfcls.config import ModelConfig, TunerConfig
from tfcls.training import model as model_mod
from tfcls.training.model import one_hot
from tfcls.training.tuning import TuningError, search


def clusters(n_per_class=20, n_classes=3, dim=8, seed=0):
    """Gaussian blobs around fixed centres; ``seed`` varies only the samples."""
    centres = np.random.default_rng(123).standard_normal((n_classes, dim)) * 3
    y = np.repeat(np.arange(n_classes), n_per_class)
    x = centres[y] + np.random.default_rng(seed).standard_normal((len(y), dim))
    return x.astype(np.float32), y


def quick_search(tmp_path, max_trials):
    """A short random search on the blobs (train = validation: only failures matter here)."""
    x, y = clusters()
    return search(
        x,
        one_hot(y, 3),
        x,
        one_hot(y, 3),
        3,
        TunerConfig(kind="random", epochs=2),
        ModelConfig(),
        tmp_path,
        seed=0,
        max_trials=max_trials,
    )


@pytest.mark.parametrize("kind", ["random", "bayesian", "hyperband"])
def test_search_finds_a_good_head(tmp_path, kind):
    x, y = clusters()
    xv, yv = clusters(seed=1)
    # hyperband's bracket grows with max_epochs: keep it small here
    epochs = 6 if kind == "hyperband" else 20
    cfg = TunerConfig(kind=kind, epochs=epochs, patience=5, learning_rate_min=3e-3)
    best, summary = search(
        x, one_hot(y, 3), xv, one_hot(yv, 3), 3, cfg, ModelConfig(), tmp_path, seed=0, max_trials=3
    )
    assert {"units", "dropout", "learning_rate", "batch_size"} <= set(best)
    completed = [t for t in summary if t["status"] == "COMPLETED"]
    assert completed and max(t["score"] for t in completed) > 0.8


def test_all_failed_trials_stop_with_the_first_error(tmp_path, monkeypatch):
    def broken(self, hp, model, *args, **kwargs):
        raise FloatingPointError("loss became NaN in trial")

    monkeypatch.setattr(model_mod.HeadHyperModel, "fit", broken)
    with pytest.raises(TuningError, match=r"every tuner trial failed(.|\n)*loss became NaN"):
        quick_search(tmp_path, max_trials=2)


def test_some_failed_trials_are_reported_but_do_not_stop(tmp_path, monkeypatch, capsys):
    real = model_mod.HeadHyperModel.fit
    calls = []

    def flaky(self, hp, model, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("first trial breaks")
        return real(self, hp, model, *args, **kwargs)

    monkeypatch.setattr(model_mod.HeadHyperModel, "fit", flaky)
    _, summary = quick_search(tmp_path, max_trials=3)
    statuses = [t["status"] for t in summary]
    assert "FAILED" in statuses and "COMPLETED" in statuses
    assert "trials failed; first error" in capsys.readouterr().err


def test_unbuildable_head_is_a_clear_error(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("bad layer size")

    monkeypatch.setattr(model_mod, "SearchHead", broken)
    x, y = clusters()
    with pytest.raises(TuningError, match="could not build the head: bad layer size"):
        search(
            x,
            one_hot(y, 3),
            x,
            one_hot(y, 3),
            3,
            TunerConfig(kind="random"),
            ModelConfig(),
            tmp_path,
            seed=0,
            max_trials=1,
        )


def test_search_needs_a_validation_split(tmp_path):
    x, y = clusters()
    with pytest.raises(TuningError, match="val_fraction"):
        search(
            x,
            one_hot(y, 3),
            x[:0],
            one_hot(y[:0], 3),
            3,
            TunerConfig(),
            ModelConfig(),
            tmp_path,
            seed=0,
            max_trials=1,
        )


def test_trials_train_and_score_with_the_sample_weights(tmp_path):
    """Every training text three times, two copies with a wrong label: unweighted, the
    trials learn the wrong labels; with the copies at weight 0 they learn the true ones.
    Validation texts of weight 0 are not scored (here: class 2's, relabelled wrongly)."""
    x, y = clusters()
    xv, yv = clusters(seed=1)
    cfg = TunerConfig(kind="random", epochs=15, patience=15, learning_rate_min=3e-3)
    x2, y2 = np.concatenate([x, x, x]), np.concatenate([y, (y + 1) % 3, (y + 1) % 3])
    w2 = np.concatenate([np.ones(len(y)), np.zeros(2 * len(y))]).astype(np.float32)

    def best_score(weights, y_val, name):
        _, summary = search(
            x2, one_hot(y2, 3), xv, one_hot(y_val, 3), 3, cfg, ModelConfig(), tmp_path / name,
            seed=0, max_trials=2, sample_weights=weights,
        )  # fmt: skip
        return max(t["score"] for t in summary if t["status"] == "COMPLETED")

    ones = np.ones(len(yv), np.float32)
    assert best_score(None, yv, "plain") < 0.5  # two labels in three are wrong
    assert best_score((w2, ones), yv, "weighted") > 0.9
    wrong = np.where(yv == 2, 0, yv)  # class 2's validation labels wrong ...
    assert best_score((w2, ones), wrong, "scored") < 0.75
    unscored = np.where(yv == 2, 0.0, 1.0).astype(np.float32)  # ... and not scored
    assert best_score((w2, unscored), wrong, "unscored") > 0.9
