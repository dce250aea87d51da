"""Per-channel 8-bit weights carried by the graph: the bundle's ``int8`` quantization.

``tensorflowjs_converter --quantize_uint8`` keeps one min/max per tensor, so a 30,522 × 384
embedding table or a kernel with a few large entries shares one coarse grid (the
per-tensor ``uint8`` bundle flips ~3.5% of argmaxes). Here each large matrix is stored
*unit-range*: ``W = Q · s`` with ``s`` the largest magnitude of each row (embedding tables)
or each output column (Linear kernels), so every ``Q`` lies in [-1, 1] and the converter's
per-tensor 8-bit grid costs each channel at most half a step of its own range. The graph
computes ``(x @ Q) * s`` and ``gather(Q, ids) * gather(s, ids)``
(:func:`tfcls.encoders.bert._dense` / ``_lookup``): only ops TF.js already runs, and
nothing constant-only for the converter to fold back into float32. The scales, biases,
LayerNorms and the small head stay float16 (the fallthrough).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfcls.encoders import bert

EIGHT_BIT = "q8"  # variable-name prefix of the unit-range matrices (unit_range_variables)
EMBEDDINGS = ("embeddings.word_embeddings.weight",)


def eight_bit_names(
    cfg: bert.BertConfig, groups: Iterable[str] = ("embeddings", "linear")
) -> list[str]:
    """Which weights go 8-bit: ``embeddings`` (the word-embedding table) and/or ``linear``
    (every Linear kernel of every layer)."""
    wanted = set(groups)
    unknown = wanted - {"embeddings", "linear"}
    if unknown:
        raise ValueError(f"unknown 8-bit weight groups: {sorted(unknown)}")
    names = list(EMBEDDINGS) if "embeddings" in wanted else []
    if "linear" in wanted:
        names += [n for n in bert.weight_names(cfg) if bert.is_linear(n)]
    return names


def unit_range(value: np.ndarray, per_row: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(Q, s)`` with ``Q * s == value`` and ``|Q| ≤ 1``: ``s`` per row (``per_row``) or
    per column; an all-zero channel gets scale 1."""
    value = np.asarray(value, np.float32)
    scale = np.abs(value).max(axis=1 if per_row else 0)
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    q = value / (scale[:, np.newaxis] if per_row else scale[np.newaxis, :])
    return q.astype(np.float32), scale


def _variable_name(name: str) -> str:
    return name.replace(".", "/")


class PerChannelBert(tf.Module):
    """A tfcls BERT encoder (weights in [in, out] layout, as :func:`bert.module_weights`
    returns them) with ``eight_bit`` weights stored unit-range beside per-channel scales.

    Called like the TF Hub encoder it replaces (``input_word_ids``/``input_mask``/
    ``input_type_ids`` → ``default``, …); in float32 it computes the same function.
    """

    def __init__(
        self, cfg: bert.BertConfig, weights: Mapping[str, np.ndarray], eight_bit: Iterable[str]
    ) -> None:
        super().__init__(name="per_channel_bert")
        self._cfg = cfg
        chosen = set(eight_bit)
        w: dict[str, tf.Variable] = {}
        for name in bert.weight_names(cfg):
            if name in chosen:
                q, s = unit_range(weights[name], per_row=name in EMBEDDINGS)
                w[name] = tf.Variable(
                    q, trainable=False, name=f"{EIGHT_BIT}/{_variable_name(name)}"
                )
                w[name + bert.SCALE] = tf.Variable(
                    s, trainable=False, name=_variable_name(name) + bert.SCALE
                )
            else:
                w[name] = tf.Variable(
                    np.asarray(weights[name], np.float32),
                    trainable=False,
                    name=_variable_name(name),
                )
        self._w = w

    def __call__(self, inputs: Mapping[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        return bert.encode(self._w, self._cfg, inputs)

    def unit_range_variables(self) -> dict[str, tf.Variable]:
        """Weight name → the variable holding its unit-range ``Q``."""
        return {n: v for n, v in self._w.items() if v.name.startswith(EIGHT_BIT + "/")}

    def unit_range_matrices(self) -> dict[str, np.ndarray]:
        """Weight name → its ``Q``, as the converted bundle holds it (to find it there)."""
        return {n: v.numpy() for n, v in self.unit_range_variables().items()}


def coarsen(q: np.ndarray, bits: int) -> np.ndarray:
    """``q`` (in [-1, 1]) on ``2^(bits-1) - 1`` levels a side: still stored in 8 bits, but
    with fewer distinct bytes it compresses to about ``bits`` per weight on the wire.
    8 or more bits: ``q`` unchanged (the uint8 grid itself)."""
    if bits >= 8:
        return q
    levels = 2 ** (bits - 1) - 1
    return (np.round(q * levels) / levels).astype(np.float32)


def requantize(
    bundle: Path, unit_range: Mapping[str, np.ndarray], bits: Mapping[str, int] | None = None
) -> int:
    """Rewrite a float32 TF.js bundle's weights: the ``unit_range`` matrices (weight name →
    ``Q``) as uint8 (:func:`coarsen`-ed to ``bits[name]`` where given), every other float32
    weight as float16, with ``tensorflowjs``' own reader and writer, so the manifest is what
    ``tf.loadGraphModel`` expects. Returns how many went 8-bit.

    The converter names weights after the ops that read them, not after our variables, so
    the matrices are found by value; one not found means the converter folded it into
    another constant, and the bundle would not be what was measured.
    """
    from tensorflowjs import read_weights, write_weights

    model_path = bundle / "model.json"
    model = json.loads(model_path.read_text(encoding="utf-8"))
    groups = read_weights.read_weights(model["weightsManifest"], str(bundle))
    eight: list[str] = []
    for entry in (e for group in groups for e in group):
        data = entry["data"]
        found = [
            name
            for name, q in unit_range.items()
            if data.dtype == np.float32 and q.shape == data.shape and np.array_equal(q, data)
        ]
        if found:
            entry["data"] = coarsen(data, (bits or {}).get(found[0], 8))
            eight.append(entry["name"])
    if len(eight) != len(unit_range):
        raise ValueError(
            f"{bundle}: found {len(eight)} of the {len(unit_range)} unit-range matrices among the "
            "converted weights (the converter folded some into other constants)"
        )
    for group in model["weightsManifest"]:
        for name in group["paths"]:
            (bundle / name).unlink()
    model["weightsManifest"] = write_weights.write_weights(
        groups,
        str(bundle),
        write_manifest=False,
        quantization_dtype_map={"uint8": eight, "float16": True},
    )
    model_path.write_text(json.dumps(model), encoding="utf-8")
    return len(eight)


def per_channel_encoder(
    encoder: Any, groups: Iterable[str] = ("embeddings", "linear")
) -> PerChannelBert | None:
    """The 8-bit-ready copy of a loaded tfcls BERT encoder; None for any other encoder
    (a foreign TF Hub module has no weights we can lay out)."""
    found = bert.module_weights(encoder)
    if found is None:
        return None
    cfg, weights = found
    return PerChannelBert(cfg, weights, eight_bit_names(cfg, groups))
