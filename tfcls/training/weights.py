"""How much each training text counts: its label confidence times its class's balance weight.

A text's own weight comes from the data (an optional ``confidence`` or ``weight`` field,
default 1; :mod:`tfcls.data.dataset`). ``train.class_weights`` multiplies it by a weight
of the text's class, so rare classes are not drowned out by frequent ones:

- ``none``: 1 for every class;
- ``inverse``: inversely proportional to the class's count (``n / (k × count)``);
- ``effective``: inversely proportional to the class's *effective number of samples*,
  ``(1 − β^count) / (1 − β)`` (Cui et al. 2019, "Class-Balanced Loss Based on Effective
  Number of Samples", ``train.class_balance_beta`` = β): between ``none`` (β → 0) and
  ``inverse`` (β → 1), since extra examples of a class add less and less new information.

Class weights are scaled so that they average 1 over the texts, which leaves the loss's
scale (and so the tuned learning rate) where it was. A multi-label text takes the largest
weight among its labels (its rarest label). The product is one per-text weight that every
fit of a training uses alike: the tuner's trials, the cross-fitted fold heads, encoder
adaptation and the final model (Keras' ``class_weight`` reached only some of them).
"""

from __future__ import annotations

import numpy as np

from tfcls.config_train import CLASS_WEIGHTS
from tfcls.training.model import one_hot


def class_weights(
    y: np.ndarray, n_classes: int, kind: str = "inverse", beta: float = 0.999
) -> np.ndarray:
    """Per-class weights [n_classes] of ``kind`` (see the module doc) for labels ``y``
    (class ids [n], or 0/1 label sets [n, n_classes]); a class without texts gets 0."""
    if kind not in CLASS_WEIGHTS:
        raise ValueError(f"class weights must be one of {', '.join(CLASS_WEIGHTS)}, got {kind!r}")
    sets = _as_sets(y, n_classes)
    counts = sets.sum(axis=0).astype(np.float64)
    present = counts > 0
    raw = np.ones(n_classes)
    if kind == "inverse":
        raw = 1.0 / np.maximum(counts, 1.0)
    elif kind == "effective":
        raw = (1.0 - beta) / (1.0 - np.power(beta, np.maximum(counts, 1.0)))
    raw = np.where(present, raw, 0.0)
    per_text = _row_weights(sets, raw)
    return raw / per_text.mean() if len(per_text) and per_text.mean() > 0 else raw


def training_weights(
    y: np.ndarray, w: np.ndarray, n_classes: int, kind: str, beta: float = 0.999
) -> np.ndarray:
    """Each text's weight in every fit: its own weight ``w`` times its class's weight
    (``kind``: none, inverse or effective), float32."""
    w = np.asarray(w, np.float64)
    if kind == "none":
        return w.astype(np.float32)
    per_class = class_weights(y, n_classes, kind, beta)
    return (w * _row_weights(_as_sets(y, n_classes), per_class)).astype(np.float32)


def _as_sets(y: np.ndarray, n_classes: int) -> np.ndarray:
    """0/1 label sets [n, n_classes] of class ids (one-hot) or of label sets."""
    y = np.asarray(y)
    sets = y > 0 if y.ndim == 2 else one_hot(y, n_classes)
    return sets.astype(np.float64)


def _row_weights(sets: np.ndarray, per_class: np.ndarray) -> np.ndarray:
    """The largest class weight among each row's labels (1 for a row without labels)."""
    weighted = sets * per_class[None, :]
    return np.where(sets.any(axis=1), weighted.max(axis=1, initial=0.0), 1.0)
