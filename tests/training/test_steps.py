"""The default procedure's shared steps (tfcls.training.steps): what train and the public
benchmarks both run, on synthetic embeddings (a stand-in encoder, no TF Hub module)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from tfcls.config import load_config
from tfcls.training import crossfit, steps

QUICK = [
    "tuner.enabled=false",
    "train.epochs=10",
    "train.tensorboard=false",
    "train.adapt.layers=0",
    "train.crossfit_folds=2",
]


class LookupEncoder:
    """Texts "c<label>-<i>" → a unit vector near its label's centre; records its calls."""

    modules = None

    def __init__(self, dim: int = 8, seed: int = 0) -> None:
        self.centres = np.random.default_rng(seed).standard_normal((4, dim)) * 2
        self.calls: list[list[str]] = []
        self.cache_stats = SimpleNamespace(hits=0, misses=0)

    def embed(self, texts, batch_size=64, progress=False):
        self.calls.append(list(texts))
        rows = []
        for t in texts:
            label, i = t[1:].split("-")
            noise = np.random.default_rng(int(i)).standard_normal(self.centres.shape[1])
            rows.append(self.centres[int(label)] + noise)
        x = np.asarray(rows, np.float32).reshape(len(texts), -1)
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def texts_of(n_per: int, labels: int = 3, start: int = 0) -> tuple[list[str], np.ndarray]:
    y = np.repeat(np.arange(labels), n_per)
    return [f"c{k}-{start + i}" for i, k in enumerate(y)], y


def test_shape_and_embed_without_contrastive_embeds_once_with_the_given_encoder(tmp_path):
    enc = LookupEncoder()
    texts, y = texts_of(4)
    also = ["c0-100", "c1-101"]
    embedded = steps.shape_and_embed(enc, texts, y, load_config(None, QUICK), tmp_path, also)
    assert embedded.encoder is enc and embedded.contrastive is None
    assert enc.calls == [texts + also]  # one pass over both, as train embeds fit + test
    np.testing.assert_array_equal(embedded.x, enc.embed(texts))
    np.testing.assert_array_equal(embedded.x_also, enc.embed(also))
    assert embedded.cache_stats == {"hits": 0, "misses": 0}
    assert not (tmp_path / "contrastive").exists()


def test_fit_step_and_predict_texts_are_the_crossfit_procedure(tmp_path):
    enc = LookupEncoder()
    config = load_config(None, QUICK)
    texts, y = texts_of(10)
    w = np.ones(len(y), np.float32)
    embedded = steps.shape_and_embed(enc, texts, y, config, tmp_path / "a")
    fitted = steps.fit_step(embedded, texts, y, w, 3, config, tmp_path / "a")
    direct = crossfit.fit(texts, y, w, enc.embed(texts), 3, config, tmp_path / "b")
    np.testing.assert_allclose(fitted.oof, direct.oof, atol=1e-6)  # same seed, same result
    new, new_y = texts_of(3, start=500)
    proba = steps.predict_texts(fitted, enc, new, config)
    expected = crossfit.predict(fitted, new, enc.embed(new), None)
    np.testing.assert_allclose(proba, expected, atol=1e-6)
    assert (proba.argmax(axis=1) == new_y).mean() > 0.5
