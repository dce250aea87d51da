"""Progress lines: rate-limited, final line, silent when disabled."""

from __future__ import annotations

import io

from tfcls.progress import Progress


def test_progress_prints_counts_and_rate():
    stream = io.StringIO()
    bar = Progress("embedding", 10, "texts", stream=stream, interval=0.0)
    bar.update(4)
    bar.update(6)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("embedding: 4/10 texts (40%)")
    assert lines[-1].startswith("embedding: 10/10 texts (100%)") and "texts/s" in lines[-1]


def test_progress_disabled_or_rate_limited_is_silent():
    stream = io.StringIO()
    bar = Progress("x", 5, stream=stream, enabled=False, interval=0.0)
    bar.update(5)
    bar.close()
    slow = Progress("y", 5, stream=stream, interval=3600)
    slow.update(5)
    slow.close()
    assert stream.getvalue() == ""
