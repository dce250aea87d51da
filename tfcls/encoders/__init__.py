"""Sentence encoders in TF Hub format: build, load, embed (with an on-disk cache).

    from tfcls.encoders import load_encoder
    enc = load_encoder()                    # all-MiniLM-L6-v2, built on first use
    vectors = enc.embed(["Fix login redirect bug"])   # float32 [1, 384], L2-normalised

Names are imported lazily, so ``python -m tfcls.encoders`` can set TensorFlow up
(quietly) before TensorFlow is first imported.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SentenceEncoder": "tfcls.encoders.encoder",
    "load_encoder": "tfcls.encoders.encoder",
    "load_encoder_from": "tfcls.encoders.encoder",
    "TokenizerSpec": "tfcls.encoders.hub",
    "REGISTRY": "tfcls.encoders.registry",
    "ChecksumError": "tfcls.encoders.registry",
    "EncoderError": "tfcls.encoders.registry",
    "EncoderSpec": "tfcls.encoders.registry",
    "cache_root": "tfcls.encoders.registry",
    "registered_names": "tfcls.encoders.registry",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'tfcls.encoders' has no attribute {name!r}")
