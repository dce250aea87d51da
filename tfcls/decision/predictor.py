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

    This is the one place that loads a finished run for inference (through
    :class:`tfcls.training.runs.Run`); the export reads the run through a Predictor too.
    ``calibration`` holds the temperature and both thresholds; ``references`` the
    training embeddings when unknown detection compares with them (else None).
    """

    def __init__(self, run_dir: str | Path, *, purpose: str = "prediction") -> None:
        """Load the run at ``run_dir``; ``purpose`` names what needs it in the error for a
        directory that is not a finished run."""
        from tfcls.encoders import load_encoder_from

        self.run = Run(run_dir).finished(purpose)
        self.config = self.run.config()
        self.labels = self.run.labels()
        self.head = self.run.head()
        self.encoder = load_encoder_from(self.config.encoder)
        self.calibration = self.run.calibration()
        self.references = self.run.references(self.calibration)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.embed(list(texts), batch_size=self.config.encoder.batch_size)

    def _vectors(self, titles: Sequence[str], descriptions: Sequence[str] | None) -> np.ndarray:
        descriptions = descriptions or [""] * len(titles)
        return self._embed(
            [join_title_description(t, d) for t, d in zip(titles, descriptions, strict=True)]
        )

    def _proba(self, vectors: np.ndarray) -> np.ndarray:
        proba = self.head.predict(vectors, verbose=0, batch_size=256)
        return apply_temperature(proba, self.calibration.temperature)

    def _scores(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        similarity = None
        if self.references is not None:
            similarity = ood.nearest_similarity(vectors, self.references)
        return self._proba(vectors), similarity

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
        return self._scores(self._vectors(titles, descriptions))

    def text_scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`predict_scores` of model texts taken as they are (not cleaned or joined
        again): the export compares its bundles with this on exactly the texts they get."""
        return self._scores(self._embed(texts))

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
                self.calibration.threshold,
                None if similarity is None else similarity[i],
                self.calibration.unknown,
                k,
            )
            for i in range(len(proba))
        ]
