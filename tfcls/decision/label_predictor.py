"""Predictions of a trained multi-label run in Python: each text's label set.

The multi-label twin of :class:`tfcls.decision.predictor.Predictor`: the run's sigmoid head
on the encoder's embeddings, then each label's Platt scaling and threshold
(:class:`tfcls.decision.label_thresholds.LabelDecision`, ``calibration.json``). The export
reads a multi-label run through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tfcls.data.text import join_title_description
from tfcls.decision.label_rule import decide_labels
from tfcls.decision.label_thresholds import LabelDecision
from tfcls.training.runs import Run, read_json


class LabelSetPredictor:
    """A multi-label run's head plus its encoder: texts → calibrated per-label
    probabilities → label sets. ``references`` is None (no nearest-text unknown score)."""

    references = None

    def __init__(self, run_dir: str | Path, *, purpose: str = "prediction") -> None:
        from tfcls.encoders import load_encoder_from

        self.run = Run(run_dir).finished(purpose, multi_label=True)
        self.config = self.run.config()
        self.labels = self.run.labels()
        self.head = self.run.head()
        self.encoder = load_encoder_from(self.config.encoder)
        record = self.run.path(Run.CALIBRATION)
        self.decision = LabelDecision.from_dict(read_json(record)["labels"])
        if list(self.decision.labels) != self.labels:
            raise ValueError(f"{record}: its labels are not the run's label_map.json")

    def text_scores(self, texts: Sequence[str]) -> tuple[np.ndarray, None]:
        """Calibrated per-label probabilities [n, labels] of model texts as they are."""
        vectors = self.encoder.embed(list(texts), batch_size=self.config.encoder.batch_size)
        raw = self.head.predict(vectors, verbose=0, batch_size=256)
        return self.decision.calibrate(raw), None

    def predict_sets(self, texts: Sequence[str]) -> list[list[str]]:
        """Each text's labels at or above their thresholds, most probable first (the rule:
        :func:`tfcls.decision.label_rule.decide_labels`)."""
        proba, _ = self.text_scores(texts)
        t = self.decision.thresholds
        return [decide_labels(row, self.labels, t)["labels"] for row in proba]

    def predict(
        self, titles: Sequence[str], descriptions: Sequence[str] | None = None, k: int = 3
    ) -> list[dict[str, Any]]:
        """Per text, cleaned and joined as in training (``title. description``): every label
        with its calibrated probability (``predictions``, most probable first), the
        selected ``labels`` (each at or above its own threshold), ``suggestions`` (the ``k``
        most probable unselected) and ``auto_select`` (any label selected): the rule of
        :func:`tfcls.decision.label_rule.decide_labels`, as the browser applies it."""
        descriptions = descriptions or [""] * len(titles)
        texts = [join_title_description(t, d) for t, d in zip(titles, descriptions, strict=True)]
        proba, _ = self.text_scores(texts)
        t = self.decision.thresholds
        return [decide_labels(row, self.labels, t, k) for row in proba]
