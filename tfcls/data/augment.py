"""Token-level augmentation of small training sets (``data.augment``).

New texts are made from training texts only; each remembers the row it came from
(``origin``), so cross-fitting keeps a text and its copies in the same fold and
out-of-fold predictions, calibration, validation and test only ever see real texts.

The operations are EDA's (Wei & Zou 2019, "Easy Data Augmentation"), each changing
``max(1, round(rate × words))`` words of a text:

- ``synonym``: replace words (never stop-words, only words WordNet has a synonym for)
  by one of their WordNet synonyms (:mod:`tfcls.data.thesaurus`, shipped in a package);
- ``insert``: insert a synonym of one of the text's words at a random place (after the
  first word, so the text's first word stays first);
- ``swap``: swap two words;
- ``delete``: delete words (never every word).

Words are ``\\w`` runs (with inner ``'`` and ``-``); the punctuation and spacing between
them stay where they are, so "Fix login, then deploy." keeps its comma and full stop.
A replacement takes the case of the word it replaces (``Title``, ``UPPER``, lower); a swap
with the first word moves the first word's capital with the position.

Determinism: copy ``c`` of row ``i`` depends only on (seed, i, the text): a row's new texts
do not change when other rows are added or removed. A new text is never empty and never
equal to its source; copies of one row are distinct where the operations allow it, else a
change is repeated. A text no operation can change (no word; one word without a synonym,
which cannot be swapped, deleted or given a synonym) gets no copies: the count of new
texts says so (:func:`summary`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tfcls.data import thesaurus

if TYPE_CHECKING:
    from tfcls.config_sections import AugmentConfig

WORD = re.compile(r"\w+(?:['’-]\w+)*")
ATTEMPTS = 12  # tries per copy to find a change not made yet (then one already made is reused)


@dataclass(frozen=True)
class Augmented:
    """Texts made from training rows: ``texts[i]`` was made from original row ``origin[i]``
    (an index into the training rows it was made from) and takes that row's label(s)."""

    texts: list[str]
    origin: np.ndarray  # int64, one per text

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.origin):
            raise ValueError(f"{len(self.texts)} texts but {len(self.origin)} origins")

    @classmethod
    def empty(cls) -> Augmented:
        """No new texts."""
        return cls([], np.zeros(0, np.int64))


@dataclass
class _Text:
    """A text as its words and the gaps around them: ``gaps[0] words[0] gaps[1] … gaps[n]``."""

    words: list[str]
    gaps: list[str]

    @classmethod
    def parse(cls, text: str) -> _Text:
        words, gaps, end = [], [], 0
        for m in WORD.finditer(text):
            gaps.append(text[end : m.start()])
            words.append(m.group())
            end = m.end()
        gaps.append(text[end:])
        return cls(words, gaps)

    def render(self) -> str:
        out = [self.gaps[0]]
        for word, gap in zip(self.words, self.gaps[1:], strict=True):
            out += [word, gap]
        return "".join(out).strip()


def _match_case(word: str, like: str) -> str:
    """``word`` in the case of ``like``: UPPER, Title or as is (lower-case lemmas)."""
    if len(like) > 1 and like.isupper():
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _replaceable(word: str) -> list[str]:
    """Synonyms of ``word`` (lower-case; none for stop-words and non-words)."""
    lower = word.lower()
    if lower in thesaurus.STOP_WORDS or (not lower.isalpha() and "-" not in lower):
        return []
    return thesaurus.synonyms(lower)


def _synonym(t: _Text, k: int, rng: np.random.Generator) -> bool:
    """Replace up to ``k`` distinct words that have a synonym by a random synonym."""
    candidates = [i for i, w in enumerate(t.words) if _replaceable(w)]
    if not candidates:
        return False
    for i in rng.permutation(candidates)[:k]:
        options = _replaceable(t.words[i])
        t.words[i] = _match_case(options[int(rng.integers(len(options)))], t.words[i])
    return True


def _insert(t: _Text, k: int, rng: np.random.Generator) -> bool:
    """Insert ``k`` times a synonym of a random word (one that has one) at a random
    position after the first word."""
    for _ in range(k):
        candidates = [w for w in t.words if _replaceable(w)]
        if not candidates:
            return False
        options = _replaceable(candidates[int(rng.integers(len(candidates)))])
        new = options[int(rng.integers(len(options)))]
        j = int(rng.integers(1, len(t.words) + 1))  # before word j (j = n: after the last)
        n = len(t.words)
        t.words.insert(j, new)
        t.gaps.insert(j + 1 if j < n else j, " ")  # "a, NEW b" / "a b NEW?"
    return True


def _swap(t: _Text, k: int, rng: np.random.Generator) -> bool:
    """Swap two random words ``k`` times (the first word's capital stays first)."""
    n = len(t.words)
    if n < 2 or len({w.lower() for w in t.words}) < 2:
        return False
    for _ in range(k):
        i, j = sorted(int(v) for v in rng.choice(n, size=2, replace=False))
        a, b = t.words[i], t.words[j]
        if i == 0 and len(a) > 1 and a.istitle() and b.islower():  # the capital stays first
            a, b = a.lower(), b[:1].upper() + b[1:]
        t.words[i], t.words[j] = b, a
    return True


def _delete(t: _Text, k: int, rng: np.random.Generator) -> bool:
    """Delete ``k`` random words, never every word; the gaps around a deleted word merge
    (punctuation kept, whitespace collapsed to one space)."""
    n = len(t.words)
    if n < 2:
        return False
    for i in sorted(rng.choice(n, size=min(k, n - 1), replace=False), reverse=True):
        before, after = t.gaps[i], t.gaps[i + 1]
        if after[:1] and not after[:1].isspace():  # "roadmap, then" → ", then"
            before = before.rstrip()
        merged = re.sub(r"\s+", " ", before + after)
        del t.words[i]
        t.gaps[i : i + 2] = [merged.lstrip() if i == 0 else merged]
    return True


OPERATIONS = {"synonym": _synonym, "insert": _insert, "swap": _swap, "delete": _delete}


def new_text(text: str, operation: str, rate: float, rng: np.random.Generator) -> str | None:
    """One application of ``operation`` to ``text`` changing ``max(1, round(rate × words))``
    words, or None when it cannot change the text (the result equals the source)."""
    t = _Text.parse(text)
    if not t.words:
        return None
    k = max(1, round(rate * len(t.words)))
    if not OPERATIONS[operation](t, k, rng):
        return None
    out = t.render()
    return out if out and out != text.strip() else None


def augment_text(
    text: str, copies: int, operations: Sequence[str], rate: float, seed: Sequence[int]
) -> list[str]:
    """``copies`` new texts from ``text`` (none if no operation can change it).

    Copy ``c`` uses the operations in a per-text random order starting at ``c``; a change
    already made is avoided for up to :data:`ATTEMPTS` tries, then reused."""
    rng = np.random.default_rng(list(seed))
    order = [operations[i] for i in rng.permutation(len(operations))]
    made: list[str] = []
    for c in range(copies):
        found = None
        for attempt in range(ATTEMPTS):
            out = new_text(text, order[(c + attempt) % len(order)], rate, rng)
            if out is not None and out not in made:
                found = out
                break
            found = found or out
        if found is None and made:
            found = made[c % len(made)]
        if found is None:
            return []  # no operation changes this text
        made.append(found)
    return made


def augment(
    texts: Sequence[str],
    settings: AugmentConfig,
    seed: int,
    rows: Iterable[int] | None = None,
) -> Augmented:
    """New texts from ``texts[rows]`` (default: all), ``settings.copies`` per row that can
    be changed, by ``settings.operations`` at ``settings.rate``; deterministic for ``seed``.
    ``origin`` indexes ``texts``."""
    picked = range(len(texts)) if rows is None else rows
    out: list[str] = []
    origin: list[int] = []
    for i in picked:
        made = augment_text(
            texts[i], settings.copies, settings.operations, settings.rate, (seed, i)
        )
        out += made
        origin += [int(i)] * len(made)
    return Augmented(out, np.asarray(origin, np.int64))


def _label_set(label: Any) -> set[Hashable]:
    """A row's labels: the label itself (a class id or name), the positions of a 0/1
    indicator row (a 1-D array), or the members of a label set or list."""
    if isinstance(label, str | int | np.integer):
        return {int(label) if isinstance(label, np.integer) else label}
    if isinstance(label, np.ndarray):
        return {int(i) for i in np.flatnonzero(label)}
    return set(label)


def rows_to_augment(labels: Sequence[Any], below_per_label: int) -> np.ndarray:
    """Rows to augment: every row (``below_per_label`` 0), else the rows with at least one
    label that has fewer than ``below_per_label`` rows. ``labels`` is one payload per row:
    a class id or name (single-label), or a label set / 0-1 indicator row (multi-label)."""
    sets = [_label_set(lab) for lab in labels]
    if below_per_label <= 0:
        return np.arange(len(sets), dtype=np.int64)
    counts = Counter(lab for s in sets for lab in s)
    small = {lab for lab, n in counts.items() if n < below_per_label}
    return np.asarray([i for i, s in enumerate(sets) if s & small], np.int64)


def augment_rows(
    texts: Sequence[str], labels: Sequence[Any], settings: AugmentConfig, seed: int
) -> Augmented:
    """:func:`augment` of the rows :func:`rows_to_augment` picks: the one call a training
    procedure makes, single- or multi-label (``labels``: one payload per text)."""
    return augment(texts, settings, seed, rows_to_augment(labels, settings.below_per_label))


def summary(augmented: Augmented, labels: Sequence[Any], names: Sequence[str]) -> dict[str, Any]:
    """What a run reports: new texts in all, per label (``names[label id]``; a multi-label
    copy counts for each of its labels) and the rows they came from."""
    per_label: Counter[str] = Counter()
    for o in augmented.origin:
        for lab in _label_set(labels[int(o)]):
            per_label[names[lab] if not isinstance(lab, str) else lab] += 1
    return {
        "added": len(augmented.texts),
        "rows_augmented": len(set(augmented.origin.tolist())),
        "added_per_label": {name: per_label.get(name, 0) for name in names},
    }
