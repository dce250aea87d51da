"""The default procedure: every training text predicted out of fold, the final model on
all of them, the decision rule (unknown first, auto-select raised to it) from the OOF."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tfcls.config import load_config
from tfcls.decision.calibration import apply_temperature, evaluate_threshold
from tfcls.encoders import load_encoder
from tfcls.training import crossfit

QUICK = [
    "tuner.max_trials=2",
    "tuner.kind=random",
    "tuner.epochs=10",
    "train.epochs=20",
    "train.tensorboard=false",
]


def clusters(n_per=30, k=4, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((k, dim)) * 1.5
    y = np.repeat(np.arange(k), n_per)
    x = (centres[y] + rng.standard_normal((len(y), dim))).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True), y


def test_frozen_procedure_predicts_every_text_out_of_fold(tmp_path):
    x, y = clusters()
    config = load_config(overrides=[*QUICK, "train.adapt.layers=0", "train.crossfit_folds=3"])
    texts = [f"t{i}" for i in range(len(y))]
    fitted = crossfit.fit(texts, y, np.ones(len(y), np.float32), x, 4, config, tmp_path)
    assert fitted.oof.shape == (len(y), 4) and fitted.adapter is None
    np.testing.assert_allclose(fitted.oof.sum(axis=1), 1.0, rtol=1e-5)
    assert sorted(np.bincount(fitted.fold_of)) == [40, 40, 40]
    assert fitted.report["oof_accuracy"] == pytest.approx((fitted.oof.argmax(1) == y).mean())
    # an out-of-fold prediction is not the final model's (which saw the text)
    final = fitted.head.predict(x, verbose=0)
    assert np.abs(final - fitted.oof).max() > 1e-3
    calib, refs = crossfit.calibrate(fitted, y, x, config.decision)
    assert refs is None
    oof = apply_temperature(fitted.oof, calib["temperature"])
    chosen = calib["threshold"]
    got = evaluate_threshold(oof, y, chosen["threshold"])
    assert got["precision"] >= 0.95 or got["coverage"] == 0  # by construction, out of fold
    assert chosen["threshold"] >= calib["unknown"]["threshold"]  # unknown first
    kept = (oof.max(axis=1) >= calib["unknown"]["threshold"]).mean()
    assert kept >= config.decision.known_recall


def test_nearest_score_uses_out_of_fold_similarities(tmp_path):
    x, y = clusters(seed=1)
    config = load_config(
        overrides=[*QUICK, "train.adapt.layers=0", "decision.unknown_score=nearest"]
    )
    texts = [f"t{i}" for i in range(len(y))]
    fitted = crossfit.fit(texts, y, np.ones(len(y), np.float32), x, 4, config, tmp_path)
    calib, refs = crossfit.calibrate(fitted, y, x, config.decision)
    np.testing.assert_array_equal(refs, x)
    assert calib["unknown"]["threshold"] < 0.999  # not 1: a text never finds itself
    assert not calib["threshold"].get("raised_to_unknown")


def test_adapted_procedure_chooses_its_epochs_out_of_fold(tiny_pair, tmp_path):
    enc = load_encoder(str(tiny_pair), cache_dir=tmp_path, use_cache=False)
    words = ["fix login bug", "deploy api", "design logo", "plan sprint"]
    texts = [f"{w} {i}" for w in words for i in range(6)]
    y = np.repeat(np.arange(4), 6)
    x = enc.embed(texts)
    config = load_config(
        overrides=[*QUICK, "train.adapt.layers=1", "train.adapt.epochs=3", "train.crossfit_folds=2"]
    )
    fitted = crossfit.fit(
        texts, y, np.ones(len(y), np.float32), x, 4, config, tmp_path, enc.modules
    )
    adapt = fitted.report["adapt"]
    assert adapt["layers"] == 1 and len(adapt["oof_accuracy_per_epoch"]) == 3
    best = int(np.argmax(adapt["oof_accuracy_per_epoch"])) + 1
    assert adapt["epochs_chosen"] == best
    assert fitted.report["oof_accuracy"] == pytest.approx(
        adapt["oof_accuracy_per_epoch"][best - 1], abs=1e-4
    )
    proba = crossfit.predict(fitted, texts[:3], x[:3], enc.modules)
    assert proba.shape == (3, 4)


def test_more_adapted_layers_than_the_encoder_has_adapts_them_all(tiny_pair, tmp_path, capsys):
    # the default (4) names MiniLM's top layers; the tiny encoder has 2
    enc = load_encoder(str(tiny_pair), cache_dir=tmp_path, use_cache=False)
    texts = [f"{w} {i}" for w in ["fix login bug", "design logo"] for i in range(4)]
    y = np.repeat(np.arange(2), 4)
    config = load_config(
        overrides=[*QUICK, "train.adapt.layers=4", "train.adapt.epochs=1", "train.crossfit_folds=2"]
    )
    x = enc.embed(texts)
    fitted = crossfit.fit(
        texts, y, np.ones(len(y), np.float32), x, 2, config, tmp_path, enc.modules
    )
    assert fitted.report["adapt"]["layers"] == 2
    assert "exceeds the encoder's 2 layers" in fitted.report["adapt_clamped"]
    assert "exceeds the encoder's 2 layers: all 2 adapted" in capsys.readouterr().err


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 30), st.integers(0, 40), st.integers(0, 10_000))
def test_a_new_text_trains_exactly_the_fits_its_origin_trains(n, extra, seed):
    from tfcls.data.augment import Augmented

    rng = np.random.default_rng(seed)
    origin = rng.integers(0, n, extra)
    y = rng.integers(0, 3, n)
    made = Augmented([f"new{i}" for i in range(extra)], origin)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    rows = crossfit.TrainingRows.of(
        [f"t{i}" for i in range(n)], x, y, np.ones(n), made, x[origin] + 1.0
    )
    assert rows.n == n and len(rows.texts) == len(rows.y) == n + extra
    assert (rows.y[n:] == y[origin]).all() and rows.texts[:n] == [f"t{i}" for i in range(n)]
    fit_on = rng.permutation(n)[: rng.integers(1, n)]
    chosen = rows.rows(fit_on)
    held = np.setdiff1d(np.arange(n), fit_on)
    assert set(chosen[chosen < n]) == set(fit_on.tolist())  # the originals asked for
    assert not set(rows.origin[chosen]) & set(held.tolist())  # no copy of a held-out text
    copies = np.flatnonzero(np.isin(origin, fit_on)) + n
    assert set(chosen[chosen >= n]) == set(copies.tolist())  # and every copy of the others


def test_augmented_texts_train_the_heads_but_are_never_predicted_out_of_fold(tmp_path):
    from tfcls.data.augment import Augmented

    x, y = clusters(seed=2)
    config = load_config(overrides=[*QUICK, "train.adapt.layers=0", "train.crossfit_folds=3"])
    texts = [f"t{i}" for i in range(len(y))]
    w = np.ones(len(y), np.float32)
    origin = np.repeat(np.arange(len(y)), 2)
    rng = np.random.default_rng(0)
    x_new = (x[origin] + 0.1 * rng.standard_normal((len(origin), x.shape[1]))).astype(np.float32)
    made = Augmented([f"{texts[i]}'" for i in origin], origin)
    plain = crossfit.fit(texts, y, w, x, 4, config, tmp_path / "plain")
    more = crossfit.fit(texts, y, w, x, 4, config, tmp_path / "more", None, None, False, None,
                        made, x_new)  # fmt: skip
    assert more.oof.shape == plain.oof.shape == (len(y), 4)  # the real texts only
    np.testing.assert_array_equal(more.fold_of, plain.fold_of)  # folds of the real texts
    assert np.abs(more.head.predict(x, verbose=0) - plain.head.predict(x, verbose=0)).max() > 1e-3
    calib, _ = crossfit.calibrate(more, y, None, config.decision)
    assert calib["oof"]["n"] == len(y)
