"""Which weights take how many bits: ``python -m tfcls.bench quantization --run RUN``.

For every matrix an ``int8`` bundle stores in 8 bits (:mod:`tfcls.bundle.quantize`) and for
each bit width asked for, this stores just that matrix at that width — unit-range ``Q``
snapped to ``2^(bits-1) - 1`` levels a side, then through ``tensorflowjs``' own uint8
quantizer, exactly what the bundle would hold — and measures the run's exported graph on
the held-out texts against the float32 graph: argmax agreement and the largest probability
change, plus the matrix's gzip bytes. Then every matrix at once, per width. It runs the
graph in Python (one forward pass per setting); export's Node measurement is still the gate.
"""

from __future__ import annotations

import gzip
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tfcls.bench.speed import machine_info
from tfcls.bundle.quantize import coarsen

BATCH = 128  # texts per forward pass (padded to the longest of the batch)


def snap(q: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """``q`` (in [-1, 1]) :func:`coarsen`-ed to ``bits``, then through tensorflowjs' uint8
    quantizer: (the values a bundle with this matrix at ``bits`` computes with, its bytes)."""
    from tensorflowjs import quantization

    stored, meta = quantization.quantize_weights(coarsen(q, bits), np.uint8)
    return (stored.astype(np.float32) * meta["scale"] + meta["min"]).astype(np.float32), stored


def _agreement(proba: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    return {
        "argmax_agreement": float((proba.argmax(1) == reference.argmax(1)).mean()),
        "max_probability_diff": float(np.abs(proba - reference).max()),
    }


def _measure(
    variables: dict[str, Any], bits: int, run: Callable[[], np.ndarray], reference: np.ndarray
) -> dict[str, Any]:
    """Fidelity with ``variables`` stored at ``bits`` (restored afterwards), and their gzip
    bytes."""
    originals = {name: var.numpy() for name, var in variables.items()}
    gz = 0
    for name, var in variables.items():
        values, stored = snap(originals[name], bits)
        var.assign(values)
        gz += len(gzip.compress(stored.tobytes(), 6))
    try:
        return {"bits": bits, "gzip_bytes": gz, **_agreement(run(), reference)}
    finally:
        for name, var in variables.items():
            var.assign(originals[name])


def bench_quantization(
    run_dir: str | Path, bits: Sequence[int] = (8, 7, 6), texts: list[str] | None = None
) -> dict[str, Any]:
    """Per matrix and per width: fidelity against float32 and gzip bytes (module docstring),
    on ``texts`` (default: the run's held-out split)."""
    import tensorflow as tf

    from tfcls.bundle.export import Source
    from tfcls.bundle.graph import NumericModel
    from tfcls.bundle.quantize import per_channel_encoder

    source = Source(Path(run_dir))
    p = source.predictor
    encoder = per_channel_encoder(p.encoder.modules.encoder)
    if encoder is None:
        raise ValueError(f"{run_dir}: its encoder is not a tfcls BERT (no int8 bundle)")
    numeric = NumericModel(encoder, p.head, p.calibration.temperature, None)
    text_source = "held-out" if texts is None else "given"
    if texts is None:
        texts, _ = source.validation_texts()
    batches = [
        p.encoder.modules.preprocessor(tf.constant(texts[i : i + BATCH]))
        for i in range(0, len(texts), BATCH)
    ]

    def run() -> np.ndarray:
        return np.concatenate(
            [
                numeric(b["input_word_ids"], b["input_mask"])["probabilities"].numpy()
                for b in batches
            ]
        )

    reference = run()
    matrices = encoder.unit_range_variables()
    t0 = time.perf_counter()
    rows = []
    for n, name in enumerate(matrices, 1):
        rows += [
            _measure({name: matrices[name]}, b, run, reference) | {"weight": name} for b in bits
        ]
        print(f"quantization: {n}/{len(matrices)} matrices", file=sys.stderr, flush=True)
    together = {b: _measure(matrices, b, run, reference) for b in bits}
    return {
        "benchmark": "quantization",
        "run": str(run_dir),
        "texts": len(texts),
        "text_source": text_source,
        "per_matrix": rows,
        "all_matrices": together,
        "seconds": round(time.perf_counter() - t0, 1),
        "machine": machine_info(),
    }
