"""Acceptance rates and Wilson intervals, corrections and their confusion, on rows by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tfcls.monitoring.acceptance import acceptance, daily_acceptance, wilson_interval
from tfcls.monitoring.corrections import correction_confusion, corrections_per_label


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_holds_the_rate_inside_zero_one(case):
    successes, n = case
    low, high = wilson_interval(successes, n)
    assert 0 <= low <= successes / n <= high <= 1


def test_wilson_interval_by_hand():
    low, high = wilson_interval(8, 10)
    assert (low, high) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def _row(day: int, action: str, predicted: str = "bug", chosen: str | None = None) -> dict:
    when = dt.datetime(2026, 11, day, 12, tzinfo=dt.UTC)
    return {
        "created_at": when.isoformat(),
        "action": action,
        "predicted_label": predicted,
        "chosen_label": chosen or predicted,
    }


def test_daily_acceptance_lists_every_day():
    rows = [_row(1, "accepted"), _row(1, "rejected"), _row(3, "accepted")]
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    daily = daily_acceptance(rows, start, dt.datetime(2026, 11, 4, tzinfo=dt.UTC))
    assert [d.date for d in daily] == ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"]
    assert [d.rate for d in daily] == [0.5, None, 1.0, None]
    assert daily[1].to_dict()["verdicts"] == 0 and (daily[1].low, daily[1].high) == (0, 1)
    total = acceptance(rows)
    assert (total.accepted, total.verdicts) == (2, 3)
    assert total.low <= 2 / 3 <= total.high


def test_corrections_per_label_and_confusion():
    rows = [
        _row(1, "corrected", "bug", "feature"),
        _row(1, "corrected", "bug", "feature"),
        _row(1, "corrected", "bug", "docs"),
        _row(1, "corrected", "docs", "bug"),
        _row(1, "accepted", "bug"),
        _row(1, "accepted", "feature"),
        _row(1, "new_category", "docs", "billing"),
    ]
    per_label = corrections_per_label(rows)
    assert list(per_label) == ["bug", "docs", "feature"]  # most corrected first
    assert per_label["bug"] == {
        "verdicts": 4,
        "corrected": 3,
        "correction_rate": 0.75,
        "share_of_corrections": 0.75,
    }
    assert per_label["docs"]["share_of_corrections"] == 0.25
    assert per_label["feature"]["corrected"] == 0
    assert correction_confusion(rows) == {"bug": {"feature": 2, "docs": 1}, "docs": {"bug": 1}}
