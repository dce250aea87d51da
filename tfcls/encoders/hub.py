"""Resolve an encoder handle and load it through ``tensorflow_hub``.

A handle is one of:
* a registered name (``all-MiniLM-L6-v2``): built locally on first use, see registry.py;
* a local directory holding a module pair (``preprocessor/`` + ``encoder/``), as built here;
* a TF Hub handle (URL or local SavedModel path) of a BERT-style encoder, which takes
  ``{input_word_ids, input_mask, input_type_ids}`` and needs a ``preprocessor`` handle too;
* a TF Hub handle of a string-input encoder (Universal Sentence Encoder style), which maps
  ``strings[B]`` to ``[B, dim]`` on its own.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tensorflow as tf
import tensorflow_hub as hub

from tfcls.encoders import registry
from tfcls.encoders.registry import EncoderError

BERT, TEXT = "bert", "text"


@dataclass(frozen=True)
class TokenizerSpec:
    """What a client needs to reproduce the encoder's tokenizer (e.g. in JavaScript)."""

    vocab_path: str | None
    lower_case: bool | None  # None: the preprocessor does not say
    max_seq_len: int | None


@dataclass(frozen=True)
class ResolvedHandle:
    """Where hub.load finds an encoder (and its preprocessor, for BERT-style ones)."""

    handle: str
    encoder: str  # path or URL given to hub.load
    preprocessor: str | None
    fingerprint: str | None  # known up front for registered encoders


def _is_url(handle: str) -> bool:
    return "://" in handle


def _looks_like_path(handle: str) -> bool:
    return handle.startswith((".", "/", "~")) or os.sep in handle or Path(handle).exists()


def _dir_fingerprint(*paths: str) -> str:
    """sha256 over the files of SavedModel directories (names and contents)."""
    digest = hashlib.sha256()
    for base in paths:
        root = Path(hub.resolve(base)) if _is_url(base) else Path(base).expanduser()
        for f in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(str(f.relative_to(root)).encode())
            digest.update(registry.sha256_file(f).encode())
    return digest.hexdigest()[:16]


def _kind_of(module: Any, where: str) -> str:
    """Tell a BERT-style encoder (dict of int tensors in) from a string-input one."""
    call = module.__call__ if callable(module) else None
    for fn in getattr(call, "concrete_functions", []) or []:
        args = fn.structured_input_signature[0]
        if not args:
            continue
        first = args[0]
        if isinstance(first, dict) and "input_word_ids" in first:
            return BERT
        if isinstance(first, tf.TensorSpec) and first.dtype == tf.string:
            return TEXT
    raise EncoderError(
        f"{where}: not a usable encoder: its __call__ takes neither strings nor a dict "
        "with input_word_ids/input_mask/input_type_ids (TF2 SavedModel, TF Hub format)"
    )


def resolve(
    handle: str,
    preprocessor: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    build: bool = True,
) -> ResolvedHandle:
    """Turn a handle into paths for hub.load, building a registered encoder if needed."""
    if handle in registry.REGISTRY:
        spec = registry.REGISTRY[handle]
        path = registry.module_dir(spec, cache_dir)
        if not registry.is_built(spec, cache_dir):
            if not build:
                raise EncoderError(
                    f"encoder {spec.name!r} is not built yet in {path.parent}; "
                    f"run `python -m tfcls.encoders build {spec.name}`"
                )
            path = registry.build(spec, cache_dir)
        return ResolvedHandle(
            handle, str(path / "encoder"), str(path / "preprocessor"), spec.fingerprint
        )
    if _is_url(handle):
        return ResolvedHandle(handle, handle, preprocessor, None)
    if not _looks_like_path(handle):
        raise EncoderError(
            f"unknown encoder {handle!r}. Registered encoders: "
            f"{', '.join(registry.registered_names())}; or give a TF Hub handle "
            "(URL or local SavedModel directory)."
        )
    local = Path(handle).expanduser()
    if not local.is_dir():
        raise EncoderError(
            f"{handle}: no such directory (expected a TF Hub SavedModel "
            "or a module pair with preprocessor/ and encoder/)"
        )
    if (local / "encoder").is_dir() and (local / "preprocessor").is_dir():
        return ResolvedHandle(
            handle, str(local / "encoder"), preprocessor or str(local / "preprocessor"), None
        )
    if (local / "saved_model.pb").is_file():
        return ResolvedHandle(handle, str(local), preprocessor, None)
    raise EncoderError(
        f"{handle}: no saved_model.pb here and no preprocessor/ + encoder/ "
        "pair; is this a TF Hub module directory?"
    )


class HubModules:
    """The loaded TF Hub objects of one encoder and a graph-mode embedding function."""

    def __init__(self, resolved: ResolvedHandle) -> None:
        self.resolved = resolved
        self.encoder = hub.load(resolved.encoder)
        self.kind = _kind_of(self.encoder, resolved.handle)
        if self.kind == BERT and resolved.preprocessor is None:
            raise EncoderError(
                f"{resolved.handle} is a BERT-style encoder (it takes input_word_ids); also "
                "give its preprocessor handle (encoder.preprocessor in the config)"
            )
        if self.kind == TEXT and resolved.preprocessor is not None:
            raise EncoderError(
                f"{resolved.handle} takes strings itself; it needs no "
                f"preprocessor, but {resolved.preprocessor!r} was given"
            )
        self.preprocessor = hub.load(resolved.preprocessor) if self.kind == BERT else None
        parts = [resolved.encoder] + ([resolved.preprocessor] if self.kind == BERT else [])
        self.fingerprint = resolved.fingerprint or _dir_fingerprint(*parts)

    def encode_inputs(self, inputs: Any) -> tf.Tensor:
        """Run the encoder on what it takes (strings or BERT inputs); unnormalised [B, dim]."""
        out = self.encoder(inputs)
        if isinstance(out, dict):
            for key in ("default", "pooled_output", "outputs"):
                if key in out:
                    return out[key]
            raise EncoderError(
                f"{self.resolved.handle}: encoder outputs {sorted(out)} have "
                "none of default/pooled_output/outputs"
            )
        return out

    def embed_strings(self, texts: tf.Tensor) -> tf.Tensor:
        """strings[B] -> L2-normalised float32 [B, dim], all in TF (usable in a graph)."""
        inputs = self.preprocessor(texts) if self.preprocessor is not None else texts
        return tf.math.l2_normalize(tf.cast(self.encode_inputs(inputs), tf.float32), axis=-1)

    def tokenizer_spec(self) -> TokenizerSpec | None:
        """Vocabulary and tokenizer settings; None for string-input encoders."""
        if self.preprocessor is None:
            return None
        base = Path(hub.resolve(self.resolved.preprocessor))
        vocab = base / "assets" / "vocab.txt"

        def read(name: str) -> Any:
            var = getattr(self.preprocessor, name, None)
            return var.numpy().item() if isinstance(var, tf.Variable) else None

        lower = read("lower_case")
        max_len = read("max_seq_len")
        return TokenizerSpec(
            str(vocab) if vocab.is_file() else None,
            None if lower is None else bool(lower),
            None if max_len is None else int(max_len),
        )


def describe(modules: HubModules) -> dict[str, Any]:
    """JSON-able facts about a loaded encoder (for `tfcls.encoders info`)."""
    r = modules.resolved
    info: dict[str, Any] = {
        "handle": r.handle,
        "kind": modules.kind,
        "fingerprint": modules.fingerprint,
        "encoder": r.encoder,
        "preprocessor": r.preprocessor,
    }
    build_json = Path(r.encoder).parent / registry.BUILD_INFO
    if build_json.is_file():
        info["build"] = json.loads(build_json.read_text())
    return info
