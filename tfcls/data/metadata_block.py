"""The ``metadata`` block of a JSON training file, checked against its samples.

Files exported from other systems carry a summary beside the samples, e.g. ``{"metadata":
{"total_samples": 120, "class_distribution": {"000": 40, ...}}, "samples": [...]}``. When
such a summary is there it must agree with the samples as read: a stated sample count
(:data:`COUNT_KEYS`) and a label → count distribution (:data:`DISTRIBUTION_KEYS`). A
disagreement means the file was cut, edited or exported wrongly, so it is an error naming
``path#metadata.<key>``, what is stated and what is counted. Unknown keys are kept.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from tfcls.data.formats import json_type, preview

COUNT_KEYS = ("total_samples", "num_samples", "n_samples", "sample_count", "count")
DISTRIBUTION_KEYS = (
    "class_distribution",
    "label_distribution",
    "label_counts",
    "taxonomy_distribution",
)


def metadata_problems(
    name: str, metadata: Any, parsed: list[tuple[str, Any]], complete: bool
) -> list[str]:
    """How a JSON ``metadata`` block disagrees with the samples as read (duplicates
    included). The count is checked always; the distribution only when every row parsed
    (``complete``), since a broken row's labels are unknown. Unknown keys are not checked."""
    place = f"{name}#metadata"
    if not isinstance(metadata, dict):
        return [f"{place}: must be an object, got {json_type(metadata)} {preview(metadata)}"]
    fix = "update the metadata block or the samples"
    problems = []
    for key in (k for k in COUNT_KEYS if k in metadata):
        stated = metadata[key]
        if not _is_count(stated):
            problems.append(
                f"{place}.{key}: must be a whole number ≥ 0, got {json_type(stated)} "
                f"{preview(stated)}"
            )
        elif stated != len(parsed):
            problems.append(
                f"{place}.{key}: states {stated} samples but the file has {len(parsed)} "
                f"(every entry of samples, duplicates included); {fix}"
            )
    for key in (k for k in DISTRIBUTION_KEYS if k in metadata):
        problem = _distribution_problem(f"{place}.{key}", metadata[key], parsed, complete)
        problems += [problem] if problem else []
    return problems


def _is_count(value: Any) -> bool:
    """A JSON whole number ≥ 0 (5 or 5.0; not true, "5", 5.5, NaN or Infinity)."""
    if json_type(value) != "number" or (isinstance(value, float) and not value.is_integer()):
        return False
    return value >= 0


def _distribution_problem(
    place: str, stated: Any, parsed: list[tuple[str, Any]], complete: bool
) -> str | None:
    """Why a stated label → count mapping is malformed or differs from the counted one."""
    if not isinstance(stated, dict):
        return f"{place}: must be an object of label → count, got {json_type(stated)}"
    bad = [(k, v) for k, v in stated.items() if not _is_count(v)]
    if bad:
        k, v = bad[0]
        return f"{place}.{k}: must be a whole number ≥ 0, got {json_type(v)} {preview(v)}"
    if not complete:
        return None
    says = {str(k).strip(): int(v) for k, v in stated.items()}
    counted = Counter(label for _, e in parsed if e is not None for label in e.labels)
    differ = [k for k in sorted(says.keys() | counted.keys()) if says.get(k, 0) != counted[k]]
    if not differ:
        return None
    shown = "; ".join(
        f"{k!r} stated {says.get(k, 'none')}, counted {counted[k]}" for k in differ[:5]
    )
    more = f" (and {len(differ) - 5} more labels)" if len(differ) > 5 else ""
    return (
        f"{place}: {len(differ)} label count(s) differ from the samples (samples carrying each "
        f"label, duplicates included): {shown}{more}; update the metadata block or the samples"
    )
