"""The monitor's history: one JSON line per run (``monitor.history``), for dashboards.

Each line is :func:`tfcls.monitoring.report.MonitorReport.history_record`: the run's time,
window, verdict and, per version, the scores a plot over time needs (acceptance, MMD and
its p-value, the below-floor share, PSI), without the daily breakdowns. Lines are appended
with one write and fsynced; a torn last line (a crash mid-write) is skipped when reading.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def append_history(path: str | Path, record: Mapping[str, Any]) -> None:
    """Append ``record`` as one JSON line to ``path`` (its folder created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
    with open(path, "a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def read_history(path: str | Path, limit: int | None = None) -> list[dict[str, Any]]:
    """The history's records, oldest first; only the last ``limit`` when given (0: none). A missing
    file is an empty history; lines that are not JSON objects are skipped."""
    path = Path(path)
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    if limit is None:
        return records
    return records[-limit:] if limit > 0 else []
