"""Training data: load and validate labelled short texts, clean them, split them.

Three formats, chosen by extension (UTF-8; a leading BOM is tolerated):

- ``.json``: ``{"samples": [{"title": ..., "description": ... (optional, may be "" or null),
  "category": ...}, ...]}`` (the SmartSynch export);
- ``.jsonl``: one object per line, with ``text`` + ``label`` or ``title`` + ``description``
  (optional) + ``category``; blank lines are skipped;
- ``.csv``: a header row naming the columns ``text,label`` or ``title,description,category``
  (description optional; names matched case-insensitively; other columns ignored except
  ``weight`` and ``confidence``); rows that are entirely empty are skipped.

Any row may carry a sample weight: ``weight`` (a finite number > 0; 1 when absent, null or an
empty CSV cell) and ``confidence`` (the labeller's confidence, 0 < c ≤ 1), which also
scales it: ``Example.weight`` = weight × confidence. ``tfcls.retrain`` writes ``weight`` so
that human verdicts and rare labels count more; training uses ``Dataset.weights``.

Every problem is reported, not just the first, with its place (``path:LINE`` or
``path#samples[INDEX]``), field and what to do. Nothing is dropped silently: the only rows
skipped are exact duplicates (same cleaned text and label), listed in ``Dataset.report``.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tfcls.data.formats import READERS, Bad, DataError, decode, json_type, preview
from tfcls.data.text import clean_text, join_title_description

SUPPORTED_EXTENSIONS = tuple(READERS)  # .json, .jsonl, .csv
MAX_LISTED_PROBLEMS = 20


# --- data model ---


@dataclass(frozen=True)
class Example:
    """One labelled text; ``source`` says where it came from, for messages."""

    text: str  # the model input: join_title_description(title, description)
    label: str
    source: str  # "path:LINE" (JSONL, CSV; 1-based) or "path#samples[INDEX]" (JSON)
    title: str  # cleaned title (or cleaned `text` column)
    description: str  # cleaned description, "" if none
    weight: float = 1.0  # sample weight in fitting and calibration (feedback counts more)


def _short_source(other: str, source: str) -> str:
    """``other`` without the path it shares with ``source`` (``x.json#samples[3]`` →
    ``#samples[3]``)."""
    for sep in ("#", ":"):
        prefix = source.rpartition(sep)[0]
        if prefix and other.startswith(prefix + sep):
            return other[len(prefix) :]
    return other


@dataclass
class LoadReport:
    """What loading did: rows read, examples kept, exact duplicates skipped."""

    rows: int
    kept: int
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (skipped, kept) sources

    def summary(self) -> str:
        """One line for the command's summary output."""
        head = f"read {self.rows} rows, kept {self.kept}"
        if not self.duplicates:
            return head + ", no duplicates"
        pairs = [f"{a} = {_short_source(b, a)}" for a, b in self.duplicates[:5]]
        more = ", ..." if len(self.duplicates) > 5 else ""
        n = len(self.duplicates)
        plural = "s" if n != 1 else ""
        return f"{head}, skipped {n} exact duplicate{plural} ({', '.join(pairs)}{more})"


@dataclass
class Dataset:
    """Validated examples plus the label map (``labels[i]`` is class id ``i``)."""

    path: str
    sha256: str  # of the raw file bytes: the training-data fingerprint
    examples: list[Example]
    labels: list[str]  # sorted unique labels
    report: LoadReport

    @property
    def texts(self) -> list[str]:
        return [e.text for e in self.examples]

    @property
    def y(self) -> np.ndarray:
        """Class ids (int64), aligned with ``examples``."""
        index = self.label_map()
        return np.array([index[e.label] for e in self.examples], dtype=np.int64)

    @property
    def weights(self) -> np.ndarray:
        """Sample weights (float32), aligned with ``examples``; 1 unless the data says."""
        return np.array([e.weight for e in self.examples], dtype=np.float32)

    def label_map(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.labels)}

    def subset(self, indices: Sequence[int] | np.ndarray) -> Dataset:
        """The selected examples, with this dataset's labels (so class ids stay the same)."""
        picked = [self.examples[int(i)] for i in np.asarray(indices, dtype=np.int64).ravel()]
        return Dataset(self.path, self.sha256, picked, list(self.labels), self.report)


# --- loading ---


# optional per-row sample weights: field → (the rule, its upper bound (> 0 always), the fix)
_WEIGHT_FIELDS = {
    "weight": ("a finite number > 0", math.inf, "give a positive number (1 = ordinary)"),
    "confidence": ("a number in (0, 1]", 1.0, "give the labeller's confidence (e.g. 0.8)"),
}


def _row_weight(source: str, obj: dict[str, Any], problems: list[str]) -> float:
    """``weight`` × ``confidence`` of one row (each 1 when absent or null); a bad value is
    appended to ``problems`` (a boolean or a numeric string in JSON is not a number)."""
    weight = 1.0
    for key, (rule, upper, fix) in _WEIGHT_FIELDS.items():
        value = obj.get(key)
        if value is None:
            continue
        try:
            number = float(value) if json_type(value) == "number" else math.nan
        except OverflowError:  # an integer too large for a float
            number = math.inf
        if math.isfinite(number) and 0 < number <= upper:
            weight *= number
            continue
        problems.append(
            f"{source}: field '{key}' must be {rule}, got {json_type(value)} "
            f"{preview(value)}; {fix} or drop the field"
        )
    return weight


def _parse_row(source: str, obj: dict[str, Any], problems: list[str]) -> Example | None:
    """An Example from one object, or None after appending its problems."""
    titled = "title" in obj or "category" in obj or not ("text" in obj or "label" in obj)
    text_key, label_key = ("title", "category") if titled else ("text", "label")
    before = len(problems)
    values: dict[str, str] = {}
    for key in (text_key, "description", label_key) if titled else (text_key, label_key):
        if key not in obj:
            if key != "description":
                other = "'text' and 'label'" if titled else "'title' and 'category'"
                problems.append(f"{source}: missing field '{key}'; add it (or use {other})")
        elif isinstance(obj[key], str):
            values[key] = obj[key]
        elif not (key == "description" and obj[key] is None):
            problems.append(
                f"{source}: field '{key}' must be a string, got {json_type(obj[key])} "
                f"{preview(obj[key])}"
            )
    weight = _row_weight(source, obj, problems)
    if len(problems) > before:
        return None
    title = clean_text(values[text_key])
    description = clean_text(values.get("description", ""))
    label = values[label_key].strip()
    if not title:
        problems.append(
            f"{source}: field '{text_key}' is empty after cleaning (was "
            f"{preview(values[text_key])}); write a real {text_key} or delete the row"
        )
    if not label:
        problems.append(f"{source}: field '{label_key}' is blank; give it a label or delete it")
    if len(problems) > before:
        return None
    text = join_title_description(title, description) if titled else title
    return Example(text, label, source, title, description, weight)


def _problems_error(name: str, problems: list[str]) -> DataError:
    lines = [f"{name}: {len(problems)} problem(s); fix them all, then load again:"]
    lines += ["  " + p for p in problems[:MAX_LISTED_PROBLEMS]]
    if len(problems) > MAX_LISTED_PROBLEMS:
        lines.append(f"  … and {len(problems) - MAX_LISTED_PROBLEMS} more")
    return DataError("\n".join(lines), problems)


def load_dataset(path: str | Path, min_per_label: int = 3, min_labels: int = 2) -> Dataset:
    """Read, validate and clean a training file (.json, .jsonl or .csv; see the module doc).

    Training needs ``min_labels`` = 2; evaluation data may hold a single label.

    Raises DataError listing every problem found (up to 20 shown), each with its place.
    """
    path = Path(path)
    name = str(path)
    reader = _reader_for(path)
    if min_per_label < 1:
        raise DataError(f"min_per_label must be ≥ 1, got {min_per_label}")
    raw = _read_bytes(path)
    text = decode(raw, name)
    report, examples = _collect_examples(reader(text, name) if text.strip() else iter(()), name)
    counts = _check_label_counts(name, examples, min_per_label, min_labels)
    return Dataset(
        path=name,
        sha256=hashlib.sha256(raw).hexdigest(),
        examples=examples,
        labels=sorted(counts),
        report=report,
    )


def _reader_for(path: Path) -> Callable[[str, str], Iterator[tuple[str, Any]]]:
    """The reader for the file's extension; another extension is a DataError naming it."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise DataError(
            f"{path}: unsupported file type {path.suffix or '(no extension)'!r}; "
            f"use one of {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    return reader


def _read_bytes(path: Path) -> bytes:
    """The file's bytes; a missing or unreadable file is a DataError naming it."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: data file not found") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read the data file ({err.strerror})") from None


def _collect_examples(
    rows: Iterator[tuple[str, Any]], name: str
) -> tuple[LoadReport, list[Example]]:
    """Parse every row and keep the first of exact duplicates; raise listing every problem.

    A text seen again with another label is a problem; with the same label the later row
    is skipped and reported.
    """
    count, problems, examples = 0, [], []
    duplicates: list[tuple[str, str]] = []
    first_by_text: dict[str, Example] = {}
    for source, value in rows:
        count += 1
        if isinstance(value, Bad):
            problems.append(f"{source}: {value}")
            continue
        if not isinstance(value, dict):
            problems.append(
                f"{source}: a sample must be an object with 'title' and 'category', got "
                f"{json_type(value)} {preview(value)}"
            )
            continue
        example = _parse_row(source, value, problems)
        if example is None:
            continue
        first = first_by_text.get(example.text)
        if first is None:
            first_by_text[example.text] = example
            examples.append(example)
        elif first.label != example.label:
            problems.append(
                f"{source}: same text as {first.source} but labelled {example.label!r} here "
                f"and {first.label!r} there; keep one label ({preview(example.text)})"
            )
        else:
            duplicates.append((source, first.source))
    if count == 0:
        raise DataError(f"{name}: the file has no examples; add labelled examples to it")
    if problems:
        raise _problems_error(name, problems)
    return LoadReport(rows=count, kept=len(examples), duplicates=duplicates), examples


def _check_label_counts(
    name: str, examples: list[Example], min_per_label: int, min_labels: int
) -> Counter[str]:
    """Examples per label; raise when there are too few labels or a label is too small."""
    counts = Counter(e.label for e in examples)
    check_label_counts(name, counts, len(examples), min_per_label, min_labels)
    return counts


def check_label_counts(
    name: str, counts: Counter[str], n_examples: int, min_per_label: int, min_labels: int
) -> None:
    """Raise when ``counts`` (examples per label) has fewer than ``min_labels`` labels or
    a label has fewer than ``min_per_label`` examples (single- and multi-label data)."""
    if len(counts) < min_labels:
        found = ", ".join(map(repr, sorted(counts)))
        few = "only one label" if len(counts) == 1 else f"only {len(counts)} label(s)"
        raise DataError(
            f"{name}: {few} ({found}) in {n_examples} examples; "
            f"a classifier needs at least {min_labels} labels"
        )
    small = [
        f"label {label!r} has {n} example(s), fewer than min_per_label={min_per_label}; "
        "add examples or remove the label"
        for label, n in sorted(counts.items())
        if n < min_per_label
    ]
    if small:
        raise _problems_error(name, small)
