"""A BERT sentence encoder and its WordPiece preprocessor as TF Hub-format SavedModels.

The modules follow the TF Hub BERT-family convention so that any TF Hub BERT encoder is
a drop-in replacement:

* preprocessor: ``__call__(strings[B]) -> {input_word_ids, input_mask, input_type_ids}``
  (int32 ``[B, T]``, padded to the batch's longest text, at most ``max_seq_len``) and
  ``tokenize(strings[B]) -> int32 RaggedTensor [B, (words), (wordpieces)]``.
* encoder: ``__call__({input_word_ids, input_mask, input_type_ids}) ->
  {pooled_output, default: [B, H], sequence_output: [B, T, H]}``. For sentence-transformer
  weights, ``pooled_output`` is the masked mean of the token vectors, L2-normalised.

Text normalisation replicates the HuggingFace fast BERT tokenizer (``BertNormalizer``):
control/format characters removed, whitespace → space, then (when lower-casing) NFD,
non-spacing marks dropped, lower-cased; words longer than 100 characters become [UNK].
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_text as text

MAX_CHARS_PER_WORD = 100  # HuggingFace WordPiece's max_input_chars_per_word
_ATTENTION_MASK_VALUE = -10000.0  # additive mask; exp() underflows to exactly 0 in float32

# Word splitting (RE2 syntax): HuggingFace's BertPreTokenizer splits on whitespace and
# keeps every punctuation character (ASCII symbol or Unicode P*) and CJK ideograph as a
# word of its own. Whitespace has already been mapped to " " by normalisation.
KEEP_PATTERN = "|".join(
    [
        r"[!-/]",
        r"[:-@]",
        r"[\[-`]",
        r"[{-~]",
        r"\p{P}",
        r"[\x{4E00}-\x{9FFF}]",
        r"[\x{3400}-\x{4DBF}]",
        r"[\x{20000}-\x{2A6DF}]",
        r"[\x{2A700}-\x{2B73F}]",
        r"[\x{2B740}-\x{2B81F}]",
        r"[\x{2B820}-\x{2CEAF}]",
        r"[\x{F900}-\x{FAFF}]",
        r"[\x{2F800}-\x{2FA1F}]",
    ]
)
SPLIT_PATTERN = r" +|" + KEEP_PATTERN


@dataclass(frozen=True)
class BertConfig:
    """Architecture of a BERT encoder (the fields of a HuggingFace ``config.json``)."""

    vocab_size: int = 30522
    hidden_size: int = 384
    num_hidden_layers: int = 6
    num_attention_heads: int = 12
    intermediate_size: int = 1536
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    pooling: str = "mean"  # "mean" (sentence-transformers) or "cls"
    normalize: bool = True  # L2-normalise pooled_output

    def __post_init__(self) -> None:
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"hidden_size {self.hidden_size} is not divisible by "
                f"num_attention_heads {self.num_attention_heads}"
            )
        if self.pooling not in ("mean", "cls"):
            raise ValueError(f"pooling must be 'mean' or 'cls', got {self.pooling!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def weight_shapes(cfg: BertConfig) -> dict[str, tuple[int, ...]]:
    """Name → shape (HuggingFace ``BertModel`` convention, Linear weights [out, in])."""
    h, inner = cfg.hidden_size, cfg.intermediate_size
    shapes: dict[str, tuple[int, ...]] = {
        "embeddings.word_embeddings.weight": (cfg.vocab_size, h),
        "embeddings.position_embeddings.weight": (cfg.max_position_embeddings, h),
        "embeddings.token_type_embeddings.weight": (cfg.type_vocab_size, h),
        "embeddings.LayerNorm.weight": (h,),
        "embeddings.LayerNorm.bias": (h,),
    }
    for i in range(cfg.num_hidden_layers):
        p = f"encoder.layer.{i}."
        for sub, out_dim, in_dim in (
            ("attention.self.query", h, h),
            ("attention.self.key", h, h),
            ("attention.self.value", h, h),
            ("attention.output.dense", h, h),
            ("intermediate.dense", inner, h),
            ("output.dense", h, inner),
        ):
            shapes[f"{p}{sub}.weight"] = (out_dim, in_dim)
            shapes[f"{p}{sub}.bias"] = (out_dim,)
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            shapes[f"{p}{ln}.weight"] = (h,)
            shapes[f"{p}{ln}.bias"] = (h,)
    return shapes


def weight_names(cfg: BertConfig) -> list[str]:
    """Names of every weight the encoder needs, in a fixed order."""
    return list(weight_shapes(cfg))


def random_weights(cfg: BertConfig, seed: int = 0) -> dict[str, np.ndarray]:
    """Random weights with the right shapes: for tiny test encoders, not for real use."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in weight_shapes(cfg).items():
        if name.endswith("LayerNorm.weight"):
            value = np.ones(shape)
        else:
            value = rng.standard_normal(shape) * (0.02 if name.endswith(".bias") else 0.05)
        out[name] = value.astype(np.float32)
    return out


class _SavedRoot(tf.Module):
    """tf.Module whose ``variables``/``trainable_variables`` are plain attributes.

    On tf.Module they are properties, which SavedModel does not serialise; the TF Hub
    reusable-SavedModel convention wants them as attributes on the root object.
    """

    variables = None
    trainable_variables = None


# name → tensor/variable, Linear weights laid out [in, out]. A weight may be stored
# unit-range with a per-channel scale beside it, ``<name>_scale`` (per output column of a
# Linear kernel, per row of an embedding table): the bundle's 8-bit form
# (tfcls.bundle.quantize). The scale is applied after the matmul / lookup, so no
# constant-only product is left for the TF.js converter to fold back into float32.
Weights = Mapping[str, Any]
SCALE = "_scale"


def _dense(w: Weights, x: tf.Tensor, name: str) -> tf.Tensor:
    y = tf.matmul(x, w[name + ".weight"])
    scale = w.get(name + ".weight" + SCALE)
    return (y if scale is None else y * scale) + w[name + ".bias"]


def _lookup(w: Weights, name: str, ids: tf.Tensor) -> tf.Tensor:
    rows = tf.gather(w[name], ids)
    scale = w.get(name + SCALE)
    return rows if scale is None else rows * tf.gather(scale, ids)[..., tf.newaxis]


def _layer_norm(w: Weights, cfg: BertConfig, x: tf.Tensor, name: str) -> tf.Tensor:
    mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
    x = (x - mean) * tf.math.rsqrt(var + cfg.layer_norm_eps)
    return x * w[name + ".weight"] + w[name + ".bias"]


def embed_tokens(w: Weights, cfg: BertConfig, ids: tf.Tensor, types: tf.Tensor) -> tf.Tensor:
    """Token + position + type embeddings, LayerNorm: the input of layer 0 [B, T, H]."""
    seq = tf.shape(ids)[1]
    x = (
        _lookup(w, "embeddings.word_embeddings.weight", ids)
        + w["embeddings.position_embeddings.weight"][tf.newaxis, :seq]
        + _lookup(w, "embeddings.token_type_embeddings.weight", types)
    )
    return _layer_norm(w, cfg, x, "embeddings.LayerNorm")


def attention_bias(mask: tf.Tensor) -> tf.Tensor:
    """Additive attention mask [B, 1, 1, T] from a 0/1 input mask [B, T]."""
    maskf = tf.cast(mask, tf.float32)
    return (1.0 - maskf)[:, tf.newaxis, tf.newaxis, :] * _ATTENTION_MASK_VALUE


def transformer_layer(
    w: Weights, cfg: BertConfig, x: tf.Tensor, bias: tf.Tensor, i: int
) -> tf.Tensor:
    """Transformer layer ``i`` (post-LayerNorm, erf GELU): [B, T, H] → [B, T, H]."""
    p = f"encoder.layer.{i}."
    heads, size = cfg.num_attention_heads, cfg.hidden_size // cfg.num_attention_heads
    batch, seq = tf.shape(x)[0], tf.shape(x)[1]

    def split(t: tf.Tensor) -> tf.Tensor:  # [B, T, H] -> [B, heads, T, size]
        return tf.transpose(tf.reshape(t, [batch, seq, heads, size]), [0, 2, 1, 3])

    q = split(_dense(w, x, p + "attention.self.query"))
    k = split(_dense(w, x, p + "attention.self.key"))
    v = split(_dense(w, x, p + "attention.self.value"))
    scores = tf.matmul(q, k, transpose_b=True) * (1.0 / math.sqrt(size)) + bias
    ctx = tf.matmul(tf.nn.softmax(scores, axis=-1), v)
    ctx = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [batch, seq, cfg.hidden_size])
    x = _layer_norm(
        w, cfg, _dense(w, ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm"
    )
    inner = _dense(w, x, p + "intermediate.dense")
    inner = 0.5 * inner * (1.0 + tf.math.erf(inner * (1.0 / math.sqrt(2.0))))
    return _layer_norm(w, cfg, _dense(w, inner, p + "output.dense") + x, p + "output.LayerNorm")


def pool(cfg: BertConfig, x: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """Sentence vector [B, H] from token vectors: masked mean (or CLS), L2-normalised."""
    if cfg.pooling == "mean":
        maskf = tf.cast(mask, x.dtype)
        summed = tf.reduce_sum(x * maskf[:, :, tf.newaxis], axis=1)
        pooled = summed / tf.maximum(tf.reduce_sum(maskf, axis=1, keepdims=True), 1e-9)
    else:
        pooled = x[:, 0]
    if cfg.normalize:
        pooled = pooled / tf.maximum(tf.norm(pooled, axis=-1, keepdims=True), 1e-12)
    return pooled


class BertEncoderModule(_SavedRoot):
    """BERT encoder (post-LayerNorm, erf GELU) with mean or CLS pooling.

    ``weights`` are in HuggingFace's layout (Linear weights [out, in]) unless
    ``hf_layout`` is false: then they are already [in, out], as ``module_weights`` returns
    them from a saved encoder (for rebuilding an encoder after adaptation).
    """

    def __init__(
        self, weights: dict[str, np.ndarray], cfg: BertConfig, hf_layout: bool = True
    ) -> None:
        super().__init__(name="bert_encoder")
        for name, shape in weight_shapes(cfg).items():
            if name not in weights:
                raise ValueError(f"weights have no tensor {name!r} (expected shape {shape})")
            if not hf_layout and is_linear(name):
                shape = shape[::-1]
            if tuple(weights[name].shape) != shape:
                raise ValueError(
                    f"weight {name!r} has shape {tuple(weights[name].shape)}, "
                    f"the config needs {shape}"
                )
        self._cfg = cfg
        self.config_json = tf.Variable(str(cfg.to_dict()), trainable=False, name="config")
        # HuggingFace Linear weights are [out, in]; store them as [in, out] for x @ W.
        self._w: dict[str, tf.Variable] = {}
        for name in weight_names(cfg):
            value = np.asarray(weights[name], np.float32)
            if hf_layout and is_linear(name):
                value = value.T
            self._w[name] = tf.Variable(value, trainable=True, name=name.replace(".", "/"))
        ordered = [self._w[n] for n in weight_names(cfg)]
        self.variables = ordered
        self.trainable_variables = ordered

    @tf.function(
        input_signature=[
            {
                "input_word_ids": tf.TensorSpec([None, None], tf.int32, name="input_word_ids"),
                "input_mask": tf.TensorSpec([None, None], tf.int32, name="input_mask"),
                "input_type_ids": tf.TensorSpec([None, None], tf.int32, name="input_type_ids"),
            }
        ]
    )
    def __call__(self, inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        return encode(self._w, self._cfg, inputs)


def encode(w: Weights, cfg: BertConfig, inputs: Mapping[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """The whole encoder on ``input_word_ids``/``input_mask``/``input_type_ids``: the
    outputs of a TF Hub BERT encoder (``default`` = ``pooled_output``, ``sequence_output``)."""
    ids, mask, types = inputs["input_word_ids"], inputs["input_mask"], inputs["input_type_ids"]
    x = embed_tokens(w, cfg, ids, types)
    bias = attention_bias(mask)
    for i in range(cfg.num_hidden_layers):
        x = transformer_layer(w, cfg, x, bias, i)
    pooled = pool(cfg, x, mask)
    return {"pooled_output": pooled, "default": pooled, "sequence_output": x}


def is_linear(name: str) -> bool:
    """True for a Linear kernel (stored [in, out]; HuggingFace stores it [out, in])."""
    return name.endswith(".weight") and "embeddings" not in name and "LayerNorm" not in name


def module_config(module: Any) -> BertConfig | None:
    """The BertConfig of a loaded tfcls BERT encoder SavedModel, without copying weights.

    None for any other encoder (a foreign TF Hub module has no ``config_json``).
    """
    config = getattr(module, "config_json", None)
    variables = getattr(module, "variables", None)
    if config is None or variables is None:
        return None
    cfg = BertConfig(**ast.literal_eval(config.numpy().decode("utf-8")))
    return cfg if len(variables) == len(weight_names(cfg)) else None


def module_weights(module: Any) -> tuple[BertConfig, dict[str, np.ndarray]] | None:
    """(config, weights in [in, out] layout) of a loaded tfcls BERT encoder SavedModel;
    None for any other encoder (``module_config``)."""
    cfg = module_config(module)
    if cfg is None:
        return None
    names = weight_names(cfg)
    return cfg, {n: v.numpy() for n, v in zip(names, module.variables, strict=True)}


class BertPreprocessorModule(_SavedRoot):
    """Strings → BERT inputs, matching HuggingFace's fast BertTokenizer."""

    def __init__(
        self, vocab_path: str | Path, lower_case: bool = True, max_seq_len: int = 256
    ) -> None:
        super().__init__(name="bert_preprocessor")
        vocab = Path(vocab_path).read_text(encoding="utf-8").split("\n")
        index = {tok: i for i, tok in enumerate(vocab) if tok}
        for special in ("[CLS]", "[SEP]", "[PAD]", "[UNK]"):
            if special not in index:
                raise ValueError(f"{vocab_path}: vocabulary has no {special} token")
        if max_seq_len < 2:
            raise ValueError(f"max_seq_len must be at least 2, got {max_seq_len}")
        self._lower_case = lower_case
        self._max_seq_len = max_seq_len
        self._cls, self._sep = index["[CLS]"], index["[SEP]"]
        self._pad = index["[PAD]"]
        self.vocab_file = tf.saved_model.Asset(str(vocab_path))
        self.lower_case = tf.Variable(lower_case, trainable=False, name="lower_case")
        self.max_seq_len = tf.Variable(max_seq_len, trainable=False, name="max_seq_len")
        init = tf.lookup.TextFileInitializer(
            self.vocab_file,
            tf.string,
            tf.lookup.TextFileIndex.WHOLE_LINE,
            tf.int64,
            tf.lookup.TextFileIndex.LINE_NUMBER,
        )
        self._table = tf.lookup.StaticHashTable(init, default_value=-1)
        # Words over MAX_CHARS_PER_WORD are replaced by "[UNK]" before WordPiece, so its
        # byte limit only has to admit 100 four-byte characters.
        self._wordpiece = text.WordpieceTokenizer(
            self._table,
            token_out_type=tf.int64,
            unknown_token="[UNK]",
            max_bytes_per_word=4 * MAX_CHARS_PER_WORD + 8,
        )
        self.variables = [self.lower_case, self.max_seq_len]
        self.trainable_variables = []

    def _normalize(self, texts: tf.Tensor) -> tf.Tensor:
        # HF's clean_text: NUL, U+FFFD and control/format characters (category C*, which
        # includes \x0b, \x0c and \x85) are removed; \t \n \r and Z* become spaces.
        t = tf.strings.regex_replace(texts, r"[\t\n\r\p{Z}]", " ")
        t = tf.strings.regex_replace(t, r"[\p{C}\x{FFFD}]", "")
        if self._lower_case:
            t = text.normalize_utf8(t, "NFD")
            t = tf.strings.regex_replace(t, r"\p{Mn}", "")
            # ICU lower-cases a word-final capital sigma to "ς"; HuggingFace maps every
            # "Σ" to "σ" character by character.
            t = tf.strings.regex_replace(t, "Σ", "σ")
            # tf.strings.lower follows ICU's default locale (from LANG/LC_ALL): under a
            # Turkic one "I" would become dotless "ı". HuggingFace (and JS) lower-case
            # without a locale, so "I" is mapped first.
            t = tf.strings.regex_replace(t, "I", "i")
            t = tf.strings.lower(t, encoding="utf-8")
        return t

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    def tokenize(self, texts: tf.Tensor) -> tf.RaggedTensor:
        """Wordpiece ids, int32 RaggedTensor [batch, (words), (wordpieces)]."""
        words = text.regex_split(self._normalize(texts), SPLIT_PATTERN, KEEP_PATTERN)
        too_long = tf.strings.length(words.flat_values, unit="UTF8_CHAR") > MAX_CHARS_PER_WORD
        words = words.with_flat_values(tf.where(too_long, "[UNK]", words.flat_values))
        pieces = self._wordpiece.tokenize(words)
        return tf.cast(pieces, tf.int32)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    def __call__(self, texts: tf.Tensor) -> dict[str, tf.Tensor]:
        tokens = self.tokenize(texts).merge_dims(1, 2)[:, : self._max_seq_len - 2]
        batch = tokens.nrows()
        cls = tf.fill([batch, 1], tf.constant(self._cls, tf.int32))
        sep = tf.fill([batch, 1], tf.constant(self._sep, tf.int32))
        ids = tf.concat([cls, tokens, sep], axis=1)
        return {
            "input_word_ids": ids.to_tensor(default_value=self._pad),
            "input_mask": tf.ones_like(ids).to_tensor(default_value=0),
            "input_type_ids": tf.zeros_like(ids).to_tensor(default_value=0),
        }


def save_module(module: tf.Module, path: str | Path) -> None:
    """Save a module as a SavedModel (TF Hub format: hub.load() reads it back)."""
    tf.saved_model.save(module, str(path))
