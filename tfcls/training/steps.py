"""The default procedure's steps, shared by everything that trains the way ``tfcls.train`` does.

The sequence is: contrastive tuning of the encoder (``train.contrastive.enabled``), the
augmentation of the training texts (``data.augment.enabled``: new texts made from them,
:mod:`tfcls.data.augment`) and the embeddings of both (:func:`shape_and_embed`), then the
cross-fitted fit with encoder adaptation (:func:`fit_step`, ``tfcls.training.crossfit``),
then predictions of new texts through the final model (:func:`predict_texts`).
:func:`tfcls.training.pipeline.train` runs them into a run directory;
``tfcls.bench.public.run_seed`` runs them on a benchmark's shots. Neither writes the
sequence itself, so a benchmark measures what training ships.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tfcls.config import Config
from tfcls.data.augment import Augmented, augment_rows
from tfcls.data.augment import summary as augment_summary
from tfcls.progress import log
from tfcls.training import crossfit

if TYPE_CHECKING:
    from tfcls.encoders.encoder import SentenceEncoder


@dataclass
class Embedded:
    """What the first step hands the fit: the encoder that embeds (the given one, or the
    contrastively tuned one), the embeddings, the contrastive report (None when off) and
    the augmented texts with their embeddings (None when ``data.augment`` is off)."""

    encoder: SentenceEncoder
    x: np.ndarray  # embeddings of the training texts
    x_also: np.ndarray  # embeddings of the ``also`` texts (e.g. a test split), same call
    contrastive: dict[str, Any] | None = None
    seconds: float = 0.0  # embedding time (contrastive tuning not included)
    cache_stats: dict[str, Any] = field(default_factory=dict)  # the embedding cache's, of x
    augmented: Augmented | None = None  # new texts made from the training texts (origin: row)
    x_augmented: np.ndarray | None = None  # their embeddings

    def augment_report(self, y: np.ndarray, labels: list[str]) -> dict[str, Any] | None:
        """The run's ``augment`` record (new texts in all and per label), None when off."""
        if self.augmented is None:
            return None
        return augment_summary(self.augmented, y, labels)


def tune_contrastive(
    enc: SentenceEncoder,
    texts: list[str],
    y: np.ndarray,
    config: Config,
    out_dir: Path,
    use_cache: bool | None = None,
) -> tuple[SentenceEncoder, dict[str, Any] | None]:
    """(encoder, report): ``enc`` itself when ``train.contrastive.enabled`` is off, else an
    encoder tuned SetFit-style on the texts (saved under ``out_dir``) and its report.

    ``use_cache`` (default: ``encoder.embedding_cache``) keeps the tuned encoder's
    embeddings on disk; a benchmark seed uses its encoder once and passes False.
    """
    if not config.train.contrastive.enabled:
        return enc, None
    from tfcls.encoders import load_encoder
    from tfcls.training.contrastive import contrastive_fine_tune

    report = contrastive_fine_tune(enc.modules, texts, y, config, out_dir)
    cache = config.encoder.embedding_cache if use_cache is None else use_cache
    tuned = load_encoder(
        report["encoder"], None, cache_dir=config.encoder.cache_dir, use_cache=cache
    )
    return tuned, report


def shape_and_embed(
    enc: SentenceEncoder,
    texts: list[str],
    y: np.ndarray,
    config: Config,
    work: Path,
    also: Sequence[str] = (),
    progress: bool = False,
    use_cache: bool | None = None,
) -> Embedded:
    """Step 1: contrastive tuning (if enabled; in ``work / "contrastive"``), augmentation of
    ``texts`` (if ``data.augment.enabled``; never of ``also``: a test split is never
    augmented), then the embeddings of ``texts``, ``also`` and the new texts in one pass of
    the resulting encoder."""
    encoder, report = tune_contrastive(enc, texts, y, config, work / "contrastive", use_cache)
    augmented = augment_training(texts, y, config)
    new = augmented.texts if augmented is not None else []
    start = time.perf_counter()
    x = encoder.embed(
        [*texts, *also, *new], batch_size=config.encoder.batch_size, progress=progress
    )
    seconds = time.perf_counter() - start
    stats = dict(vars(encoder.cache_stats))
    n, m = len(texts), len(texts) + len(also)
    x_new = x[m:] if augmented is not None else None
    return Embedded(encoder, x[:n], x[n:m], report, seconds, stats, augmented, x_new)


def augment_training(texts: list[str], y: np.ndarray, config: Config) -> Augmented | None:
    """New texts made from the training texts (``data.augment``), None when it is off;
    said on stderr."""
    settings = config.data.augment
    if not settings.enabled:
        return None
    start = time.perf_counter()
    augmented = augment_rows(texts, y, settings, config.train.seed)
    rows = len(set(augmented.origin.tolist()))
    log(
        f"augmentation: {len(augmented.texts)} new texts from {rows} of {len(texts)} training "
        f"texts ({', '.join(settings.operations)}; {time.perf_counter() - start:.1f} s)"
    )
    return augmented


def fit_step(
    embedded: Embedded,
    texts: list[str],
    y: np.ndarray,
    w: np.ndarray,
    n_classes: int,
    config: Config,
    work: Path,
    trials: int | None = None,
    resume: bool = False,
    strategy: Any = None,
) -> crossfit.FitResult:
    """Step 2: the tuner, cross-fitting and encoder adaptation (``train.adapt``) on the
    embedded training texts (``tfcls.training.crossfit.fit``); the augmented texts, when
    there are any, train only the folds (and the final model) their origin trains."""
    return crossfit.fit(
        texts, y, w, embedded.x, n_classes, config, work, embedded.encoder.modules, trials,
        resume, strategy, embedded.augmented, embedded.x_augmented,
    )  # fmt: skip


def predict_texts(
    fitted: crossfit.FitResult, encoder: SentenceEncoder, texts: list[str], config: Config
) -> np.ndarray:
    """Step 3: uncalibrated probabilities of new texts from the final model (embedded by
    ``encoder``, the one the fit was given; through the adapted layers when there are any)."""
    x = encoder.embed(texts, batch_size=config.encoder.batch_size)
    return crossfit.predict(fitted, texts, x, encoder.modules)
