"""The browser's tokenizer and text cleaning (web/sdk/tokenizer.js, web/sdk/text.js) match
Python's.

* ``node --test web/test/ web/sdk/test/`` runs the JS suites, which compare against the
  fixtures that tests/data/make_web_fixtures.py writes from the Python preprocessor and
  tfcls.data.text.
* Hypothesis fuzzes random strings through both sides at once: the Python preprocessor
  (``BertPreprocessorModule``, max_seq_len 256 and 16) and ``clean_text`` /
  ``join_title_description`` here, the JS ports in one long-lived ``node
  web/sdk/test/tokenize_stdio.js`` process (JSON lines on stdin/stdout).
* Every code point is compared alone (normalisation and word splitting).

Unicode versions
----------------
Both sides look characters up in Unicode tables, and the tables are of different versions:

* Python side: RE2 inside TensorFlow 2.19 (``\\p{Z}``, ``\\p{C}``, ``\\p{Mn}``, ``\\p{P}``) has
  Unicode 15 categories; ``tf.strings.lower`` uses TensorFlow's ICU 69.1 (Unicode 13.0);
  ``tensorflow_text.normalize_utf8`` (NFD) carries its own ICU 64 data (Unicode 12.1).
* JS side: the engine's ICU; Node 20.20 has ICU 78 (Unicode 17.0), browsers vary.

Comparing every code point (``test_every_code_point``) shows exactly these differences among
characters assigned in Unicode 14.0 (Python 3.11's ``unicodedata``), all in VERSION_SENSITIVE:

1. Lower-case mappings new in Unicode 14.0, which TF's ICU 69 lacks, so Python keeps the
   capital and JS lower-cases it: U+2C2F, U+A7C0, U+A7D0, U+A7D6, U+A7D8 and the Vithkuqi
   capitals U+10570–1057A, U+1057C–1058A, U+1058C–10592, U+10594–10595 (40 letters).
2. NFD: tensorflow_text's Unicode 12.1 data lacks the one canonical decomposition added in
   Unicode 13.0–14.0 (U+11938 DIVES AKURU VOWEL SIGN O → U+11935 U+11930) and gives every mark
   assigned in 13.0–14.0 combining class 0, so canonical reordering around them differs:
   U+0898–089F, U+08CA–08D2, U+0C3C, U+1715, U+1ABF–1ACE, U+1DFA, U+A82C, U+10EAB–10EAC,
   U+10F82–10F85, U+11070, U+11938, U+1193D–1193E, U+11943, U+16FF0–16FF1, U+1E2AE (51;
   visible when the mark is kept (Mc) or when, as a class-0 "starter", it stops the
   reordering of two kept marks around it).
3. General category: U+1171E AHOM CONSONANT SIGN MEDIAL RA is Mn in RE2's tables (so Python
   removes it) and Mc in Node's Unicode 17 (so JS keeps it).

And among code points unassigned in Unicode 14.0 (category Cn for Python 3.11): RE2's
Unicode 15 tables lack the characters of Unicode 16.0 and 17.0, so JS removes their Mn/Cf
characters, splits off their punctuation and lower-cases their capitals (U+1C89, U+A7CB, …),
where Python keeps them as unassigned characters (RE2's ``\\p{C}`` has no Cn, so unassigned code
points are kept and make their word [UNK]; the JS uses ``[\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}]`` to
match, not JavaScript's ``\\p{C}``).

Locale: ``tf.strings.lower`` uses ICU's *default locale*, which ICU takes from LANG/LC_ALL;
under a Turkic locale (tr, az) it lower-cases "I" to "ı". The preprocessor maps "I" to "i"
before lower-casing (tests/encoders/test_bert.py runs it under tr_TR), so it agrees with
JavaScript's locale-independent ``toLowerCase()`` and with HuggingFace in every locale.

None of this concerns real task text (the scripts involved are historic or rare), and the
JS cannot fix it without shipping Unicode tables of its own, so the fuzzing alphabet is the
characters assigned in Unicode 14.0 minus VERSION_SENSITIVE, and ``test_every_code_point``
allows differences only there. Text cleaning uses no Unicode properties (only ASCII classes
and explicit whitespace), so its fuzzing uses every code point, lone surrogates included.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tfcls.data.text import clean_text, join_title_description

ROOT = Path(__file__).resolve().parents[1]
NODE = shutil.which("node")
STDIO = ROOT / "web" / "sdk" / "test" / "tokenize_stdio.js"

pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js (20+) is not installed")


def _ranges(*spans: tuple[int, int] | int) -> frozenset[str]:
    out: set[str] = set()
    for span in spans:
        lo, hi = span if isinstance(span, tuple) else (span, span)
        out.update(chr(c) for c in range(lo, hi + 1))
    return frozenset(out)


LOWERCASE_NEW_IN_14 = _ranges(
    0x2C2F,
    0xA7C0,
    0xA7D0,
    0xA7D6,
    0xA7D8,
    (0x10570, 0x1057A),
    (0x1057C, 0x1058A),
    (0x1058C, 0x10592),
    (0x10594, 0x10595),
)
NFD_NEW_IN_13_14 = _ranges(
    (0x0898, 0x089F),
    (0x08CA, 0x08D2),
    0x0C3C,
    0x1715,
    (0x1ABF, 0x1ACE),
    0x1DFA,
    0xA82C,
    (0x10EAB, 0x10EAC),
    (0x10F82, 0x10F85),
    0x11070,
    0x11938,
    (0x1193D, 0x1193E),
    0x11943,
    (0x16FF0, 0x16FF1),
    0x1E2AE,
)
CATEGORY_CHANGED = _ranges(0x1171E)
VERSION_SENSITIVE = LOWERCASE_NEW_IN_14 | NFD_NEW_IN_13_14 | CATEGORY_CHANGED


# --- the two sides ----------------------------------------------------------------------------


class NodeBridge:
    """One `node web/sdk/test/tokenize_stdio.js` process: a JSON request in, a JSON answer out."""

    def __init__(self, vocab: Path) -> None:
        self.proc = subprocess.Popen(
            [NODE, str(STDIO), str(vocab)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def __call__(self, op: str, **request) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"op": op, **request}) + "\n")  # ASCII: \u escapes
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"tokenize_stdio.js exited with code {self.proc.wait()}")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"tokenize_stdio.js: {answer['error']}")
        return answer

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def vocab_path() -> Path:
    from tfcls.encoders.registry import REGISTRY, sha256_file

    spec = REGISTRY["all-MiniLM-L6-v2"]
    path = spec.files()[1]
    assert sha256_file(path) == spec.vocab_sha256
    return path


@pytest.fixture(scope="module")
def preprocessors(vocab_path):
    """The Python preprocessor as the encoder builds it (max_seq_len 256) and a short one."""

    from tfcls.encoders.bert import BertPreprocessorModule
    from tfcls.encoders.registry import REGISTRY

    spec = REGISTRY["all-MiniLM-L6-v2"]
    return {
        n: BertPreprocessorModule(vocab_path, spec.lower_case, n) for n in (spec.max_seq_len, 16)
    }


@pytest.fixture(scope="module")
def node(vocab_path):
    bridge = NodeBridge(vocab_path)
    yield bridge
    bridge.close()


def python_ids(pre, texts: list[str]) -> list[list[int]]:
    import tensorflow as tf

    out = pre(tf.constant(texts))
    ids, mask = out["input_word_ids"].numpy().tolist(), out["input_mask"].numpy().tolist()
    return [[i for i, m in zip(r, mr, strict=True) if m] for r, mr in zip(ids, mask, strict=True)]


def python_pieces(pre, texts: list[str]) -> list[list[int]]:
    import tensorflow as tf

    return pre.tokenize(tf.constant(texts)).merge_dims(1, 2).to_list()


def python_words(pre, texts: list[str]) -> tuple[list[str], list[list[str]]]:
    """The normalised texts and their words, as the preprocessor computes them."""
    import tensorflow as tf
    import tensorflow_text as text

    from tfcls.encoders.bert import KEEP_PATTERN, SPLIT_PATTERN

    normalized = pre._normalize(tf.constant(texts))
    words = text.regex_split(normalized, SPLIT_PATTERN, KEEP_PATTERN).to_list()
    return (
        [s.decode() for s in normalized.numpy().tolist()],
        [[w.decode() for w in row] for row in words],
    )


# --- the JS test suites -----------------------------------------------------------------------


def test_node_test_suites(vocab_path):
    env = {**os.environ, "TFCLS_VOCAB": str(vocab_path)}
    proc = subprocess.run(
        [NODE, "--test", "web/test/", "web/sdk/test/"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "# fail 0" in proc.stdout


# --- tokenizer --------------------------------------------------------------------------------

TRICKY = list(
    " \t\n\r\x0b\x0c\x1c\x85\xa0\u1680\u2000\u2028\u2029\u202f\u3000"  # whitespace
    "\x00\x07\x7f\x9f\u200b\u200c\u200d\u200e\u2060\ufeff\u00ad\U000e0001\ufffd\ue000"
    "ΣσςİıßẞǅΩKÅŉΐǰ"  # case mapping specials
    "\u0300\u0301\u0308\u0323\u0345\u0488\u20dd\ufe0f\u302a\u3099\U0001d165\U0001d16d"
    "!#*.,-_@[]`{}~¡¿«»、。！"
    "aAeE1中\u3400\U00020000\U0002f800가ᄀ\u0e31ﬁｆ🚀\U0001d400\u0378\U0010ffff"
)
WORDS = [
    "fix",
    "login",
    "redirect",
    "bug",
    "café",
    "résumé",
    "naïve",
    "ΟΔΟΣ",
    "straße",
    "unaffable",
    "tokenization",
    "修复",
    "로그인",
    "🚀",
    "don't",
    "e-mail",
    "3.14",
    "C++",
    "#123",
]
_assigned = st.characters(
    categories=("L", "M", "N", "P", "S", "Z", "Cc", "Cf", "Co"),  # Unicode 14.0, no Cn/Cs
    exclude_characters="".join(VERSION_SENSITIVE),
)
_char = st.one_of(_assigned, st.sampled_from(TRICKY))
_letters = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
_long_word = st.builds(
    lambda unit, n, tail: (unit * n)[:n] + tail,
    st.sampled_from(["a", "ab", "xyz", "é", "e\u0301", "Σ", "🚀", "\U0001d400", "ｆ", "가"]),
    st.integers(95, 106),
    st.text(_char, max_size=3),
)
TOKENIZER_TEXTS = st.one_of(
    st.text(_char, max_size=40),
    st.lists(
        st.one_of(st.sampled_from(WORDS), _letters, st.text(_char, max_size=6)), max_size=10
    ).map(" ".join),
    _long_word,
    st.lists(st.one_of(_long_word, st.text(_char, max_size=8)), max_size=4).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(text=TOKENIZER_TEXTS)
def test_tokenizer_matches_python(text, preprocessors, node):
    js = node("encode", texts=[text])
    short = node("encode", texts=[text], maxSeqLen=16)
    expected = {
        "ids": python_ids(preprocessors[256], [text])[0],
        "pieces": python_pieces(preprocessors[256], [text])[0],
        "ids16": python_ids(preprocessors[16], [text])[0],
    }
    actual = {"ids": js["ids"][0], "pieces": js["pieces"][0], "ids16": short["ids"][0]}
    if actual != expected:  # show where the two part
        norm, words = python_words(preprocessors[256], [text])
        js_words = node("normalize", texts=[text])
        detail = {
            "python": {"normalized": norm[0], "words": words[0]},
            "js": {"normalized": js_words["normalized"][0], "words": js_words["words"][0]},
        }
        assert actual == expected, json.dumps(detail, ensure_ascii=True)


def test_every_code_point(preprocessors, node):
    """Each code point c in "x c U+1D16D c x" normalises and splits alike on both sides, but
    for the documented Unicode-version differences. (U+1D16D is a mark of combining class 226
    that normalisation keeps, so a difference in c's class shows as a different order.)"""
    pre = preprocessors[256]
    codes = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    differ = []
    step = 1 << 16
    for start in range(0, len(codes), step):
        chunk = codes[start : start + step]
        texts = [f"x{chr(c)}\U0001d16d{chr(c)}x" for c in chunk]
        norm, words = python_words(pre, texts)
        js = node("normalize", texts=texts)
        differ += [
            c
            for c, n, w, jn, jw in zip(
                chunk, norm, words, js["normalized"], js["words"], strict=True
            )
            if n != jn or w != jw
        ]
    unexpected = [
        f"U+{c:04X}"
        for c in differ
        if chr(c) not in VERSION_SENSITIVE and unicodedata.category(chr(c)) != "Cn"
    ]
    assert not unexpected, f"{len(unexpected)} code points differ: {unexpected[:50]}"


# --- text cleaning ----------------------------------------------------------------------------

FRAGMENTS = [
    *"<>/!&;#*_~`[]()-+.\n\t \u00a0\u3000\u2028\x1c\x85\ufeff\u200b",
    *["</", "<!", "<b>", "</b>", "<br/>", "<a href='x'>", "<!-- c -->", "<B", "<1"],
    *["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&nbsp;", "&#", "&#x", "&#X", "&eacute;"],
    *["**", "__", "~~", "![", "](", "##", ">>", "- ", "* ", "+ ", "1. ", "123. ", "1234. "],
    *["\r\n", "  ", "x", "ab", "A1", "é", "Σ", "😀", "\U0001d400", "修复", "snake_case"],
]
_text_char = st.one_of(st.characters(), st.sampled_from(["\ud800", "\udbff"]))  # lone highs
_fragment = st.one_of(
    st.sampled_from(FRAGMENTS),
    st.text(_text_char, max_size=4),
    st.integers(0, 0x110010).map(str),
    st.integers(0, 0x110010).map("{:x}".format),
)
MARKUP_TEXTS = st.lists(_fragment, max_size=24).map("".join)


@settings(max_examples=300, deadline=None)
@given(title=MARKUP_TEXTS, description=st.none() | MARKUP_TEXTS)
def test_text_cleaning_matches_python(title, description, node):
    cleaned = node("clean", texts=[title, description or ""])["result"]
    assert cleaned == [clean_text(title), clean_text(description or "")]
    joined = node("join", pairs=[[title, description]])["result"]
    assert joined == [join_title_description(title, description)]
