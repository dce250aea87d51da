"""Encoder adaptation in multi-label ``tfcls.train`` runs: out of fold, saved, exported."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import TRAIN_OVERRIDES, write_label_sets

from tfcls.training.runs import Run

ADAPT = ["train.adapt.layers=1", "train.adapt.epochs=1", "tuner.max_trials=1"]


def _config(tiny_pair, out, *extra):
    import tfcls

    overrides = [*TRAIN_OVERRIDES, *ADAPT, f"train.output_dir={out}", f"encoder.handle={tiny_pair}"]
    return tfcls.load_config(None, [*overrides, *extra])


@pytest.fixture(scope="module")
def adapted_run(tiny_pair, cache_dir, tmp_path_factory):
    """A multi-label run (3 labels, 45 texts) with the tiny encoder's top layer adapted."""
    import tfcls

    folder = tmp_path_factory.mktemp("ml-adapt")
    data = folder / "tickets.jsonl"
    write_label_sets(data, n=45, seed=2)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TFCLS_CACHE", str(cache_dir))
        return tfcls.train(_config(tiny_pair, folder / "runs"), data=data, name="adapted")


def test_a_multi_label_run_adapts_its_encoder_and_saves_it(
    adapted_run, tiny_pair, cache_dir, monkeypatch
):
    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    from tfcls.decision.label_predictor import LabelSetPredictor
    from tfcls.encoders import bert, load_encoder

    run, metrics = Run(adapted_run.run_dir), adapted_run.metrics
    assert "adapt_skipped" not in metrics
    assert metrics["adapt"]["layers"] == 1 and metrics["adapt"]["folds"] == 3
    assert metrics["adapt"]["epochs_chosen"] == 1
    assert len(metrics["adapt"]["oof_macro_f1_per_epoch"]) == 1
    assert 0.0 <= metrics["adapt"]["frozen_oof_macro_f1"] <= 1.0
    assert 0.0 <= metrics["test"]["macro_f1"] <= 1.0 and metrics["oof"]["n"] > 0
    # the run's encoder is the adapted copy in encoder/; run.json keeps the one it started from
    assert run.config().encoder.handle == str(run.path(Run.ENCODER))
    assert run.config().encoder.preprocessor is None
    assert run.info()["base_encoder"]["handle"] == str(tiny_pair)
    assert (run.path(Run.BEST_HPARAMS)).is_file()
    base = bert.module_weights(load_encoder(str(tiny_pair)).modules.encoder)[1]
    adapted = bert.module_weights(load_encoder(str(run.path(Run.ENCODER))).modules.encoder)[1]
    assert base.keys() == adapted.keys()  # same architecture
    changed = {k for k in base if not np.allclose(base[k], adapted[k])}
    assert changed and all(k.startswith("encoder.layer.1.") for k in changed)  # the top one
    sets = LabelSetPredictor(run.dir).predict_sets(["invoice refund crash", "button font"])
    assert len(sets) == 2


def test_out_of_fold_outputs_never_saw_their_own_labels(
    tiny_pair, tmp_path, cache_dir, monkeypatch
):
    """A fold's outputs come from a head and an encoder copy trained on the other folds:
    changing that fold's labels changes nothing in them, while the other folds move."""
    from tfcls.data.multilabel import load_multilabel
    from tfcls.encoders import load_encoder
    from tfcls.training.adapt import lower_states
    from tfcls.training.multilabel import fold_rows
    from tfcls.training.multilabel_adapt import adapt_out_of_fold

    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    data = tmp_path / "t.jsonl"
    write_label_sets(data, n=30, seed=4)
    dataset = load_multilabel(data)
    config = _config(tiny_pair, tmp_path / "runs")
    enc = load_encoder(str(tiny_pair))
    x = enc.embed(dataset.texts)
    lower = lower_states(enc.modules, dataset.texts, 1)
    y, w = dataset.Y, dataset.weights
    held = fold_rows(len(y), config.train.crossfit_folds, config.train.seed)[0]
    flipped = y.copy()
    flipped[held] = 1.0 - flipped[held]
    hp = config.model
    first, report = adapt_out_of_fold(lower, (x, y, w), hp, config, 3)
    second, _ = adapt_out_of_fold(lower, (x, flipped, w), hp, config, 3)
    assert report["epochs_chosen"] == 1
    np.testing.assert_allclose(first[held], second[held], atol=1e-5)
    rest = np.setdiff1d(np.arange(len(y)), held)
    assert np.abs(first[rest] - second[rest]).max() > 1e-3
    # the lower states are shared, never trained: the frozen copy is unchanged
    again = lower_states(enc.modules, dataset.texts[:3], 1)
    for a, b in zip(again.states, lower.states[:3], strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_an_adapted_multi_label_run_exports_and_node_predicts_with_its_encoder(
    adapted_run, cache_dir, tmp_path, monkeypatch
):
    from tfcls.bundle import fidelity
    from tfcls.bundle.export import export
    from tfcls.bundle.registry import Registry
    from tfcls.decision.label_predictor import LabelSetPredictor

    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    result = export(adapted_run.run_dir, tmp_path / "exported", "float16")
    registry = Registry(tmp_path / "exported")
    version, meta = registry.require_metadata()
    assert version == result.version and meta.task == "multi_label"
    texts = ["invoice refund crash", "button font layout", "error payment"]
    ref, _ = LabelSetPredictor(adapted_run.run_dir).text_scores(texts)  # the adapted encoder
    node, _ = fidelity.node_predict(registry.path(version), texts)
    assert node.shape == ref.shape and np.abs(node - ref).max() < 1e-2


def test_adaptation_trains_on_with_the_heads_loss():
    import keras

    from tfcls.config import load_config
    from tfcls.training.adapt import AdaptSettings

    config = load_config(
        None, ["model.loss=focal", "model.focal_gamma=3", "model.label_smoothing=0.1"]
    )
    focal = AdaptSettings.of(config.train.adapt, 1, config.model, multi_label=True)
    assert focal.focal_gamma == 3 and focal.label_smoothing == 0.0  # no smoothing of sigmoids
    assert isinstance(focal.loss(multi_label=True), keras.losses.BinaryFocalCrossentropy)
    plain = AdaptSettings.of(config.train.adapt, 1)
    assert isinstance(plain.loss(multi_label=True), keras.losses.BinaryCrossentropy)
    single = AdaptSettings.of(config.train.adapt, 1, config.model)
    assert single.label_smoothing == 0.1
    assert isinstance(single.loss(multi_label=False), keras.losses.CategoricalFocalCrossentropy)
