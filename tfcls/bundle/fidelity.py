"""Fidelity of an exported bundle: the converted model run for real, compared with Keras.

:func:`node_predict` runs a bundle in Node through ``web/sdk/tfcls.js`` (the JS tokenizer
and TF.js, as a browser would); :func:`fidelity` compares any runtime's outputs with the
Keras model's on the same texts; :func:`acceptable` is the bar ``--quantize auto`` keeps,
on every :class:`TextSet` measured (the held-out split and a second, larger set).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tfcls import resources
from tfcls.errors import TfclsError
from tfcls.progress import Progress

MAX_ACCURACY_DROP = 0.002  # auto: at most 0.2 points of held-out accuracy lost
MIN_ARGMAX_AGREEMENT = 0.995


def node_predict(
    bundle: Path, texts: list[str], label: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Run a bundle in Node through web/sdk/tfcls.js: (probabilities, similarity) per text.

    The runner answers one line per text, read as it comes: with a ``label`` that is a
    progress bar over the texts (:class:`tfcls.progress.Progress`)."""
    node = shutil.which("node")
    if node is None:
        raise TfclsError("node not found: export measures the bundle in Node (install Node.js 20)")
    missing = [str(d) for d in resources.VENDOR.values() if not d.is_dir()]
    if missing:
        raise TfclsError(f"TF.js is missing ({', '.join(missing)}): run `make setup` (npm ci)")
    payload = "".join(json.dumps({"text": t}) + "\n" for t in texts)
    # stderr goes to a file: a pipe left unread could fill up and stall the runner
    with (
        tempfile.TemporaryFile("w+") as err,
        Progress(label or "node", len(texts), "texts", enabled=label is not None) as bar,
        subprocess.Popen(
            [node, str(resources.NODE_PREDICT), str(bundle)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        ) as proc,
    ):
        rows = _answers(proc, payload, bar)
        if proc.wait() != 0:
            err.seek(0)
            runner = resources.NODE_PREDICT.name
            raise TfclsError(f"{runner} failed on {bundle}:\n{err.read()[-3000:]}")
    proba = np.array([r["probabilities"] for r in rows], dtype=np.float64)
    sim = np.array([r["similarity"] for r in rows], dtype=np.float64)
    return proba, sim


def _answers(proc: subprocess.Popen, payload: str, bar: Progress) -> list[dict[str, Any]]:
    """Feed the runner every text (it reads them all before it answers the first), then
    read its answers as they come, one line (and one step of ``bar``) per text."""
    assert proc.stdin is not None and proc.stdout is not None
    with contextlib.suppress(BrokenPipeError):  # it died early: its stderr says why
        proc.stdin.write(payload)
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.close()
    rows = []
    for line in proc.stdout:
        if line.strip():
            rows.append(json.loads(line))
            bar.update(1)
    return rows


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
    bundle: Path, sets: list[TextSet], similarity: bool, label: str | None = None
) -> list[tuple[dict[str, Any], np.ndarray]]:
    """Run ``bundle`` in Node once on every set's texts: (:meth:`TextSet.measure`, Node's
    probabilities) of each; ``label`` names the texts' progress bar."""
    proba, sim = node_predict(bundle, [t for s in sets for t in s.texts], label)
    out, start = [], 0
    for s in sets:
        end = start + len(s.texts)
        f = s.measure(proba[start:end], sim[start:end] if similarity else None)
        out.append((f, proba[start:end]))
        start = end
    return out
