"""Acceptance: how often users take the model's prediction, per day and over a window.

A verdict is any feedback row (accepted, rejected, corrected, new_category); its
acceptance rate is the share of ``accepted``. Each rate comes with its 95% Wilson score
interval, which (unlike the normal approximation) stays inside [0, 1] and is sensible for
the few verdicts of a quiet day, so a dashboard can show how much a daily dip means.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

Z_95 = 1.959963984540054  # the standard normal's 97.5% quantile


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``successes``/``n`` (default 95%); (0, 1)
    when ``n`` is 0 (nothing is known)."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 ≤ successes ≤ n, got {successes} of {n}")
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # exact bounds hold the rate (at 0 and 1 too), whatever the rounding
    return max(0.0, min(centre - half, p)), min(1.0, max(centre + half, p))


@dataclass(frozen=True)
class Rate:
    """``accepted`` of ``verdicts`` with its Wilson interval; ``rate`` None without verdicts.
    ``date`` names the day (ISO, UTC) of a daily rate, None for a window's."""

    accepted: int
    verdicts: int
    rate: float | None
    low: float
    high: float
    date: str | None = None

    @classmethod
    def of(cls, accepted: int, verdicts: int, date: str | None = None) -> Rate:
        low, high = wilson_interval(accepted, verdicts)
        rate = accepted / verdicts if verdicts else None
        return cls(accepted, verdicts, rate, low, high, date)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def row_time(row: Mapping[str, Any]) -> dt.datetime:
    """A feedback row's ``created_at`` as an aware UTC datetime (naive ones taken as UTC)."""
    when = dt.datetime.fromisoformat(str(row["created_at"]))
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def acceptance(rows: Iterable[Mapping[str, Any]]) -> Rate:
    """The acceptance rate of ``rows`` (any window)."""
    actions = [row["action"] for row in rows]
    return Rate.of(sum(a == "accepted" for a in actions), len(actions))


def daily_acceptance(
    rows: Iterable[Mapping[str, Any]], start: dt.datetime, end: dt.datetime
) -> list[Rate]:
    """One :class:`Rate` per UTC day from ``start``'s to ``end``'s, oldest first; a day
    without verdicts is listed too (rate None, interval (0, 1)), so a plot has no gaps."""
    counts: dict[dt.date, list[int]] = {}
    for row in rows:
        day = row_time(row).date()
        tally = counts.setdefault(day, [0, 0])
        tally[0] += row["action"] == "accepted"
        tally[1] += 1
    first, last = start.astimezone(dt.UTC).date(), end.astimezone(dt.UTC).date()
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return [Rate.of(*counts.get(day, [0, 0]), date=day.isoformat()) for day in days]
