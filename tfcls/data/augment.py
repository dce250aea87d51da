"""Token-level augmentation of small training sets (``data.augment``).

New texts are made from training texts only; each remembers the row it came from
(``origin``), so cross-fitting keeps a text and its copies in the same fold and
out-of-fold predictions, calibration, validation and test only ever see real texts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Augmented:
    """Texts made from training rows: ``texts[i]`` was made from original row ``origin[i]``
    (an index into the training rows it was made from) and takes that row's label(s)."""

    texts: list[str]
    origin: np.ndarray  # int64, one per text

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.origin):
            raise ValueError(f"{len(self.texts)} texts but {len(self.origin)} origins")
