"""What recent feedback is compared with: the served run's training texts, labels and encoder.

A bundle's ``metadata.json`` names the run it was exported from; that run's training split
(its ``splits.json``; every row for a run without one) is the reference distribution. The
texts are embedded by the run's own encoder (an adapted run's saved encoder included), the
same one the model classifies with, through its on-disk embedding cache, so a second
monitor run re-embeds only texts it has not seen.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tfcls.training.runs import Run


@dataclass
class Reference:
    """One run's training texts and label counts, and the encoder that embeds texts."""

    run_dir: Path
    texts: list[str]
    label_counts: dict[str, int]  # single-label runs; empty for a multi-label run
    encoder: Any
    batch_size: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings [n, dim] of texts that are already model inputs (cleaned, joined)."""
        return self.encoder.embed(list(texts), batch_size=self.batch_size)


def _training_rows(run: Run, n: int) -> np.ndarray:
    if not run.path(Run.SPLITS).is_file():
        return np.arange(n)
    return run.splits()["train"]


def load_reference(run_dir: str | Path) -> Reference:
    """The reference of the finished run at ``run_dir`` (an error names what is missing,
    or the training file that changed since the run)."""
    from tfcls.encoders import load_encoder_from

    run = Run(run_dir).finished("monitoring", multi_label=True)
    config = run.config()
    todo = "monitoring compares feedback with the data the served run was trained on"
    if run.task() == "multi_label":
        texts = list(run.label_sets(todo).texts)
        rows = _training_rows(run, len(texts))
        texts, counts = [texts[int(i)] for i in rows], {}
    else:
        dataset = run.dataset(config.data.min_per_label, todo)
        train = dataset.subset(_training_rows(run, len(dataset.examples)))
        texts = train.texts
        counts = dict(Counter(e.label for e in train.examples))
        counts = {label: counts.get(label, 0) for label in run.labels()}
    encoder = load_encoder_from(config.encoder)
    return Reference(Path(run_dir), texts, counts, encoder, config.encoder.batch_size)
