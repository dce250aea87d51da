"""A/B testing of model versions: sticky assignment by client id, acceptance rates.

``serving.ab`` maps versions to traffic shares. A client's share point is a hash of its
client_id, uniform in [0, 1) and the same on every request and every server process, so
a client always gets the same version while the shares stay the same. Feedback records
the version each verdict was given for; ``acceptance`` turns those rows into
per-version acceptance rates with 95% Wilson intervals.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from typing import Any


def share_point(client_id: str) -> float:
    """A stable pseudo-random number in [0, 1) for a client id (first 8 bytes of sha256)."""
    digest = hashlib.sha256(client_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_version(client_id: str | None, shares: Mapping[str, float], current: str) -> str:
    """The version a client is served: by its share point over ``shares`` (in sorted
    version order), or ``current`` when there is no A/B test or no client id."""
    if not shares or not client_id:
        return current
    point, edge = share_point(client_id), 0.0
    versions = sorted(shares)
    for version in versions:
        edge += shares[version]
        if point < edge:
            return version
    return versions[-1]  # rounding at the top end


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (sound for small n and rates near 0/1)."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def acceptance(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per model version: verdicts, accepted, acceptance rate (accepted / all verdicts)
    and its 95% interval."""
    counts: dict[str, list[int]] = {}
    for row in rows:
        c = counts.setdefault(row["model_version"], [0, 0])
        c[0] += row["action"] == "accepted"
        c[1] += 1
    out = {}
    for version, (accepted, n) in sorted(counts.items()):
        low, high = wilson(accepted, n)
        out[version] = {
            "verdicts": n,
            "accepted": accepted,
            "acceptance_rate": accepted / n,
            "ci95": [low, high],
        }
    return out
