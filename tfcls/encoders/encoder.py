"""``SentenceEncoder``: texts → L2-normalised embeddings, cached and length-bucketed."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from tfcls.encoders import registry
from tfcls.encoders.cache import CacheStats, EmbeddingCache
from tfcls.encoders.hub import BERT, HubModules, TokenizerSpec, resolve
from tfcls.progress import Progress

if TYPE_CHECKING:
    from tfcls.config import EncoderConfig
    from tfcls.encoders.keras_layer import SentenceEncoderLayer

_TOKENIZE_CHUNK = 2048  # texts tokenized per preprocessor call


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("embed() takes a list of texts, not a single string")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise TypeError(f"texts[{i}] is {type(t).__name__}, expected str")
        try:
            t.encode("utf-8")
        except UnicodeEncodeError as err:
            raise ValueError(
                f"texts[{i}] is not valid Unicode ({err.reason} at "
                f"position {err.start}); clean the input text"
            ) from err
    return out


def _l2_normalize(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


class SentenceEncoder:
    """A loaded encoder. Use :func:`load_encoder` to make one."""

    def __init__(
        self,
        modules: HubModules,
        preprocessor: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        use_cache: bool = True,
    ) -> None:
        self.modules = modules
        self.handle = modules.resolved.handle
        self.preprocessor_handle = preprocessor
        self.fingerprint = modules.fingerprint
        self.kind = modules.kind
        self.tokenizer_spec: TokenizerSpec | None = modules.tokenizer_spec()
        self.dim = int(modules.embed_strings(tf.constant([""])).shape[-1])
        self.cache = (
            EmbeddingCache(registry.cache_root(cache_dir), self.fingerprint, self.dim)
            if use_cache
            else None
        )

    @property
    def cache_stats(self) -> CacheStats:
        """Hit/miss counters of the embedding cache (zeros when caching is off)."""
        return self.cache.stats if self.cache is not None else CacheStats()

    def __repr__(self) -> str:
        return (
            f"SentenceEncoder(handle={self.handle!r}, kind={self.kind!r}, dim={self.dim}, "
            f"fingerprint={self.fingerprint!r})"
        )

    def embed(
        self, texts: Sequence[str], batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        """Embed texts: float32 [n, dim], rows L2-normalised, in input order.

        Cached texts are read from disk; only unseen ones go through the encoder.
        """
        texts = _check_texts(texts)
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        out = np.zeros((len(texts), self.dim), np.float32)
        if not texts:
            return out
        found = self.cache.lookup(texts) if self.cache is not None else {}
        todo = [t for t in dict.fromkeys(texts) if t not in found]
        if todo:
            fresh = self._embed_uncached(todo, batch_size, progress)
            if self.cache is not None:
                self.cache.store(todo, fresh)
            found.update(zip(todo, fresh, strict=True))
        for i, t in enumerate(texts):
            out[i] = found[t]
        return out

    def _embed_uncached(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        result = np.zeros((len(texts), self.dim), np.float32)
        bar = Progress(f"embedding ({self.handle})", len(texts), "texts", enabled=progress)
        for start in range(0, len(texts), _TOKENIZE_CHUNK):
            chunk = texts[start : start + _TOKENIZE_CHUNK]
            if self.kind == BERT:
                vectors = self._embed_bert(chunk, batch_size, bar)
            else:
                vectors = self._embed_text(chunk, batch_size, bar)
            result[start : start + len(chunk)] = vectors
        bar.close()
        return _l2_normalize(result)

    def _embed_bert(self, texts: list[str], batch_size: int, bar: Progress) -> np.ndarray:
        """Tokenize once, sort by length, run batches padded to their own longest text."""
        inputs = {k: v.numpy() for k, v in self.modules.preprocessor(tf.constant(texts)).items()}
        lengths = inputs["input_mask"].sum(axis=1)
        order = np.argsort(lengths, kind="stable")
        out = np.zeros((len(texts), self.dim), np.float32)
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            width = max(int(lengths[idx].max()), 1)
            feed = {k: tf.constant(v[idx, :width]) for k, v in inputs.items()}
            out[idx] = self.modules.encode_inputs(feed).numpy()
            bar.update(len(idx))
        return out

    def _embed_text(self, texts: list[str], batch_size: int, bar: Progress) -> np.ndarray:
        """String-input encoders: batches of similar character length."""
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self.dim), np.float32)
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            batch = tf.constant([texts[i] for i in idx])
            out[idx] = self.modules.encode_inputs(batch).numpy()
            bar.update(len(idx))
        return out

    def keras_layer(self, **kwargs) -> SentenceEncoderLayer:
        """A frozen Keras 3 layer (strings → embeddings) sharing these loaded modules."""
        from tfcls.encoders.keras_layer import SentenceEncoderLayer

        return SentenceEncoderLayer(
            self.handle, self.preprocessor_handle, _modules=self.modules, **kwargs
        )


def load_encoder(
    handle: str = "all-MiniLM-L6-v2",
    preprocessor: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
) -> SentenceEncoder:
    """Load (building on first use) an encoder by registered name or TF Hub handle.

    ``preprocessor`` is the TF Hub handle of the text preprocessor a BERT-style encoder
    needs; registered encoders and module-pair directories bring their own.
    ``cache_dir`` overrides ``$TFCLS_CACHE``; ``use_cache=False`` disables the
    on-disk embedding cache.
    """
    modules = HubModules(resolve(handle, preprocessor, cache_dir))
    return SentenceEncoder(modules, preprocessor, cache_dir=cache_dir, use_cache=use_cache)


def load_encoder_from(cfg: EncoderConfig) -> SentenceEncoder:
    """The encoder an ``encoder`` config section names, with its cache settings."""
    return load_encoder(
        cfg.handle, cfg.preprocessor, cache_dir=cfg.cache_dir, use_cache=cfg.embedding_cache
    )
