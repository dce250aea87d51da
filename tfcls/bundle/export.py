"""``python -m tfcls.export --run RUN_DIR [--out exported] [--quantize ...]``: the TF.js bundle.

TF.js cannot run tensorflow_text's tokenizer ops, so the bundle holds the numeric graph
``input_word_ids, input_mask (int32 [batch, seq]) → probabilities (calibrated, [batch,
n_labels]), similarity ([batch], to the nearest training text; 0 unless the run detects
unknown texts that way)`` and the browser tokenizes
in JavaScript (``web/sdk/tokenizer.js``) with the bundled ``vocab.txt``. Layout of
``exported/<version>/``: ``model.json`` + weight shards, ``vocab.txt``, ``metadata.json``
and the precompressed copies (:mod:`tfcls.bundle.compress`). Nothing else: the server
runs the same files in Python (:mod:`tfcls.bundle.runtime`), so a version on disk is its
download plus its compressed copies.

Fidelity is measured, not assumed: each converted bundle is run in Node through
``web/sdk/tfcls.js`` (tokenizer included) on the held-out texts and on a second, larger
text set (``export.check_texts``); the chosen one is also run in Python the way the
server runs it. ``metadata.json`` records the largest probability difference, argmax
agreement and accuracy change. ``--quantize auto`` picks the smallest bundle whose
accuracy changes by ≤ 0.2 points with ≥ 99.5% argmax agreement on both text sets.

Publishing is atomic: the bundle is built in a temporary folder, renamed to its version
(time + content hash; never overwritten), and only then is ``exported/current.json``
replaced (write + fsync + rename). A crash at any point leaves the current bundle served.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfcls import console
from tfcls.bundle.compress import download_files, encode, precompress
from tfcls.bundle.fidelity import TextSet, acceptable, node_measure
from tfcls.bundle.metadata import BundleMetadata, BundleSize
from tfcls.bundle.quantize import EMBEDDINGS, per_channel_encoder, requantize
from tfcls.bundle.registry import METADATA, Registry
from tfcls.bundle.source import Source
from tfcls.config import QUANTIZATIONS
from tfcls.errors import TfclsError
from tfcls.progress import log
from tfcls.training import runs

SCHEMA_VERSION = 1
# bits per unit-range matrix of each per-channel quantization (8 where not named)
PER_CHANNEL_BITS: dict[str, dict[str, int]] = {
    "int8e6": {name: 6 for name in EMBEDDINGS},
    "int8": {},
}
# converter flags of each quantization (config.QUANTIZATIONS: smallest first)
CONVERTER_FLAGS: dict[str, list[str]] = {
    # per-channel 8-bit (tfcls.bundle.quantize): float32 from the converter, then requantize;
    # int8e6 puts the word-embedding table on 6-bit levels (8-bit storage, ~6 on the wire)
    "int8e6": [],
    "int8": [],
    "uint8": ["--quantize_uint8=*"],
    "float16": ["--quantize_float16=*"],
    "none": [],
}


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export` returns: where the new bundle is and its metadata.

    ``to_dict()`` is metadata.json's content plus ``path`` (what ``export`` returned
    before it was typed)."""

    path: Path
    metadata: BundleMetadata
    published: bool

    @property
    def version(self) -> str:
        return self.metadata.version

    @property
    def quantization(self) -> str | None:
        return self.metadata.quantization

    @property
    def size(self) -> BundleSize:
        """Bytes of what a browser downloads (every export records them)."""
        return self.metadata.require_size()

    @property
    def fidelity(self) -> Mapping[str, Any]:
        """``node_tfjs`` (validation split), ``node_tfjs_check`` (the check set),
        ``node_tfjs_test`` (recorded only), ``python_bundle`` (the server's run of the
        bundle), ``quantizations_tried`` and ``texts``."""
        return self.metadata.fidelity

    def to_dict(self) -> dict[str, Any]:
        return {**self.metadata.record, "path": str(self.path)}


def _convert(numeric_dir: Path, target: Path, quantization: str) -> None:
    """``tensorflowjs_converter`` run in this process (TensorFlow is already loaded, so this
    saves a second interpreter's start-up per conversion); its chatter is captured."""
    chatter = io.StringIO()
    # TF-DF (imported by tensorflowjs) greets on import, via IPython when stdout is captured
    os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")
    try:
        with (
            contextlib.redirect_stdout(chatter),
            contextlib.redirect_stderr(chatter),
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
        detail = chatter.getvalue() + "\n".join(native)
        raise TfclsError(f"tensorflowjs_converter failed: {err}\n{detail[-3000:]}") from err


def bundle_sizes(bundle: Path) -> dict[str, int]:
    """Bytes and gzip bytes of what a browser downloads (model.json, shards, vocab), for
    comparing candidates; the published bundle records its precompressed sizes."""
    files = download_files(bundle)
    raw = sum(f.stat().st_size for f in files)
    gz = sum(len(encode(f.read_bytes(), "gzip")) for f in files)
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
    check_texts: str | Path | list[str] | None = None,
    check_n: int = 2000,
) -> ExportResult:
    """Export a run; return the new bundle's path and metadata.

    Fidelity is measured on ``texts`` (default: the run's validation split) and on a
    second, larger set (:meth:`Source.check_texts`), the test split only recorded;
    ``quantize`` ``auto`` keeps the smallest quantization that meets the bar on both;
    ``publish`` makes the new version current (:class:`Registry`)."""
    if quantize != "auto" and quantize not in QUANTIZATIONS:
        raise TfclsError(f"--quantize must be auto or one of {', '.join(QUANTIZATIONS)}")
    run = Source(Path(run_dir))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _clean_stale_temp(out)
    source = "val split" if texts is None else "given texts"
    if texts is None:
        texts, labels_y = run.validation_texts()
    held_out = run.text_set(source, texts, np.asarray(labels_y))
    test = run.test_set() if source == "val split" else None
    sets = [held_out, run.check_texts(check_texts, check_n), *([test] if test else [])]
    t0 = time.perf_counter()
    build = Path(tempfile.mkdtemp(prefix=f".build-{os.getpid()}-", dir=out))
    try:
        log(f"export: saving the numeric model of {run_dir}")
        numeric_dir, unit_range = _numeric_model(run, build)
        tries = candidates(quantize, unit_range is not None, run.predictor.config.encoder.handle)
        chosen, tried, node_proba = _convert_and_measure(
            run, (numeric_dir, unit_range), build, tries, sets
        )
        bundle = build / f"tfjs-{chosen}"
        log(f"export: {chosen} chosen; running it in Python as the server does")
        fidelity_ = _fidelity_record(run, bundle, held_out, node_proba, tried, chosen, source)
        size = precompress(bundle)
        version = version_name(bundle)
        seconds = round(time.perf_counter() - t0, 1)
        meta = _write_metadata(bundle, run, chosen, fidelity_, version, seconds=seconds, size=size)
        final = out / version
        if final.exists():
            raise TfclsError(f"{final}: exists; exported versions are never overwritten")
        os.rename(bundle, final)
        if publish:
            Registry(out).set_current(version)
        return ExportResult(
            final, BundleMetadata.from_record(meta, final / METADATA), published=publish
        )
    finally:
        shutil.rmtree(build, ignore_errors=True)


def _fidelity_record(
    run: Source,
    bundle: Path,
    held_out: TextSet,
    node_proba: np.ndarray,
    tried: dict[str, Any],
    chosen: str,
    source: str,
) -> dict[str, Any]:
    """metadata.json's ``fidelity``: the chosen bundle in Python (as the server runs it)
    and in Node on each text set, and every quantization tried."""
    return {
        "python_bundle": _python_fidelity(run, bundle, held_out, node_proba),
        "node_tfjs": tried[chosen]["fidelity"],
        "node_tfjs_check": tried[chosen]["check"],
        "node_tfjs_test": tried[chosen].get("test"),
        "quantizations_tried": tried,
        "texts": source,
    }


def _python_fidelity(
    run: Source, bundle: Path, held_out: TextSet, node_proba: np.ndarray
) -> dict[str, Any]:
    """The bundle run in Python (:class:`BundleModel`, what the server predicts with)
    against the Keras reference, and its largest difference from Node's outputs."""
    from tfcls.bundle.runtime import BundleModel

    proba, sim = BundleModel(bundle).predict(held_out.texts)
    similarity = sim if run.predictor.references is not None else None
    f = held_out.measure(proba, similarity)
    f["max_probability_diff_vs_node"] = float(np.abs(proba - node_proba).max())
    return f


def _numeric_model(run: Source, build: Path) -> tuple[Path, dict[str, np.ndarray] | None]:
    """The numeric SavedModel (what TF.js converts) and the unit-range matrices an
    ``int8`` bundle stores in 8 bits (None: the encoder is not a tfcls BERT, so no
    ``int8``)."""
    encoder = run.predictor.encoder.modules.encoder
    per_channel = per_channel_encoder(encoder)
    numeric = run.numeric_model(per_channel or encoder)
    numeric_dir = build / "numeric"
    tf.saved_model.save(numeric, str(numeric_dir), signatures={"serving_default": numeric.__call__})
    return numeric_dir, None if per_channel is None else per_channel.unit_range_matrices()


def candidates(quantize: str, per_channel: bool, handle: str = "the encoder") -> list[str]:
    """The quantizations ``quantize`` tries, smallest first. ``auto`` skips per-tensor
    ``uint8`` (the size of ``int8``, never closer to float32), and ``int8`` unless the
    encoder (``handle``) is a tfcls BERT (``per_channel``)."""
    if quantize in PER_CHANNEL_BITS and not per_channel:
        raise TfclsError(
            f"{handle}: --quantize {quantize} lays out per-channel scales from a tfcls BERT "
            "encoder's weights; this encoder is not one"
        )
    if quantize != "auto":
        return [quantize]
    return [q for q in QUANTIZATIONS if q != "uint8" and (q not in PER_CHANNEL_BITS or per_channel)]


def _convert_and_measure(
    run: Source,
    numeric: tuple[Path, dict[str, np.ndarray] | None],
    build: Path,
    tries: list[str],
    sets: list[TextSet],
) -> tuple[str, dict[str, Any], np.ndarray]:
    """Convert with each quantization in turn, measure it in Node on ``sets`` (the
    held-out set and the check set decide; a third, the test split, is only recorded),
    stop at the first acceptable on both (or the only one asked for): (chosen, what each
    one tried gave, Node's probabilities on the held-out texts)."""
    tried: dict[str, Any] = {}
    similarity = run.predictor.references is not None
    for i, q in enumerate(tries, 1):
        target = build / f"tfjs-{q}"
        step = f"export: candidate {i}/{len(tries)} {q}"
        log(f"{step}: converting to TF.js")
        _convert(numeric[0], target, q)
        if q in PER_CHANNEL_BITS and numeric[1] is not None:
            requantize(target, numeric[1], PER_CHANNEL_BITS[q])
        shutil.copy(run.spec.vocab_path, target / "vocab.txt")
        _write_metadata(target, run, q, {}, "pending")  # node_predict reads it
        (f, held_out_proba), (check, _), *test = node_measure(
            target, sets, similarity, f"{step} in Node"
        )
        ok = acceptable(f) and acceptable(check)
        tried[q] = {**bundle_sizes(target), "fidelity": f, "check": check, "acceptable": ok}
        if test:
            tried[q]["test"] = test[0][0]  # recorded, never deciding
        log(
            f"{step}: {tried[q]['bytes'] / 2**20:.1f} MiB ({tried[q]['gzip_bytes'] / 2**20:.1f}"
            f" MiB gzip), agreement {f['agreement']:.4f} on {f['n']} {f['texts']} texts, "
            f"{check['agreement']:.4f} on {check['n']} check texts, accuracy delta "
            f"{100 * f['accuracy_delta']:+.2f} points" + ("" if ok else ", not acceptable")
        )
        if len(tries) == 1 or ok:
            return q, tried, held_out_proba
    raise TfclsError(
        "no quantization met the fidelity bar (accuracy loss ≤ 0.2 points, agreement "
        f"≥ 99.5% on both text sets): {json.dumps(tried)}"
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
    p, test = run.predictor, run.metrics.get("test", {})
    meta = {
        "schema_version": SCHEMA_VERSION,
        "version": version,
        "labels": p.labels,
        **run.decision_metadata(),
        "tokenizer": {
            "vocab": "vocab.txt",
            "lower_case": run.spec.lower_case,
            "max_seq_len": run.spec.max_seq_len,
            "inputs": ["input_word_ids", "input_mask"],
            "outputs": ["probabilities", "similarity"],
        },
        "encoder": {"handle": p.config.encoder.handle, "fingerprint": p.encoder.fingerprint},
        "training_data_sha256": data.get("sha256"),
        "run": str(run.dir),
        "metrics": {k: test.get(k) for k in ("n", "accuracy", "macro_f1", "micro_f1")},
        "quantization": quantization,
        "fidelity": fidelity_,
        "created_at": runs.now(),
        **extra,
    }
    if "size" not in meta and (bundle / "model.json").is_file():
        meta["size"] = bundle_sizes(bundle)
    runs.write_json(bundle / METADATA, meta)
    return meta
