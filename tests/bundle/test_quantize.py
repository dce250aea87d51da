"""Per-channel 8-bit bundles (``--quantize int8``): unit-range factoring, the graph that
carries it, and a real bundle run in Node through TF.js."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import tensorflow as tf
from conftest import tiny_bert_config
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tfcls.bundle import export as export_mod
from tfcls.bundle import fidelity as fidelity_mod
from tfcls.bundle import quantize
from tfcls.bundle.registry import Registry
from tfcls.encoders import bert
from tfcls.errors import TfclsError

FINITE = st.floats(-1e3, 1e3, allow_nan=False, width=32)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=FINITE),
       st.booleans())  # fmt: skip
def test_unit_range_factors_exactly_within_one(value, per_row):
    q, s = quantize.unit_range(value, per_row)
    assert np.abs(q).max() <= 1.0 and (s > 0).all()
    back = q * (s[:, None] if per_row else s[None, :])
    np.testing.assert_allclose(back, value, rtol=1e-6, atol=1e-30)
    assert s.shape == (value.shape[0] if per_row else value.shape[1],)


def _tiny_weights():
    cfg = tiny_bert_config()
    w = bert.random_weights(cfg, seed=3)
    return cfg, {k: (v.T if bert.is_linear(k) else v) for k, v in w.items()}


def test_per_channel_encoder_computes_the_same_function():
    cfg, weights = _tiny_weights()
    reference = bert.BertEncoderModule(weights, cfg, hf_layout=False)
    per_channel = quantize.PerChannelBert(cfg, weights, quantize.eight_bit_names(cfg))
    ids = tf.constant(np.random.default_rng(0).integers(0, cfg.vocab_size, (3, 9)), tf.int32)
    inputs = {"input_word_ids": ids, "input_mask": tf.ones_like(ids),
              "input_type_ids": tf.zeros_like(ids)}  # fmt: skip
    np.testing.assert_allclose(
        per_channel(inputs)["default"].numpy(), reference(inputs)["default"].numpy(), atol=1e-5
    )
    # word embeddings + six kernels per layer, each stored within [-1, 1]
    matrices = per_channel.unit_range_matrices()
    assert len(matrices) == 1 + 6 * cfg.num_hidden_layers
    assert all(np.abs(m).max() <= 1.0 for m in matrices.values())


@settings(max_examples=40, deadline=None)
@given(arrays(np.float32, (4, 7), elements=st.floats(-1, 1, width=32)), st.integers(2, 9))
def test_coarsen_keeps_few_levels_within_half_a_step(q, bits):
    coarse = quantize.coarsen(q, bits)
    if bits >= 8:
        assert coarse is q
        return
    levels = 2 ** (bits - 1) - 1
    assert len(np.unique(coarse)) <= 2 * levels + 1
    assert np.abs(coarse - q).max() <= 0.5 / levels + 1e-6


def test_weight_groups_are_checked():
    cfg, _ = _tiny_weights()
    assert quantize.eight_bit_names(cfg, ["embeddings"]) == list(quantize.EMBEDDINGS)
    assert len(quantize.eight_bit_names(cfg, ["linear"])) == 6 * cfg.num_hidden_layers
    with pytest.raises(ValueError, match="unknown 8-bit weight groups"):
        quantize.eight_bit_names(cfg, ["attention"])


def test_auto_never_tries_per_tensor_uint8_and_int8_needs_a_tfcls_bert():
    assert export_mod.candidates("auto", per_channel=True) == ["int8e6", "int8", "float16", "none"]
    assert export_mod.candidates("auto", per_channel=False) == ["float16", "none"]
    assert export_mod.candidates("uint8", per_channel=False) == ["uint8"]
    with pytest.raises(TfclsError, match="int8 lays out per-channel scales"):
        export_mod.candidates("int8", per_channel=False, handle="hub/use")


def test_int8_bundle_in_node_matches_float32(tiny_run, cache_dir, tmp_path, monkeypatch):
    """A real tiny bundle: the matrices go uint8 in the manifest, everything else float16,
    and TF.js (wasm, in Node) gives what the Keras model gives, within the recorded bar."""
    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    result = export_mod.export(tiny_run, tmp_path, "int8")
    manifest = json.loads((result.path / "model.json").read_text())["weightsManifest"]
    kinds = {}
    for w in (w for group in manifest for w in group["weights"]):
        kind = (w.get("quantization") or {}).get("dtype", w["dtype"])
        kinds[kind] = kinds.get(kind, 0) + 1
    assert kinds["uint8"] == 1 + 6 * tiny_bert_config().num_hidden_layers
    assert "float32" not in kinds  # every other float weight is float16
    recorded = result.fidelity["node_tfjs"]
    # the tiny random-weight model sits at near-ties (3 labels, ~1/3 each), so its argmax
    # agreement says little; the probabilities must still be close
    assert result.quantization == "int8" and recorded["max_probability_diff"] < 0.05
    # the server's Python run of the bundle dequantizes the uint8 weights as TF.js does
    assert result.fidelity["python_bundle"]["max_probability_diff_vs_node"] < 1e-5
    run = export_mod.Source(tiny_run)
    texts, y = run.validation_texts()
    ref_proba, ref_sim = run.keras_outputs(texts)
    proba, sim = fidelity_mod.node_predict(result.path, texts)
    assert np.abs(proba - ref_proba).max() == pytest.approx(recorded["max_probability_diff"])
    assert np.abs(proba - ref_proba).max() < 0.05
    measured = {k: v for k, v in recorded.items() if k != "texts"}
    assert fidelity_mod.fidelity(proba, sim, ref_proba, ref_sim, y) == pytest.approx(measured)


def test_requantize_refuses_a_bundle_without_the_matrices(tiny_bundle, tmp_path):
    """A matrix the converter folded away (here: one that is not in the bundle) is an error,
    not a bundle that silently differs from what was measured."""
    registry = Registry(tiny_bundle)
    bundle = tmp_path / "b"
    shutil.copytree(registry.path(registry.require_current()), bundle)
    with pytest.raises(ValueError, match="found 0 of the 1 unit-range matrices"):
        quantize.requantize(bundle, {"w": np.full((3, 5), 0.5, np.float32)})
