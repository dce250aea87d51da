"""A bundle run in Python: the very graph and weights browsers run, for the server.

The server's ``/api/predict`` used to load a float32 SavedModel kept beside every bundle
(~87 MB a version, more than the int8 bundle itself). :class:`BundleModel` instead reads
the bundle's own ``model.json`` (the TF.js graph: a TensorFlow GraphDef whose constants
were moved into the weight shards), reads the shards' weights, dequantized the way TF.js
dequantizes them (:func:`read_weights`), and imports the graph into TensorFlow with the
weights fed in as variables, so int8 and float16 bundles compute what TF.js computes. The
tokenizer is the encoder's own :class:`tfcls.encoders.bert.BertPreprocessorModule`, built
from the bundle's ``vocab.txt`` and the settings in its ``metadata.json`` (the ones
``web/sdk/tokenizer.js`` follows), so a version needs nothing but what a browser
downloads, and the server and the browsers agree on every text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfcls.errors import TfclsError

INPUTS = ("input_word_ids", "input_mask")
OUTPUTS = ("probabilities", "similarity")


def read_weights(bundle: Path, manifest: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Weight name → value from a TF.js weights manifest and its shards, dequantized as
    TF.js does it (``uint8``: ``q * scale + min``; ``float16``: widened). Written here
    rather than taken from ``tensorflowjs`` so that the server does not import the
    converter (and TensorFlow Decision Forests with it) to answer a request."""
    weights: dict[str, np.ndarray] = {}
    for group in manifest:
        data = b"".join((bundle / name).read_bytes() for name in group["paths"])
        offset = 0
        for w in group["weights"]:
            quant = w.get("quantization")
            stored = np.dtype(quant["dtype"] if quant else w["dtype"])
            count = int(np.prod(w["shape"], dtype=np.int64))
            value = np.frombuffer(data, stored, count, offset).reshape(w["shape"])
            offset += stored.itemsize * count
            if quant and quant["dtype"] == "uint8":
                value = value.astype(np.float32) * np.float32(quant["scale"]) + np.float32(
                    quant["min"]
                )
            weights[w["name"]] = value.astype(np.dtype(w["dtype"]))
        if offset != len(data):
            raise TfclsError(
                f"{bundle}: shards {group['paths']} hold {len(data)} bytes, the manifest "
                f"describes {offset}"
            )
    return weights


def _graph(bundle: Path, model: dict[str, Any]) -> tuple[Any, dict[str, tf.Variable]]:
    """model.json's topology, and its weight constants as variables (name → variable):
    the imported graph reads the weights from them instead of holding ~90 MB of constants,
    which TensorFlow's graph optimizer would otherwise fold through on the first call."""
    from google.protobuf import json_format

    graph_def = json_format.ParseDict(model["modelTopology"], tf.compat.v1.GraphDef())
    weights = read_weights(bundle, model["weightsManifest"])
    consts = {n.name for n in graph_def.node if n.op == "Const"}
    missing = sorted(set(weights) - consts)
    if missing:
        raise TfclsError(
            f"{bundle / 'model.json'}: {len(missing)} of its {len(weights)} weights name no "
            f"constant of the graph (e.g. {missing[0]!r}; a library function's constants "
            "are not supported)"
        )
    variables = {
        name: tf.Variable(value, trainable=False, name=f"w{i}")
        for i, (name, value) in enumerate(weights.items())
    }
    return graph_def, variables


def _tensor(entries: dict[str, Any], key: str) -> str:
    """The graph tensor of signature entry ``key`` (the converter keys inputs by tensor
    name, ``input_mask:0``, and outputs by output name)."""
    for name, entry in entries.items():
        if name.split(":")[0] == key:
            return entry["name"]
    raise KeyError(key)


class BundleModel:
    """Cleaned strings → (calibrated probabilities, similarity), computed by the bundle."""

    def __init__(self, bundle: str | Path) -> None:
        from tfcls.encoders.bert import BertPreprocessorModule

        self.path = Path(bundle)
        model_path = self.path / "model.json"
        try:
            model = json.loads(model_path.read_text(encoding="utf-8"))
            signature = model["signature"]
            inputs = [_tensor(signature["inputs"], k) for k in INPUTS]
            outputs = [_tensor(signature["outputs"], k) for k in OUTPUTS]
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise TfclsError(f"{model_path}: not a tfcls TF.js graph model ({err!r})") from err
        graph_def, self._weights = _graph(self.path, model)

        def imported(ids: tf.Tensor, mask: tf.Tensor) -> list[tf.Tensor]:
            feeds = {f"{name}:0": var.read_value() for name, var in self._weights.items()}
            feeds.update(zip(inputs, (ids, mask), strict=True))
            return tf.graph_util.import_graph_def(
                graph_def, input_map=feeds, return_elements=outputs
            )

        spec = tf.TensorSpec([None, None], tf.int32)
        self._graph = tf.compat.v1.wrap_function(imported, [spec, spec])
        meta_path = self.path / "metadata.json"
        try:
            tok = json.loads(meta_path.read_text(encoding="utf-8"))["tokenizer"]
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise TfclsError(f"{meta_path}: no tokenizer settings ({err!r})") from err
        self.preprocessor = BertPreprocessorModule(
            self.path / tok.get("vocab", "vocab.txt"),
            lower_case=bool(tok.get("lower_case", True)),
            max_seq_len=int(tok.get("max_seq_len", 256)),
        )

    def predict(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities [n, labels], similarity [n]) for already cleaned ``texts``."""
        inputs = self.preprocessor(tf.constant(texts, tf.string))
        proba, sim = self._graph(inputs["input_word_ids"], inputs["input_mask"])
        return proba.numpy(), sim.numpy()
