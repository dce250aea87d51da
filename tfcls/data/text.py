"""Text cleaning and the title/description rule: the model's input, in Python and in the browser.

The web client runs a JavaScript copy of these two functions, so their docstrings are the
specification of both.
"""

from __future__ import annotations

import re

SENTENCE_END = ".!?:…"  # a title ending in one of these is joined to its description by " "

# Python's str.isspace() characters, spelled out: JavaScript's \s is a different set.
_WS = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<![^<>]*>")
_ENTITY = re.compile(r"&(?:(amp|lt|gt|quot|apos|nbsp)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'", "nbsp": "\xa0"}
_LINK = re.compile(r"!?\[([^\[\]]*)\]\([^()]*\)")
_CODE = re.compile(r"`([^`]+)`")
_LINE_MARK = re.compile(r"(^|\n)[ \t]*(?:#+|>+|[-*+]|[0-9]{1,3}\.)[ \t]+")
_EMPHASIS = [
    re.compile(
        rf"(?<![A-Za-z0-9]){re.escape(m)}([^{re.escape(m[0])}{_WS}]"
        rf"(?:[^{re.escape(m[0])}]*[^{re.escape(m[0])}{_WS}])?){re.escape(m)}(?![A-Za-z0-9])"
    )
    for m in ("**", "__", "~~", "*", "_")
]
_TAG_START = re.compile(r"<(?=[A-Za-z/!])")
_WS_RUN = re.compile(f"[{_WS}]+")


def _decode_entity(match: re.Match[str]) -> str:
    name, dec, hexa = match.groups()
    if name:
        return _NAMED[name]
    code = int(dec) if dec else int(hexa, 16)
    if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
        return chr(code)
    return match.group(0)


def _clean_pass(text: str) -> str:
    text = _TAG.sub(" ", text)
    text = _ENTITY.sub(_decode_entity, text)
    text = _LINK.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    text = _LINE_MARK.sub(r"\1", text)
    for pattern in _EMPHASIS:
        text = pattern.sub(r"\1", text)
    text = _TAG_START.sub("< ", text)
    return _WS_RUN.sub(" ", text).strip(" ")


def clean_text(text: str) -> str:
    r"""Normalise a title or description: markup out, words kept. The browser runs a JavaScript
    copy of this function, so these rules are its specification. One *pass* does, in order:

    1. HTML tags → one space. A tag is ``<``, optional ``/``, an ASCII letter, anything but
       ``<``/``>``, then ``>``; or ``<!`` … ``>`` (comments, doctype):
       ``</?[A-Za-z][^<>]*>|<![^<>]*>``. ``<br/>``, ``</p>``, ``<a href="x">`` all go.
    2. Entities, one left-to-right replace (so ``&amp;lt;`` → ``&lt;`` in this pass): ``&amp;
       &lt; &gt; &quot; &apos; &nbsp;`` (→ U+00A0) and ``&#NNN;`` (1–7 decimal digits) /
       ``&#xHHH;`` (x or X, 1–6 hex digits) whose value is 1–0x10FFFF and not a surrogate
       (D800–DFFF). Anything else (``&eacute;``, ``&#0;``, ``&#xD800;``) stays as written.
       Tags are stripped *before* entities are decoded, so ``&lt;b&gt;`` stays visible text.
    3. Markdown, each a global regex replace, in this order (W = the whitespace of step 5):
       a. links and images → their bracket text: ``!?\[([^\[\]]*)\]\([^()]*\)`` → ``$1``;
       b. inline code → the code: ``` `([^`]+)` ``` → ``$1``;
       c. line-start markers (at the start of the text or right after ``\n``, after optional
          spaces/tabs, followed by spaces/tabs): ``#``s, ``>``s, one of ``- * +``, or 1–3
          digits and a dot: ``(^|\n)[ \t]*(?:#+|>+|[-*+]|[0-9]{1,3}\.)[ \t]+`` → ``$1``;
       d. emphasis, for the markers ``**``, ``__``, ``~~``, ``*``, ``_`` in that order: the
          marker, text that contains no marker character and neither starts nor ends with W,
          the same marker, with no ASCII letter/digit right before or after (so
          ``snake_case_words`` and ``2*3*4`` stay) → the text. For ``**``:
          ``(?<![A-Za-z0-9])\*\*([^*W](?:[^*]*[^*W])?)\*\*(?![A-Za-z0-9])`` → ``$1``.
    4. Every ``<`` directly followed by an ASCII letter, ``/`` or ``!`` gets a space after it
       (``<(?=[A-Za-z/!])`` → ``"< "``): ``&lt;b&gt;`` ends as ``< b>``. Without this, cleaning
       ``&lt;b&gt;`` would give ``<b>``, which a second cleaning would delete as a tag. (BERT
       tokenizers split punctuation, so ``< b>`` and ``<b>`` give the same tokens.)
    5. Whitespace: each run → one space (U+0020), then spaces at both ends removed (only
       U+0020, not JavaScript's ``trim()`` set). Whitespace is exactly Python's
       ``str.isspace()``: U+0009–000D, U+001C–001F, U+0020, U+0085, U+00A0, U+1680,
       U+2000–200A, U+2028, U+2029, U+202F, U+205F, U+3000 (JavaScript's ``\s`` differs: it
       has U+FEFF and lacks U+001C–001F and U+0085).

    The pass repeats until the text stops changing, which makes ``clean_text`` idempotent
    (``&amp;lt;b&amp;gt;`` → ``&lt;b&gt;`` → ``< b>``; ``***x***`` → ``*x*`` → ``x``; ``# # x``
    → ``x``). Every pass after the first that changes anything removes at least one
    non-whitespace character, so the loop ends (in practice after one or two passes).
    """
    previous, text = None, text
    while text != previous:
        previous, text = text, _clean_pass(text)
    return text


def join_title_description(title: str, description: str | None) -> str:
    """The model input: ``title. description``. Both parts are cleaned first; an empty
    description gives the title alone (and an empty title the description alone). If the title
    already ends with sentence punctuation (``. ! ? : …``) the two are joined by one space
    instead of ``". "``. The browser mirrors this rule."""
    title, description = clean_text(title), clean_text(description or "")
    if not description or not title:
        return title or description
    return title + (" " if title[-1] in SENTENCE_END else ". ") + description
