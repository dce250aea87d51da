"""Fidelity of an exported bundle: the converted model run for real, compared with Keras.

:func:`node_predict` runs a bundle in Node through ``web/sdk/tfcls.js`` (the JS tokenizer
and TF.js, as a browser would); :func:`fidelity` compares any runtime's outputs with the
Keras model's on the same texts; :func:`acceptable` is the bar ``--quantize auto`` keeps,
on every :class:`TextSet` measured (the held-out split and a second, larger set).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tfcls import resources
from tfcls.errors import TfclsError

MAX_ACCURACY_DROP = 0.002  # auto: at most 0.2 points of held-out accuracy lost
MIN_ARGMAX_AGREEMENT = 0.995


def node_predict(bundle: Path, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Run a bundle in Node through web/sdk/tfcls.js: (probabilities, similarity) per text."""
    node = shutil.which("node")
    if node is None:
        raise TfclsError("node not found: export measures the bundle in Node (install Node.js 20)")
    missing = [str(d) for d in resources.VENDOR.values() if not d.is_dir()]
    if missing:
        raise TfclsError(f"TF.js is missing ({', '.join(missing)}): run `make setup` (npm ci)")
    proc = subprocess.run(
        [node, str(resources.NODE_PREDICT), str(bundle)],
        input="".join(json.dumps({"text": t}) + "\n" for t in texts),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        runner = resources.NODE_PREDICT.name
        raise TfclsError(f"{runner} failed on {bundle}:\n{proc.stderr[-3000:]}")
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    proba = np.array([r["probabilities"] for r in rows], dtype=np.float64)
    sim = np.array([r["similarity"] for r in rows], dtype=np.float64)
    return proba, sim


def fidelity(
    proba: np.ndarray,
    sim: np.ndarray | None,
    ref_proba: np.ndarray,
    ref_sim: np.ndarray | None,
    y: np.ndarray | None = None,
) -> dict[str, float]:
    """How far a runtime's outputs are from the Keras model's on the same texts (accuracy
    and its change only where labels ``y`` are given)."""
    out = {
        "n": len(ref_proba),
        "max_probability_diff": float(np.abs(proba - ref_proba).max()),
        "argmax_agreement": float((proba.argmax(1) == ref_proba.argmax(1)).mean()),
    }
    out["agreement"] = out["argmax_agreement"]
    if y is not None:
        out["accuracy"] = float((proba.argmax(1) == y).mean())
        out["reference_accuracy"] = float((ref_proba.argmax(1) == y).mean())
        out["accuracy_delta"] = out["accuracy"] - out["reference_accuracy"]
    if sim is not None and ref_sim is not None:
        out["max_similarity_diff"] = float(np.abs(sim - ref_sim).max())
    return out


def label_set_fidelity(
    proba: np.ndarray, ref_proba: np.ndarray, thresholds: np.ndarray, y: np.ndarray | None = None
) -> dict[str, float]:
    """:func:`fidelity` of a multi-label runtime: the share of texts whose label set (each
    label at or above its threshold) is unchanged (``agreement``), of single label decisions
    unchanged, and macro-F1 and its change where 0/1 targets ``y`` are given."""
    from tfcls.evaluation.multilabel_metrics import macro_f1

    sets, ref_sets = proba >= thresholds, ref_proba >= thresholds
    out = {
        "n": len(ref_proba),
        "max_probability_diff": float(np.abs(proba - ref_proba).max()),
        "agreement": float((sets == ref_sets).all(1).mean()),
        "label_decision_agreement": float((sets == ref_sets).mean()),
    }
    if y is not None:
        out["macro_f1"] = macro_f1(y, sets)
        out["reference_macro_f1"] = macro_f1(y, ref_sets)
        out["accuracy_delta"] = out["macro_f1"] - out["reference_macro_f1"]
    return out


def acceptable(f: dict[str, float]) -> bool:
    """The --quantize auto bar: accuracy (multi-label: macro-F1) loss ≤ 0.2 points where
    measured, agreement (argmax, or the whole label set) ≥ 99.5%."""
    return (
        f.get("accuracy_delta", 0.0) >= -MAX_ACCURACY_DROP
        and f["agreement"] >= MIN_ARGMAX_AGREEMENT
    )


@dataclass(frozen=True)
class TextSet:
    """Texts a bundle is measured on, with the Keras model's outputs on them (and labels
    where accuracy is measured too)."""

    name: str
    texts: list[str]
    reference: tuple[np.ndarray, np.ndarray | None]
    labels: np.ndarray | None = None  # class ids, or 0/1 label sets (multi-label)
    thresholds: np.ndarray | None = None  # multi-label: each label's threshold

    def measure(self, proba: np.ndarray, sim: np.ndarray | None) -> dict[str, Any]:
        """:func:`fidelity` (multi-label: :func:`label_set_fidelity`) of a runtime's
        outputs on these texts, naming the set."""
        if self.thresholds is not None:
            f = label_set_fidelity(proba, self.reference[0], self.thresholds, self.labels)
        else:
            f = fidelity(proba, sim, *self.reference, self.labels)
        return {"texts": self.name, **f}


def node_measure(
    bundle: Path, sets: list[TextSet], similarity: bool
) -> list[tuple[dict[str, Any], np.ndarray]]:
    """Run ``bundle`` in Node once on every set's texts: (:meth:`TextSet.measure`, Node's
    probabilities) of each."""
    proba, sim = node_predict(bundle, [t for s in sets for t in s.texts])
    out, start = [], 0
    for s in sets:
        end = start + len(s.texts)
        f = s.measure(proba[start:end], sim[start:end] if similarity else None)
        out.append((f, proba[start:end]))
        start = end
    return out
