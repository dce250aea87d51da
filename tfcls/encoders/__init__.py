"""Sentence encoders in TF Hub format: build, load, embed (with an on-disk cache).

from tfcls.encoders import load_encoder
enc = load_encoder()                    # all-MiniLM-L6-v2, built on first use
vectors = enc.embed(["Fix login redirect bug"])   # float32 [1, 384], L2-normalised
"""

from tfcls.encoders.encoder import SentenceEncoder, load_encoder
from tfcls.encoders.hub import TokenizerSpec
from tfcls.encoders.registry import (
    REGISTRY,
    ChecksumError,
    EncoderError,
    EncoderSpec,
    cache_root,
    registered_names,
)

__all__ = [
    "REGISTRY",
    "ChecksumError",
    "EncoderError",
    "EncoderSpec",
    "SentenceEncoder",
    "TokenizerSpec",
    "cache_root",
    "load_encoder",
    "registered_names",
]
