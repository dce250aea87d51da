"""Fidelity of an exported bundle: the converted model run for real, compared with Keras.

:func:`node_predict` runs a bundle in Node through ``web/sdk/tfcls.js`` (the JS tokenizer
and TF.js, as a browser would); :func:`fidelity` compares any runtime's outputs with the
Keras model's on the same texts; :func:`acceptable` is the bar ``--quantize auto`` keeps.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

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
    y: np.ndarray,
) -> dict[str, float]:
    """How far a runtime's outputs are from the Keras model's on the same texts."""
    out = {
        "n": len(y),
        "max_probability_diff": float(np.abs(proba - ref_proba).max()),
        "argmax_agreement": float((proba.argmax(1) == ref_proba.argmax(1)).mean()),
        "accuracy": float((proba.argmax(1) == y).mean()),
        "reference_accuracy": float((ref_proba.argmax(1) == y).mean()),
    }
    out["accuracy_delta"] = out["accuracy"] - out["reference_accuracy"]
    if sim is not None and ref_sim is not None:
        out["max_similarity_diff"] = float(np.abs(sim - ref_sim).max())
    return out


def acceptable(f: dict[str, float]) -> bool:
    """The --quantize auto bar: accuracy loss ≤ 0.2 points, argmax agreement ≥ 99.5%."""
    return (
        f["accuracy_delta"] >= -MAX_ACCURACY_DROP and f["argmax_agreement"] >= MIN_ARGMAX_AGREEMENT
    )
