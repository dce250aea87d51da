"""Predictions of a trained run in Python: top categories, auto-select and unknown.

Texts are cleaned exactly as in training (``title. description``); each result holds the
top ``k`` labels with their calibrated probabilities, ``auto_select`` at or above the
run's threshold and ``unknown`` when the text fits no known category (its unknown score
is below the run's unknown threshold; the client then offers a new category). The rule is
:func:`tfcls.decision.rule.decide`; ``python -m tfcls.predict`` prints it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tfcls.data.text import join_title_description
from tfcls.decision import unknown as ood
from tfcls.decision.calibration import apply_temperature
from tfcls.decision.rule import decide
from tfcls.training.runs import Run


class Predictor:
    """A trained run's head plus its encoder: texts → calibrated probabilities → decisions.

    The run is read through :class:`tfcls.training.runs.Run`, as the export reads it.
    """

    def __init__(self, run_dir: str | Path) -> None:
        from tfcls.encoders import load_encoder_from

        self.run = Run(run_dir).finished("prediction")
        self.run_dir = self.run.dir
        config = self.run.config()
        self.labels = self.run.labels()
        self.head = self.run.head()
        self.encoder = load_encoder_from(config.encoder)
        self.batch_size = config.encoder.batch_size
        self.calibration = self.run.calibration()
        self.temperature = self.calibration.temperature
        self.threshold = self.calibration.threshold
        self.unknown = self.calibration.unknown
        self.references = self.run.references(self.calibration)

    def _vectors(self, titles: Sequence[str], descriptions: Sequence[str] | None) -> np.ndarray:
        descriptions = descriptions or [""] * len(titles)
        texts = [join_title_description(t, d) for t, d in zip(titles, descriptions, strict=True)]
        return self.encoder.embed(texts, batch_size=self.batch_size)

    def _proba(self, vectors: np.ndarray) -> np.ndarray:
        proba = self.head.predict(vectors, verbose=0, batch_size=256)
        return apply_temperature(proba, self.temperature)

    def predict_proba(
        self, titles: Sequence[str], descriptions: Sequence[str] | None = None
    ) -> np.ndarray:
        """Calibrated probabilities [n, n_labels] for titles (and optional descriptions)."""
        return self._proba(self._vectors(titles, descriptions))

    def predict_scores(
        self, titles: Sequence[str], descriptions: Sequence[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Calibrated probabilities and, when the run detects unknown texts by the nearest
        training text, each text's similarity to it (else None)."""
        vectors = self._vectors(titles, descriptions)
        similarity = None
        if self.references is not None:
            similarity = ood.nearest_similarity(vectors, self.references)
        return self._proba(vectors), similarity

    def predict(
        self, titles: Sequence[str], descriptions: Sequence[str] | None = None, k: int = 3
    ) -> list[dict[str, Any]]:
        """Per text: top-k ``{label, probability}`` (most probable first), ``auto_select``
        (top probability at or above the run's threshold), ``unknown`` (fits no known
        category: offer a new one) and ``similarity`` (None unless the run scores by it).
        """
        proba, similarity = self.predict_scores(titles, descriptions)
        return [
            decide(
                proba[i],
                self.labels,
                self.threshold,
                None if similarity is None else similarity[i],
                self.unknown,
                k,
            )
            for i in range(len(proba))
        ]
