"""Regenerate the fixtures that prove the browser's tokenizer and text cleaning match Python.

Writes, next to this file:
  web_tokenizer_fixture.json  token ids of ≥ 2,000 strings from the Python preprocessor
                              (``BertPreprocessorModule`` of all-MiniLM-L6-v2), for
                              web/sdk/test/tokenizer.test.js
  web_text_fixture.json       ≥ 500 cases of ``tfcls.data.text.clean_text`` and
                              ``join_title_description``, for web/sdk/test/text.test.js

Rerun from the repository root (no network; the encoder is built into $TFCLS_CACHE, default
``.cache/tfcls`` as in the Makefile, on first use):

    .venv/bin/python tests/data/make_web_fixtures.py

Everything is deterministic (fixed seed, sorted inputs), so a rerun with the same datasets,
vocabulary and TensorFlow versions reproduces both files byte for byte.

web_tokenizer_fixture.json:
  vocab        the spec's package module, file and sha256: the JS test finds vocab.txt from
               these (or $TFCLS_VOCAB) and checks the sha256
  cases        {"text", "ids"}: ``preprocessor(texts)["input_word_ids"]`` of the loaded encoder
               (max_seq_len 256: [CLS] pieces [SEP], padding removed); entries whose pieces
               were truncated also carry the untruncated ``tokenize(texts)`` pieces as "pieces"
  truncation   {"text", "ids"} from a BertPreprocessorModule built with max_seq_len =
               truncation_max_seq_len (16): lengths around the 14-piece boundary
  batch        one padded batch: texts, input_word_ids, input_mask exactly as Python returns
web_text_fixture.json:
  clean        {"text", "clean"}; join: {"title", "description" (string or null), "joined"}

The preprocessor lower-cases the same in every locale (see tfcls/encoders/bert.py).

Strings: samples of ../shared/datasets/{banking77,hwu64}/train.jsonl, the titles and
descriptions of data/training_data.json, the texts of minilm_tokens.jsonl, and generated edge
cases (accents, final sigma, CJK, Hangul, Arabic, Thai, emoji and other astral characters,
combining marks, zero-width/control/format characters, U+FFFD, every kind of whitespace,
punctuation runs, words of 99–101 code points, markup, entities, markdown).

Characters whose properties differ between Unicode versions are left out of the generated
strings (see VERSION_SENSITIVE in tests/test_web_tokenizer.py): the fixtures pin
behaviour both sides agree on.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SEED = 20261123
TRUNCATION_LEN = 16


def _version_sensitive() -> frozenset[str]:
    """VERSION_SENSITIVE of tests/test_web_tokenizer.py, which documents it: characters whose
    properties differ between TensorFlow's Unicode tables and the JavaScript engine's."""
    spec = importlib.util.spec_from_file_location(
        "_test_web_tokenizer", HERE.parent / "test_web_tokenizer.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.VERSION_SENSITIVE


_VERSION_SENSITIVE = _version_sensitive()


def _safe(ch: str) -> bool:
    """A character both sides treat alike: assigned in Unicode 14.0 (Python 3.11's
    unicodedata) and not version-sensitive, or one of UNASSIGNED."""
    return ch not in _VERSION_SENSITIVE and (unicodedata.category(ch) != "Cn" or ch in UNASSIGNED)


# Unassigned (Cn) in every Unicode version up to 17.0: both sides keep them (RE2's \p{C} has no Cn).
UNASSIGNED = "\u0378\u0379\u05ff\ufffe\uffff\U000e0080\U0010ffff\U0001fffe"

WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# Not whitespace for Python, but (some) are for JavaScript's \s or look like spaces.
NEAR_SPACE = "\ufeff\u180e\u200b\u200c\u200d\u2060\u00ad\u034f\u061c\u2061\u2062\u2063\u2064"
CONTROLS = "".join(chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)])
FORMAT = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\U000e0001\U000e0041"
PRIVATE = "\ue000\uf8ff\U000f0000\U0010fffd"

POOLS: dict[str, str | list[str]] = {
    "ascii": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "digits": "0123456789",
    "ascii_punct": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "unicode_punct": "¡¿«»“”‘’—–…•·‹›§¶†‡‐‑‒―‖‗‚„‰′″‵⁂⁅⁆、。〈〉《》「」『』【】〔〕"
    "！＂＃％＆（）＊，．／：；？＠［＼］＿｛｝",
    "symbols": "©®™°€£¥¢±×÷√∞≈≠≤≥∑∏∫µ½¼¾²³¹$+<=>^`|~¦¨¯´¸¬",
    "latin": "éèêëáàâäãåçñóòôöõúùûüíìîïýÿæœøðþßÉÈÊËÁÀÂÄÃÅÇÑÓÒÔÖÕÚÙÛÜÍÌÎÏÝŸÆŒØ"
    "ĀāĂăĄąĆćČčĎďĐđĒēĘęĚěĞğĦħİıĲĳŁłŃńŇňŐőŒœŘřŚśŠšŤťŮůŰűŸŹźŻżŽžǅǈǋǲ",
    "greek": "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩαβγδεζηθικλμνξοπρσςτυφχψωάέήίόύώΆΈΉΊΌΎΏϊϋΐΰϐϑϕϖϰϱϲϴϵ",
    "cyrillic": "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюяЇїІіЄєҐґ",
    "cjk": "修复登录页面的重定向错误设计会议计划研究中文字符測試資料㐀㐁䶵丂丏龥豈更車",
    # U+20000, U+2A6D6, U+2A700, U+2B740, U+2B820, U+2F800, U+2FA1D, U+30000
    "cjk_astral": list(
        "\U00020000\U0002a6d6\U0002a700\U0002b740\U0002b820\U0002f800\U0002fa1d\U00030000"
    ),
    "kana": "ログインのバグを直すひらがなカタカナァィゥェォッャュョヮヵヶーｱｲｳｴｵ",
    "hangul": "로그인버그수정한국어가각간갇갈감갑강개객"
    "ㄱㄴㄷㄹㅁㅂㅅㅇㅈㅊㅋㅌㅍㅎ\u1100까\u1162\u11a8\u11a9",  # with conjoining jamo
    "arabic": "مرحبابالعالمشكراًجزيلاًكتابٌقَلَمٌ٠١٢٣٤٥٦٧٨٩؟،؛ـ",
    "hebrew": "שלוםעולםבְּרֵאשִׁית",
    "thai": "สวัสดีครับภาษาไทยน้ำใจกิ่งไม้ๆฯ๏",
    "indic": "नमस्तेदुनियाहिन्दीக்ஷணினிবাংলাગુજરાતીਪੰਜਾਬੀ",
    "emoji": [
        *["🚀", "🔥", "👍🏽", "🇫🇷", "😀", "🎉", "✅", "🤔", "☕", "🫠", "🪐"],
        *["\u2764\ufe0f", "\u00a9\ufe0f", "#\ufe0f\u20e3", "1\ufe0f\u20e3"],  # emoji presentation
        "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",  # ZWJ family
        "\U0001f9d1\U0001f3ff\u200d\U0001f4bb",  # ZWJ + skin tone
        "\U0001f3f3\ufe0f\u200d\U0001f308",  # rainbow flag
        *["\U0001f9d1", "\U0001d400", "\U0001d7ce"],
    ],
    "compat": "ﬁﬂﬀﬃｆｕｌＡＢＣ１２３ⅠⅡⅢ①②③㎏℃ℌℍℕ№™㈱㍻ﾊﾟ",
    "combining": list(
        "\u0300\u0301\u0302\u0303\u0308\u0323\u0327\u0345\u0361\u20dd\u20e3\ufe0f\ufe00"
        "\u0e31\u093f\u0488\u1ab0\U0001d165\U0001d16d\U000e0100\u302a\u3099\u309a"
    ),
    "sigma": ["Σ", "ΣΣ", "ΟΔΟΣ", "σ", "ς", "ΣΑ", "Σ.", "aΣ", "Σ1"],
    "special_case": ["İ", "ı", "ß", "ẞ", "ǅ", "Ω", "K", "Å", "ŉ", "ΐ", "ǰ", "ȷ", "ᾳ", "ᾼ", "ﬅ"],
    "whitespace": WHITESPACE,
    "near_space": NEAR_SPACE,
    "controls": CONTROLS,
    "format": FORMAT,
    "private": PRIVATE,
    "unassigned": UNASSIGNED,
    "replacement": "\ufffd",
}


def _pool(name: str) -> list[str]:
    p = POOLS[name]
    return list(p) if isinstance(p, str) else p


def _sample_lines(path: Path, k: int, rng: random.Random) -> list[str]:
    texts = [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]
    return [texts[i] for i in sorted(rng.sample(range(len(texts)), k))]


def dataset_texts(rng: random.Random) -> list[str]:
    datasets = ROOT.parent / "shared" / "datasets"
    return _sample_lines(datasets / "banking77" / "train.jsonl", 700, rng) + _sample_lines(
        datasets / "hwu64" / "train.jsonl", 700, rng
    )


def training_samples() -> list[dict]:
    return json.loads((ROOT / "data" / "training_data.json").read_text(encoding="utf-8"))["samples"]


def golden_texts() -> list[str]:
    lines = (HERE / "minilm_tokens.jsonl").read_text(encoding="utf-8").splitlines()[1:]
    return [json.loads(line)["text"] for line in lines]


TOKENIZER_EDGE_CASES = [
    "",
    " ",
    "   ",
    WHITESPACE,
    *WHITESPACE,
    *NEAR_SPACE,
    " a ",
    "\u3000x\u3000",
    "a\u2028b\u2029c\x85d\x1ce",
    CONTROLS,
    "a" + CONTROLS + "b",
    "x\ufffdy",
    "\ufffd",
    "x" + FORMAT + "y",
    "a\u200bb\u200cc\u200dd\ufeffe\u2060f",
    "x" + PRIVATE + "y",
    "x" + UNASSIGNED + "y",
    *UNASSIGNED,
    "café résumé naïve façade",
    "CAFÉ RÉSUMÉ NAÏVE FAÇADE",
    "cafe\u0301 re\u0301sume\u0301",
    "e\u0301" * 60,
    "e\u0301" * 101,
    "é" * 100,
    "é" * 101,
    "a" * 99,
    "a" * 100,
    "a" * 101,
    "A" * 100,
    "b" * 100 + " " + "c" * 101,
    "x" * 100 + "!" + "y" * 100,
    "🚀" * 100,
    "🚀" * 101,
    "🚀" * 50 + "a" * 50,
    "\U00020000" * 120,
    "a" * 99 + "\U0001d400",
    "a" * 100 + "\U0001d400",
    "supercalifragilisticexpialidocious" * 3,
    "pneumonoultramicroscopicsilicovolcanoconiosis",
    "ΟΔΟΣ ΣΙΣΥΦΟΣ",
    "Σ",
    "ΣΣΣ",
    "ΑΣ. ΣΑ ΑΣΑ aΣ Σ1 ς σ",
    "Ελληνικά: Καλημέρα κόσμε, ΤΕΛΟΣ.",
    "İstanbul ıı ß ẞ ǅ ǈ ŉ ΐ ǰ",
    "ÅNGSTRÖM ÇA VA? ÉCOLE",
    "Straße STRASSE straße",
    "修复登录页面的重定向错误",
    "中文,English混合123",
    "㐀㐁 \U00020000\U0002a6d6 豈更 \U0002f800",
    "ログインのバグを直す",
    "ｶﾀｶﾅ ﾊﾟﾋﾟ ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３",
    "로그인 버그 수정",
    "한국어 텍스트, 그리고 English!",
    "각 ㄱㅏㄱ 각",
    "مرحبا بالعالم",
    "كِتَابٌ قَلَمٌ مُحَمَّد",
    "שָׁלוֹם עוֹלָם",
    "สวัสดีครับ ภาษาไทย น้ำ",
    "नमस्ते दुनिया हिन्दी",
    "தமிழ் বাংলা ગુજરાતી ਪੰਜਾਬੀ",
    "Привет, как дела? ЁЛКА ёлка",
    "Ship it 🚀🔥 asap 👍🏽",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 family \U0001f1eb\U0001f1f7 flag "
    "\U0001f3f3\ufe0f\u200d\U0001f308 #\ufe0f\u20e3 1\ufe0f\u20e3",
    "\U0001d400\U0001d401 \U0001d7ce\U0001d7cf math",
    "!!!???...---",
    "Wait... what?!?! (really)",
    "$100 + 20% ^ 3 ` ~ | < > = { } [ ] \\ / @ # & * _",
    "«quoted» “curly” ‘single’ — dash – en … ellipsis •",
    "、。「」『』【】！？",
    "© ® ™ ° € £ ¥ § ¶ ± × ÷",
    "ﬁnd the ﬂag ² ³ ½ ① Ⅻ ℃ №",
    "MiXeD CaSe WoRdS camelCase PascalCase snake_case kebab-case",
    "3.14159 1,000,000 1e-9 0x1F 007 ½ ٣٤٥ ๑๒๓ ١٢٣",
    "v2.3.1-rc.1+build.5",
    "https://example.com/path?q=1&x=y#frag",
    "jane.doe+tasks@example.org",
    "tab\tseparated\nnew line\r\ncarriage",
    "a\u0300\u0301\u0302\u0303\u0308\u0323b",
    "\u0301\u0302 leading marks",
    "q\u0307\u0323 o\u0323\u0302 ả",
    "x\u20dd y\u20e3 z\ufe0f",
    "n\u0303o\u0308 \u1e9b\u0323",
    "ᾳ ᾼ ῼ ﬅ ǰ",
    "a" * 10 + " " + "b" * 10,
    " ".join(["a"] * 254),
    " ".join(["a"] * 255),
    " ".join(["a"] * 300),
    "! " * 260,
]


def random_soup(rng: random.Random, n: int) -> list[str]:
    """Seeded strings mixing every pool, with realistic words and whitespace between."""
    names = list(POOLS)
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 12)):
            pool = _pool(rng.choice(names))
            parts.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 6))))
            parts.append(rng.choice(["", " ", " ", " ", rng.choice(WHITESPACE)]))
        if rng.random() < 0.3:
            parts = [p.upper() if rng.random() < 0.5 else p for p in parts]
        out.append("".join(parts))
    return out


def random_long_words(rng: random.Random, n: int) -> list[str]:
    """Words around the 100-code-point limit, some with astral or combining characters."""
    out = []
    for _ in range(n):
        length = rng.choice([98, 99, 100, 100, 101, 102, rng.randint(20, 130)])
        pool = _pool(rng.choice(["ascii", "latin", "cjk_astral", "emoji", "greek", "hangul"]))
        word = "".join(rng.choice(pool) for _ in range(length))
        if rng.random() < 0.3:  # combining marks vanish in normalisation: the count is after it
            word = "".join(c + rng.choice(["", "\u0301"]) for c in word)
        out.append(word)
    return out


def truncation_texts(rng: random.Random, dataset: list[str]) -> list[str]:
    """Texts of about 10–20 word pieces: the 14-piece limit of max_seq_len=16 and around it."""
    out = [" ".join(["a"] * k) for k in range(10, 20)]
    out += ["word " * k for k in range(12, 17)]
    out += [" ".join(["super", "##", "califragilistic"] * k) for k in range(3, 7)]
    out += ["é" * 100 + " x" * k for k in range(12, 16)]
    out += ["🚀 " * k + "a" for k in range(12, 16)]
    out += rng.sample(dataset, 150)
    out += random_soup(rng, 80)
    return out


def _dedupe(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(t for t in texts if all(_safe(c) for c in t)))


def _rows(ids, mask) -> list[list[int]]:
    return [
        [int(i) for i, m in zip(row, mrow, strict=True) if m]
        for row, mrow in zip(ids, mask, strict=True)
    ]


def run_preprocessor(pre, texts: list[str], chunk: int = 256) -> list[list[int]]:
    import tensorflow as tf

    out: list[list[int]] = []
    for i in range(0, len(texts), chunk):
        res = pre(tf.constant(texts[i : i + chunk]))
        out += _rows(res["input_word_ids"].numpy().tolist(), res["input_mask"].numpy().tolist())
    return out


def run_tokenize(pre, texts: list[str], chunk: int = 256) -> list[list[int]]:
    import tensorflow as tf

    out: list[list[int]] = []
    for i in range(0, len(texts), chunk):
        ragged = pre.tokenize(tf.constant(texts[i : i + chunk])).merge_dims(1, 2)
        out += ragged.to_list()
    return out


# --- text cleaning -------------------------------------------------------------------------

TEXT_EDGE_CASES = [
    "",
    " ",
    WHITESPACE,
    NEAR_SPACE,
    *(f"a{c}b" for c in WHITESPACE + NEAR_SPACE),
    f"{WHITESPACE}x{WHITESPACE}",
    "\ufeffx\ufeff",
    "  Fix\tlogin\n\nbug  ",
    "<p>Hello</p><br/>world",
    '<a href="x">link</a> <!-- note -->end',
    "<!DOCTYPE html><html><body>x</body></html>",
    "<B>UPPER</B> <Div class='a'>x</Div>",
    "< b>not a tag</ b>",
    "<1>not a tag</1> <_x> <-x>",
    "a<b",
    "a <b c",
    "<<b>>",
    "<b<i>>x",
    "<b>\n</b>",
    '<img src="a>b">',
    "<br/><br/><br/>",
    "&lt;b&gt;bold&lt;/b&gt; and <b>real</b>",
    "&amp;lt;b&amp;gt; twice escaped",
    "&amp;amp;amp;",
    "&amp;#60;b&amp;#62;",
    "Tom &amp; Jerry &quot;x&quot; &#39;y&apos; a&nbsp;b",
    "&#65;&#x42;&#X43; &#xD800; &#0; &#12345678; &eacute;",
    "&#1114111; &#1114112; &#x10FFFF; &#x110000; &#xDFFF; &#xE000; &#55295; &#55296;",
    "&#0000065; &#x00041; &#x0000041; &#12345; &#x1F680; &#128640;",
    "&#9; &#10; &#13; &#32; &#160; &#x2028; &#12288; tabs",
    "&#60;b&#62;bold&#60;/b&#62;",
    "&#60;!-- x --&#62;",
    "&AMP; &Amp; &LT; &lt &amp &#65 &#x; &#; &#x41",
    "a&b &; & amp; &&amp;&",
    "![diagram](img.png) and [docs](https://x.y/z?a=1)",
    "[a](b)[c](d) [[nested]](x) [a](b(c)) [](empty) [x]()",
    "[multi\nline](url) [a] (b) !![x](y)",
    "run `make test` now",
    "``double`` `a`b`c` ` ` `unclosed",
    "`<b>code</b>` `&amp;`",
    "**bold** __strong__ *em* _em_ ~~gone~~",
    "***both*** ___under___ ~~~tilde~~~",
    "****four**** *****five*****",
    "snake_case_words, 2*3*4 and a * b * c",
    "** not bold ** * x* *x * _ x_ _x _",
    'a**b**c x__y__z 1~~2~~3 (*ok*) [**ok**] "_ok_"',
    "**bold\nacross** *a\tb*",
    "*é* _ü_ **ß** ~~😀~~ *😀*",
    "**a*b** *a**b* _a__b_",
    "# Heading\n## Sub\n- one\n* two\n+ three\n1. four\n> quoted",
    "#123 not a heading, -5 degrees",
    "# # x",
    "> > quoted twice\n>> nested",
    "1234. not a list\n123. list\n1.no space",
    "\t- tab bullet\n   * spaced bullet\n\n+  plus",
    "#\tTab heading\n#\n# \n-\n- ",
    "line one\r\n# heading after crlf\r\n- item",
    "text\u2028# after line separator\u2029- item",
    "a\n\n\n\nb",
    "x <b>y</b> z".upper(),
    "Tags <b>in</b> **markdown** [link](x) `code` &amp; entities\n- list",
    "🚀 <b>rocket</b> 𝐀 *𝐁* `𝐂` [𝐃](x)",
    "\U0001f680" * 5 + "  " + "\U0001d400" * 3,
    "ends with space \u00a0",
    "x" * 300,
    "**" * 50,
    "_" * 40 + "x" + "_" * 40,
    "<" * 20 + "b" + ">" * 20,
    "&amp;" * 20,
]

MARKUP_FRAGMENTS = [
    "<",
    ">",
    "</",
    "<!",
    "<b>",
    "</b>",
    "<br/>",
    "<a href='x'>",
    "<!-- c -->",
    "&amp;",
    "&lt;",
    "&gt;",
    "&quot;",
    "&apos;",
    "&nbsp;",
    "&#",
    "&#x",
    "&#60;",
    "&#x3C;",
    "&#9;",
    "&#0;",
    ";",
    "&",
    "*",
    "**",
    "_",
    "__",
    "~~",
    "~",
    "`",
    "[",
    "]",
    "(",
    ")",
    "![",
    "](",
    "#",
    "##",
    ">",
    "- ",
    "* ",
    "+ ",
    "1. ",
    "12. ",
    "\n",
    "\n",
    "\r\n",
    " ",
    " ",
    "  ",
    "\t",
    "\u00a0",
    "\u3000",
    "\u2028",
    "\x1c",
    "\x85",
    "\ufeff",
    "\u200b",
]


def markup_soup(rng: random.Random, n: int) -> list[str]:
    words = ["fix", "bug", "Login", "ÉTÉ", "x", "a1", "snake_case", "2", "😀", "修复", "Σ"]
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 16)):
            r = rng.random()
            if r < 0.55:
                parts.append(rng.choice(MARKUP_FRAGMENTS))
            elif r < 0.9:
                parts.append(rng.choice(words))
            else:
                parts.append(str(rng.randint(0, 0x10FFFF + 5)))
        out.append("".join(parts))
    return out


def build_text_fixture(rng: random.Random, dataset: list[str]) -> dict:
    from tfcls.data.text import clean_text, join_title_description

    samples = training_samples()
    clean_inputs = list(TEXT_EDGE_CASES)
    clean_inputs += [s["title"] for s in samples] + [s["description"] for s in samples]
    clean_inputs += rng.sample(dataset, 100)
    clean_inputs += markup_soup(rng, 500)
    clean_inputs = list(dict.fromkeys(clean_inputs))
    pairs: list[tuple[str, str | None]] = [(s["title"], s["description"]) for s in samples]
    pairs += [(t + end, d) for t, d in pairs[:40] for end in ("", *".!?:…", ". ", "!!", ";", ",")]
    pairs += [
        ("", ""),
        ("", None),
        ("Title", None),
        ("Title", ""),
        ("", "only a description"),
        ("   ", " <br/> "),
        ("<b></b>", "desc"),
        ("Title", "<!-- nothing -->"),
        ("Title.", "desc"),
        ("Title …", "desc"),
        ("Title :", "desc"),
        ("Title? ", "desc"),
        ("Title&#46;", "desc"),
        ("Title&#x2026;", "desc"),
        ("Title**.**", "desc"),
        ("Title *!*", "desc"),
        ("Title\u00a0", "\u00a0desc"),
        ("Title 🚀", "desc"),
        ("Title\u3002", "desc"),
        ("Title\uff01", "desc"),
        ("# Heading", "- item\n- item"),
    ]
    soup = markup_soup(rng, 200)
    pairs += [(soup[2 * i], soup[2 * i + 1] if i % 5 else None) for i in range(100)]
    return {
        "clean": [{"text": t, "clean": clean_text(t)} for t in clean_inputs],
        "join": [
            {"title": t, "description": d, "joined": join_title_description(t, d)} for t, d in pairs
        ],
    }


# --- writing -------------------------------------------------------------------------------


def _dump(obj) -> str:
    return json.dumps(obj, ensure_ascii=True, separators=(", ", ": "))


def write_fixture(path: Path, header: dict, sections: dict[str, list]) -> None:
    """JSON with one entry a line (readable diffs), every non-ASCII character escaped."""
    lines = ["{"]
    for key, value in header.items():
        lines.append(f"{_dump(key)}: {_dump(value)},")
    items = list(sections.items())
    for n, (key, entries) in enumerate(items):
        lines.append(f"{_dump(key)}: [")
        lines += [_dump(e) + ("," if i < len(entries) - 1 else "") for i, e in enumerate(entries)]
        lines.append("]" + ("," if n < len(items) - 1 else ""))
    lines.append("}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text)  # well-formed
    path.write_text(text, encoding="ascii")
    print(f"wrote {path} ({len(text.encode()) / 1e6:.2f} MB)", file=sys.stderr)


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TFCLS_CACHE", str(ROOT / ".cache" / "tfcls"))
    import tensorflow as tf
    import tensorflow_text

    from tfcls.encoders import load_encoder
    from tfcls.encoders.bert import BertPreprocessorModule
    from tfcls.encoders.registry import REGISTRY, sha256_file

    spec = REGISTRY["all-MiniLM-L6-v2"]
    vocab_path = spec.files()[1]
    vocab_sha = sha256_file(vocab_path)
    if vocab_sha != spec.vocab_sha256:
        raise SystemExit(f"{vocab_path}: sha256 {vocab_sha} is not the pinned one")
    preprocessor = load_encoder(spec.name).modules.preprocessor

    rng = random.Random(SEED)
    dataset = dataset_texts(rng)
    samples = training_samples()
    texts = _dedupe(
        TOKENIZER_EDGE_CASES
        + dataset
        + [s["title"] for s in samples]
        + [s["description"] for s in samples]
        + golden_texts()
        + random_soup(rng, 500)
        + random_long_words(rng, 60)
    )
    ids = run_preprocessor(preprocessor, texts)
    pieces = run_tokenize(preprocessor, texts)
    cases = []
    for text, row, p in zip(texts, ids, pieces, strict=True):
        case = {"text": text, "ids": row}
        if row[1:-1] != p:  # truncated: keep the full pieces as well
            assert row[1:-1] == p[: spec.max_seq_len - 2], text
            case["pieces"] = p
        cases.append(case)

    short = BertPreprocessorModule(vocab_path, spec.lower_case, max_seq_len=TRUNCATION_LEN)
    trunc_texts = _dedupe(truncation_texts(rng, dataset))
    trunc = [
        {"text": t, "ids": row}
        for t, row in zip(trunc_texts, run_preprocessor(short, trunc_texts), strict=True)
    ]
    batch_texts = ["", "a", "Fix login redirect bug 🚀", "é" * 101, " ".join(["a"] * 300), "x y"]
    res = preprocessor(tf.constant(batch_texts))
    header = {
        "about": "Token ids from the Python preprocessor; regenerate with "
        ".venv/bin/python tests/data/make_web_fixtures.py",
        "encoder": spec.name,
        "vocab": {"module": spec.module, "file": spec.vocab_file, "sha256": vocab_sha},
        "lower_case": spec.lower_case,
        "max_seq_len": spec.max_seq_len,
        "truncation_max_seq_len": TRUNCATION_LEN,
        "versions": {
            "tensorflow": tf.__version__,
            "tensorflow_text": tensorflow_text.__version__,
            "python_unicodedata": unicodedata.unidata_version,
        },
        "batch": {
            "texts": batch_texts,
            "input_word_ids": res["input_word_ids"].numpy().tolist(),
            "input_mask": res["input_mask"].numpy().tolist(),
        },
    }
    write_fixture(
        HERE / "web_tokenizer_fixture.json", header, {"cases": cases, "truncation": trunc}
    )

    text_fixture = build_text_fixture(rng, dataset)
    write_fixture(
        HERE / "web_text_fixture.json",
        {
            "about": "clean_text and join_title_description from tfcls/text.py; regenerate with "
            ".venv/bin/python tests/data/make_web_fixtures.py"
        },
        text_fixture,
    )
    print(
        f"tokenizer: {len(cases)} cases ({sum('pieces' in c for c in cases)} truncated), "
        f"{len(trunc)} truncation cases; text: {len(text_fixture['clean'])} clean, "
        f"{len(text_fixture['join'])} join",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
