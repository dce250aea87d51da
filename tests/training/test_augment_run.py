"""``data.augment`` in a real (tiny) training run: new texts are made from the fit rows only,
reported in metrics.json, and never touch the test split; the benchmark's held-out parts
are never the shots nor a published test split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import TRAIN_OVERRIDES

from tfcls.bench.augment import _decide, _parts
from tfcls.bench.public import load_public
from tfcls.config import load_config
from tfcls.data.augment import augment_rows
from tfcls.data.dataset import load_dataset
from tfcls.training.pipeline import _choose_splits


@pytest.fixture(scope="module")
def augmented_run(small_dataset, tiny_pair, cache_dir, tmp_path_factory):
    """A finished run on the tiny BERT encoder with ``data.augment.enabled``."""
    import tfcls

    out = tmp_path_factory.mktemp("augment-runs")
    config = tfcls.load_config(
        None,
        [
            *TRAIN_OVERRIDES,
            "tuner.max_trials=1",
            f"train.output_dir={out}",
            f"encoder.handle={tiny_pair}",
            "data.augment.enabled=true",
            "train.tensorboard=true",  # the run's trials go to HParams and the run to MLflow
            "tracking.mlflow.enabled=true",
            f"tracking.mlflow.tracking_uri={out / 'mlruns'}",
        ],
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TFCLS_CACHE", str(cache_dir))
        result = tfcls.train(config, data=small_dataset, name="augmented")
    return result.run_dir, config


def test_a_run_reports_the_new_texts_it_trained_on(augmented_run):
    run_dir, config = augmented_run
    metrics = json.loads((run_dir / "metrics.json").read_text())
    report = metrics["augment"]
    assert report["added"] == config.data.augment.copies * report["rows_augmented"] > 0
    assert sum(report["added_per_label"].values()) == report["added"]
    assert set(report["added_per_label"]) == set(metrics["labels"])
    assert metrics["test"]["accuracy"] is not None  # scored on the real test texts


def test_augmentation_never_touches_the_test_split(augmented_run, small_dataset):
    run_dir, config = augmented_run
    dataset = load_dataset(small_dataset, config.data.min_per_label)
    splits = json.loads((run_dir / "splits.json").read_text())
    off = load_config(None, [f"train.seed={config.train.seed}"])  # augmentation off
    expected = _choose_splits(dataset, off, False)
    assert {k: sorted(v) for k, v in splits.items()} == {
        k: sorted(v.tolist()) for k, v in expected.items()
    }  # the same splits as without augmentation: chosen before it, on real rows only
    fit_rows = np.sort(np.concatenate([splits["train"], splits["val"]]))
    texts = dataset.texts
    made = augment_rows(
        [texts[i] for i in fit_rows], dataset.y[fit_rows], config.data.augment, config.train.seed
    )  # the run's new texts (deterministic for the seed)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert len(made.texts) == metrics["augment"]["added"]
    origins = set(fit_rows[made.origin].tolist())
    assert origins and not origins & set(splits["test"])  # no new text comes from a test row


def test_the_benchmark_holds_out_train_texts_that_are_not_shots():
    config = load_config(None, [])
    shots, scored, labels = _parts("hwu64", config, 3, 2, 0.2, 0, (4, 5))
    (held_texts, held_y), (test_texts, _) = scored
    assert len(shots.texts) == 3 * 4 and len(held_texts) == 2 * 4 and len(labels) == 4
    assert not set(held_texts) & set(shots.texts)
    train, test = load_public("hwu64", 4, 5)
    assert set(held_texts) <= set(train.texts)  # from the train split, never the test split
    assert test_texts == test.texts
    assert sorted(set(held_y.tolist())) == [0, 1, 2, 3]


def test_the_benchmark_chooses_on_held_out_accuracy_only():
    def seed(held: float, test: float) -> dict:
        scores = {"accuracy": held, "macro_f1": held}
        return {"added": 10, "held_out": scores, "test": {"accuracy": test}}

    runs = {"off": [seed(0.80, 0.99), seed(0.82, 0.99)]}
    runs["on"] = [seed(0.79, 0.10), seed(0.80, 0.10)]
    result = _decide("hwu64", runs, 40, 20, 10)
    assert result["chosen"] == "off" and result["seeds_on_better"] == 0
    assert result["test_accuracy_of_chosen"]["mean"] == pytest.approx(0.99)
    runs["on"] = [seed(0.90, 0.10), seed(0.90, 0.10)]  # better held out, worse test: still "on"
    assert _decide("hwu64", runs, 40, 20, 10)["chosen"] == "on"


def test_a_finished_run_is_tracked_in_hparams_and_mlflow(augmented_run):
    """What ``tracking`` asks for happens at the end of training, with no other call."""
    pytest.importorskip("mlflow")  # the tfcls[mlflow] extra; `make test` installs it
    from mlflow.tracking import MlflowClient

    run_dir, config = augmented_run
    assert any((run_dir / "logs" / "hparams").glob("*/events.out.tfevents.*"))  # one per trial
    run_id = json.loads((run_dir / "run.json").read_text())["mlflow"]["run_id"]
    client = MlflowClient(tracking_uri=Path(config.tracking.mlflow.tracking_uri).as_uri())
    logged = client.get_run(run_id)
    assert logged.info.status == "FINISHED" and logged.data.params["data.augment.enabled"] == "true"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert logged.data.metrics["augment.added"] == metrics["augment"]["added"]
