"""``python -m tfcls.export --run RUN_DIR [--out exported] [--quantize ...]``: the TF.js bundle.

TF.js cannot run tensorflow_text's tokenizer ops, so the bundle holds the numeric graph
``input_word_ids, input_mask (int32 [batch, seq]) → probabilities (calibrated, [batch,
n_labels]), similarity ([batch], to the nearest training text; 0 unless the run detects
unknown texts that way)`` and the browser tokenizes
in JavaScript (``web/sdk/tokenizer.js``) with the bundled ``vocab.txt``. Layout of
``exported/<version>/``: ``model.json`` + weight shards, ``vocab.txt``, ``metadata.json``
and ``saved_model/`` (the same model for Python, taking already cleaned strings).

Fidelity is measured, not assumed: the numeric SavedModel is checked against the run's
Keras model in Python, and each converted bundle is run in Node through ``web/sdk/tfcls.js``
(tokenizer included) on the validation texts; ``metadata.json`` records the largest
probability difference, argmax agreement and accuracy change. ``--quantize auto`` picks
the smallest bundle whose accuracy changes by ≤ 0.2 points with ≥ 99.5% argmax agreement.

Publishing is atomic: the bundle is built in a temporary folder, renamed to its version
(time + content hash; never overwritten), and only then is ``exported/current.json``
replaced (write + fsync + rename). A crash at any point leaves the current bundle served.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfcls import console
from tfcls.bundle.fidelity import acceptable, fidelity, node_predict
from tfcls.bundle.registry import METADATA, Registry
from tfcls.config import QUANTIZATIONS
from tfcls.errors import TfclsError
from tfcls.training import runs

SCHEMA_VERSION = 1
# converter flags of each quantization (config.QUANTIZATIONS: smallest first)
CONVERTER_FLAGS: dict[str, list[str]] = {
    "uint8": ["--quantize_uint8=*"],
    "float16": ["--quantize_float16=*"],
    "none": [],
}


class NumericModel(tf.Module):
    """Token ids → calibrated probabilities and nearest-training-text similarity.

    The encoder is the run's TF Hub module; the head's two Dense layers, the temperature
    and the reference embeddings are constants of this module, so the graph is what
    ``model.keras`` computes minus the string tokenizer.
    """

    def __init__(
        self,
        encoder: Any,
        head_weights: list[np.ndarray],
        temperature: float,
        references: np.ndarray | None,
    ) -> None:
        super().__init__(name="tfcls_numeric")
        self.encoder = encoder
        w1, b1, w2, b2 = (np.asarray(w, np.float32) for w in head_weights)
        self.hidden_kernel = tf.Variable(w1, trainable=False, name="hidden_kernel")
        self.hidden_bias = tf.Variable(b1, trainable=False, name="hidden_bias")
        self.output_kernel = tf.Variable(w2, trainable=False, name="output_kernel")
        self.output_bias = tf.Variable(b2, trainable=False, name="output_bias")
        self.temperature = tf.Variable(float(temperature), trainable=False, name="temperature")
        refs = np.zeros((1, w1.shape[0]), np.float32) if references is None else references
        self.references = tf.Variable(refs.astype(np.float32), trainable=False, name="references")

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None], tf.int32, name="input_word_ids"),
            tf.TensorSpec([None, None], tf.int32, name="input_mask"),
        ]
    )
    def __call__(self, input_word_ids: tf.Tensor, input_mask: tf.Tensor) -> dict[str, tf.Tensor]:
        out = self.encoder(
            {
                "input_word_ids": input_word_ids,
                "input_mask": input_mask,
                "input_type_ids": tf.zeros_like(input_word_ids),
            }
        )
        vectors = tf.math.l2_normalize(out["default"], axis=-1)
        hidden = tf.nn.relu(tf.matmul(vectors, self.hidden_kernel) + self.hidden_bias)
        logits = tf.matmul(hidden, self.output_kernel) + self.output_bias
        # Temperature(softmax(z)) = softmax(log softmax(z) / T) = softmax(z / T)
        proba = tf.nn.softmax(logits / self.temperature, axis=-1)
        similarity = tf.reduce_max(tf.matmul(vectors, self.references, transpose_b=True), axis=-1)
        return {"probabilities": proba, "similarity": similarity}


class StringModel(tf.Module):
    """The Python bundle: cleaned strings → the numeric model's outputs."""

    def __init__(self, preprocessor: Any, numeric: NumericModel) -> None:
        super().__init__(name="tfcls_strings")
        self.preprocessor = preprocessor
        self.numeric = numeric

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    def __call__(self, texts: tf.Tensor) -> dict[str, tf.Tensor]:
        inputs = self.preprocessor(texts)
        return self.numeric(inputs["input_word_ids"], inputs["input_mask"])


class Source:
    """What the export needs from a finished run, read through :class:`runs.Run` (as the
    predictor reads it): config, labels, head, encoder, calibration, references."""

    def __init__(self, run_dir: Path) -> None:
        from tfcls.encoders import load_encoder_from
        from tfcls.encoders.hub import BERT

        self.run = runs.Run(run_dir).finished("export")
        self.dir = self.run.dir
        self.config = self.run.config()
        self.labels = self.run.labels()
        self.calibration = self.run.calibration()
        self.metrics = self.run.metrics()
        self.head = self.run.head()
        self.encoder = load_encoder_from(self.config.encoder)
        if self.encoder.modules.kind != BERT:
            raise TfclsError(
                f"{self.config.encoder.handle}: a string-input encoder cannot run in TF.js "
                "(its tokenizer ops are TensorFlow-only); export needs a BERT-style encoder"
            )
        self.references = self.run.references(self.calibration)
        self.spec = self.encoder.modules.tokenizer_spec()
        if self.spec is None or self.spec.vocab_path is None:
            raise TfclsError(f"{self.config.encoder.handle}: its preprocessor has no vocab.txt")

    def head_weights(self) -> list[np.ndarray]:
        """[hidden kernel, hidden bias, output kernel, output bias] of the Dense-Dropout-Dense
        head."""
        weights = self.head.get_weights()
        if len(weights) != 4:
            raise TfclsError(f"{self.dir}/head.keras: expected Dense-Dropout-Dense weights")
        return weights

    def held_out_split(self) -> str:
        """The split fidelity is measured on: the test split, which the final model never
        trained on (the validation part is training data since cross-fitting), else val."""
        return "test" if len(self.run.splits()["test"]) else "val"

    def validation_texts(self) -> tuple[list[str], np.ndarray]:
        """The texts and labels of ``held_out_split``."""
        dataset = self.run.dataset(1, "pass --texts FILE to measure fidelity on")
        idx = self.run.splits()[self.held_out_split()]
        return [dataset.examples[int(i)].text for i in idx], dataset.y[idx]

    def keras_outputs(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """Reference probabilities and similarity computed the training way (Keras head)."""
        from tfcls.decision.calibration import apply_temperature
        from tfcls.decision.unknown import nearest_similarity

        vectors = self.encoder.embed(texts, batch_size=self.config.encoder.batch_size)
        proba = apply_temperature(
            self.head.predict(vectors, verbose=0, batch_size=256),
            self.calibration.temperature,
        )
        sim = None if self.references is None else nearest_similarity(vectors, self.references)
        return proba, sim


def _convert(numeric_dir: Path, target: Path, quantization: str) -> None:
    """``tensorflowjs_converter`` run in this process (TensorFlow is already loaded, so this
    saves a second interpreter's start-up per conversion); its chatter is captured."""
    log = io.StringIO()
    # TF-DF (imported by tensorflowjs) greets on import, via IPython when stdout is captured
    os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")
    try:
        with (
            contextlib.redirect_stdout(log),
            contextlib.redirect_stderr(log),
            console.captured_stderr() as native,
        ):
            from tensorflowjs.converters import converter

            converter.convert(
                [
                    "--input_format=tf_saved_model",
                    "--output_format=tfjs_graph_model",
                    "--signature_name=serving_default",
                    "--saved_model_tags=serve",
                    *CONVERTER_FLAGS[quantization],
                    str(numeric_dir),
                    str(target),
                ]
            )
    except (Exception, SystemExit) as err:
        detail = log.getvalue() + "\n".join(native)
        raise TfclsError(f"tensorflowjs_converter failed: {err}\n{detail[-3000:]}") from err


def bundle_sizes(bundle: Path) -> dict[str, int]:
    """Bytes and gzip bytes of what a browser downloads (model.json, shards, vocab)."""
    files = [bundle / "model.json", bundle / "vocab.txt", *sorted(bundle.glob("*.bin"))]
    raw = sum(f.stat().st_size for f in files if f.is_file())
    gz = sum(len(gzip.compress(f.read_bytes(), 6)) for f in files if f.is_file())
    return {"bytes": raw, "gzip_bytes": gz}


def version_name(bundle: Path) -> str:
    """``<UTC time>-<sha256 prefix of model.json and shards>``: sortable and unique."""
    digest = hashlib.sha256()
    for f in sorted([bundle / "model.json", *bundle.glob("*.bin")]):
        digest.update(f.read_bytes())
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + digest.hexdigest()[:8]


def _clean_stale_temp(out: Path) -> None:
    """Remove build folders of exports that died (their pid no longer runs)."""
    for tmp in out.glob(".build-*"):
        try:
            pid = int(tmp.name.split("-")[1])
            os.kill(pid, 0)
        except (ValueError, IndexError, ProcessLookupError):
            shutil.rmtree(tmp, ignore_errors=True)
        except PermissionError:
            pass


def export(
    run_dir: str | Path,
    out: str | Path = "exported",
    quantize: str = "auto",
    texts: list[str] | None = None,
    labels_y: np.ndarray | None = None,
    publish: bool = True,
) -> dict[str, Any]:
    """Export a run; return metadata.json's content (with ``path`` of the new bundle).

    Fidelity is measured on ``texts`` (default: the run's held-out split); ``quantize``
    ``auto`` keeps the smallest quantization that meets the bar; ``publish`` makes the
    new version current (:class:`Registry`)."""
    if quantize != "auto" and quantize not in QUANTIZATIONS:
        raise TfclsError(f"--quantize must be auto or one of {', '.join(QUANTIZATIONS)}")
    run = Source(Path(run_dir))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _clean_stale_temp(out)
    source = f"{run.held_out_split()} split" if texts is None else "given texts"
    if texts is None:
        texts, labels_y = run.validation_texts()
    y = np.asarray(labels_y)
    t0 = time.perf_counter()
    build = Path(tempfile.mkdtemp(prefix=f".build-{os.getpid()}-", dir=out))
    try:
        numeric_dir, bundle = _saved_models(run, build)
        reference = run.keras_outputs(texts)
        reloaded = tf.saved_model.load(str(bundle / "saved_model"))
        py = reloaded.signatures["serving_default"](texts=tf.constant(texts))
        similarity = py["similarity"].numpy() if run.references is not None else None
        python_fidelity = fidelity(py["probabilities"].numpy(), similarity, *reference, y)
        shutil.copy(run.spec.vocab_path, bundle / "vocab.txt")
        candidates = list(QUANTIZATIONS) if quantize == "auto" else [quantize]
        chosen, tried = _convert_and_measure(
            run, numeric_dir, build, candidates, texts, reference, y
        )
        for f in (build / f"tfjs-{chosen}").iterdir():
            shutil.move(str(f), bundle / f.name)
        version = version_name(bundle)
        fidelity_ = {
            "python_saved_model": python_fidelity,
            "node_tfjs": tried[chosen]["fidelity"],
            "quantizations_tried": tried,
            "texts": source,
        }
        seconds = round(time.perf_counter() - t0, 1)
        meta = _write_metadata(bundle, run, chosen, fidelity_, version, seconds=seconds)
        final = out / version
        if final.exists():
            raise TfclsError(f"{final}: exists; exported versions are never overwritten")
        os.rename(bundle, final)
        if publish:
            Registry(out).set_current(version)
        meta["path"] = str(final)
        return meta
    finally:
        shutil.rmtree(build, ignore_errors=True)


def _saved_models(run: Source, build: Path) -> tuple[Path, Path]:
    """The numeric SavedModel (what TF.js converts) and the bundle folder holding the
    string-input SavedModel for Python."""
    numeric = NumericModel(
        run.encoder.modules.encoder, run.head_weights(), run.calibration.temperature, run.references
    )
    numeric_dir = build / "numeric"
    tf.saved_model.save(numeric, str(numeric_dir), signatures={"serving_default": numeric.__call__})
    strings = StringModel(run.encoder.modules.preprocessor, numeric)
    bundle = build / "bundle"
    bundle.mkdir()
    tf.saved_model.save(
        strings, str(bundle / "saved_model"), signatures={"serving_default": strings.__call__}
    )
    return numeric_dir, bundle


def _convert_and_measure(
    run: Source,
    numeric_dir: Path,
    build: Path,
    candidates: list[str],
    texts: list[str],
    reference: tuple[np.ndarray, np.ndarray | None],
    y: np.ndarray,
) -> tuple[str, dict[str, Any]]:
    """Convert with each quantization in turn, measure it in Node, stop at the first that
    is acceptable (or the only one asked for): (chosen, what each one tried gave)."""
    tried: dict[str, Any] = {}
    for q in candidates:
        target = build / f"tfjs-{q}"
        _convert(numeric_dir, target, q)
        shutil.copy(run.spec.vocab_path, target / "vocab.txt")
        _write_metadata(target, run, q, {}, "pending")  # node_predict reads it
        proba, sim = node_predict(target, texts)
        f = fidelity(proba, sim if run.references is not None else None, *reference, y)
        tried[q] = {**bundle_sizes(target), "fidelity": f, "acceptable": acceptable(f)}
        print(
            f"{q}: {tried[q]['bytes'] / 2**20:.1f} MiB ({tried[q]['gzip_bytes'] / 2**20:.1f} "
            f"MiB gzip), argmax agreement {f['argmax_agreement']:.4f}, accuracy delta "
            f"{100 * f['accuracy_delta']:+.2f} points",
            file=sys.stderr,
            flush=True,
        )
        if len(candidates) == 1 or tried[q]["acceptable"]:
            return q, tried
    raise TfclsError(
        "no quantization met the fidelity bar (accuracy loss ≤ 0.2 points, argmax "
        f"agreement ≥ 99.5%): {json.dumps(tried)}"
    )


def _write_metadata(
    bundle: Path,
    run: Source,
    quantization: str,
    fidelity_: dict[str, Any],
    version: str,
    **extra: Any,
) -> dict[str, Any]:
    data = runs.read_json(run.dir / "data.json")
    unknown = run.calibration.record.get("unknown") or {}
    meta = {
        "schema_version": SCHEMA_VERSION,
        "version": version,
        "labels": run.labels,
        "threshold": run.calibration.threshold,
        "temperature": run.calibration.temperature,
        "unknown": {
            "score": unknown.get("score"),  # max_softmax (top probability) or nearest
            "threshold": unknown.get("threshold"),
            "known_recall": unknown.get("known_recall"),
        }
        if unknown
        else None,
        "tokenizer": {
            "vocab": "vocab.txt",
            "lower_case": run.spec.lower_case,
            "max_seq_len": run.spec.max_seq_len,
            "inputs": ["input_word_ids", "input_mask"],
            "outputs": ["probabilities", "similarity"],
        },
        "encoder": {"handle": run.config.encoder.handle, "fingerprint": run.encoder.fingerprint},
        "training_data_sha256": data.get("sha256"),
        "run": str(run.dir),
        "metrics": {k: run.metrics.get("test", {}).get(k) for k in ("n", "accuracy", "macro_f1")},
        "quantization": quantization,
        "fidelity": fidelity_,
        "created_at": runs.now(),
        **extra,
    }
    if (bundle / "model.json").is_file():
        meta["size"] = bundle_sizes(bundle)
    runs.write_json(bundle / METADATA, meta)
    return meta
