"""clean_text and the title/description join rule (the spec the browser mirrors)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tfcls.data.text import clean_text, join_title_description


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Fix\tlogin\n\nbug  ", "Fix login bug"),
        ("<p>Hello</p><br/>world", "Hello world"),
        ('<a href="x">link</a> <!-- note -->end', "link end"),
        ("&lt;b&gt;bold&lt;/b&gt; and <b>real</b>", "< b>bold< /b> and real"),
        ("&amp;lt;b&amp;gt; twice escaped", "< b> twice escaped"),
        ("Tom &amp; Jerry &quot;x&quot; &#39;y&apos; a&nbsp;b", "Tom & Jerry \"x\" 'y' a b"),
        (
            "&#65;&#x42;&#X43; &#xD800; &#0; &#12345678; &eacute;",
            "ABC &#xD800; &#0; &#12345678; &eacute;",
        ),
        ("a < b and c > d", "a < b and c > d"),
        ("![diagram](img.png) and [docs](https://x.y/z?a=1)", "diagram and docs"),
        ("run `make test` now", "run make test now"),
        ("**bold** __strong__ *em* _em_ ~~gone~~", "bold strong em em gone"),
        ("***both***", "both"),
        ("snake_case_words, 2*3*4 and a * b * c", "snake_case_words, 2*3*4 and a * b * c"),
        (
            "# Heading\n## Sub\n- one\n* two\n+ three\n1. four\n> quoted",
            "Heading Sub one two three four quoted",
        ),
        ("#123 not a heading, -5 degrees", "#123 not a heading, -5 degrees"),
        ("\u2003x\u00a0\u3000y\x1c", "x y"),
        ("", ""),
    ],
)
def test_clean_text_examples(raw, clean):
    assert clean_text(raw) == clean


def test_whitespace_class_is_exactly_str_isspace():
    every = "".join(chr(i) for i in range(0x10000) if not 0xD800 <= i <= 0xDFFF)
    spaces = {c for c in every if c.isspace()}
    assert {c for c in every if clean_text("a" + c + "b") == "a b"} == spaces


MARKUP = st.sampled_from(
    [
        "<b>",
        "</p>",
        "<br/>",
        "<",
        ">",
        "&lt;",
        "&gt;",
        "&amp;",
        "&#60;",
        "&#x3C;",
        "&nbsp;",
        "&",
        "#",
        ";",
        "**",
        "__",
        "*",
        "_",
        "~~",
        "`",
        "[",
        "](",
        ")",
        "!",
        "# ",
        "- ",
        "> ",
        "1. ",
        "\n",
        " ",
        "\t",
        "\u00a0",
        "a",
        "b",
        "x_y",
        "2",
        ".",
        "é",
    ]
)
TEXTS = st.one_of(st.text(max_size=60), st.lists(MARKUP, max_size=25).map("".join))


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_clean_text_is_idempotent_and_normalises_whitespace(raw):
    out = clean_text(raw)
    assert clean_text(out) == out
    assert out == out.strip() and "  " not in out
    assert all(c == " " or not c.isspace() for c in out)
    assert not re.search(r"<[A-Za-z/!]", out)


@given(TEXTS, TEXTS)
def test_join_rule(title, description):
    t, d = clean_text(title), clean_text(description)
    joined = join_title_description(title, description)
    if not d or not t:
        assert joined == (t or d)
    elif t[-1] in ".!?:…":
        assert joined == f"{t} {d}"
    else:
        assert joined == f"{t}. {d}"
    assert join_title_description(title, None) == t
