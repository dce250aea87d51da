"""The monitor: recent feedback per served version → acceptance, drift, corrections, verdict.

:func:`monitor` reads the feedback of the last ``days`` days (``monitor.days``) and, for
each model version that got verdicts in it (and the current one), reports:

- ``acceptance``: the window's share of ``accepted`` verdicts with its 95% Wilson interval,
  the previous window's (the ``days`` before) and one rate per day;
- ``data_drift``: recent texts (title and description joined as in training) against the
  version's training texts in the run's embedding space: MMD² with a permutation p-value,
  and the share of recent texts below a similarity floor (``monitor.similarity_floor``,
  or by default the training texts' own ``monitor.floor_quantile``) of their nearest
  training text;
- ``prediction_drift``: the predicted labels against the training labels: PSI and a
  chi-square p-value;
- ``concept_drift``: corrections per predicted label and the confusion they imply.

A check with fewer than ``monitor.min_texts`` texts (verdicts) says ``not enough data``
and never alarms. The verdict is ``drift`` when any threshold is crossed (exit code 1,
for cron), else ``ok`` (or ``not enough data``; exit code 0).

``MonitorReport.to_dict()`` (what ``--json`` writes; JSON-ready)::

    generated_at    ISO UTC time of the run
    window          {days, start, end}: feedback with start < created_at ≤ end
    thresholds      the monitor config section as used
    verdict         "drift" | "ok" | "not enough data"
    exit_code       1 for drift, else 0
    alarms          ["<version>: <why>", ...]
    versions        one per version, current first, then newest first:
      version, current (bool), run (its training run directory or null),
      status ("drift" | "ok" | "not enough data"), alarms [why, ...],
      actions       {accepted, rejected, corrected, new_category: count}
      acceptance    {rate, low, high, accepted, verdicts, status,
                     previous: {rate, low, high, accepted, verdicts},
                     daily: [{date, rate, low, high, accepted, verdicts}, ...]}
      data_drift    {status, reason, texts, reference_texts, compared (texts per side
                     after subsampling), mmd, p_value, permutations,
                     below_floor_share, similarity_floor (as used),
                     floor_source ("config" or "training texts' <q> quantile")}
      prediction_drift {status, reason, texts, psi, chi_square, p_value, dof,
                     expected {label: share}, actual {label: share}}
      concept_drift {corrections, per_label {label: {verdicts, corrected,
                     correction_rate, share_of_corrections}},
                     confusion {predicted: {chosen: count}}}

``status`` of a check: ``ok``, ``drift``, ``not enough data`` or ``unavailable`` (with a
``reason``: the version's bundle is gone, or its run is multi-label). Numbers a check did
not compute are null. :meth:`MonitorReport.history_record` is the one line appended to
``monitor.history`` (:mod:`tfcls.monitoring.history`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfcls import progress
from tfcls.data.text import join_title_description
from tfcls.errors import TfclsError
from tfcls.feedback.schema import ACTIONS
from tfcls.monitoring.acceptance import daily_acceptance, row_time
from tfcls.monitoring.checks import (
    DRIFT,
    FEW,
    OK,
    Row,
    acceptance_check,
    concept_drift,
    data_drift,
    prediction_drift,
)
from tfcls.monitoring.reference import Reference, load_reference

if TYPE_CHECKING:
    from tfcls.bundle.registry import Registry
    from tfcls.config import Config, MonitorConfig


@dataclass
class VersionReport:
    """One version's checks (see the module doc for the fields)."""

    version: str
    current: bool
    run: str | None
    actions: dict[str, int]
    acceptance: dict[str, Any]
    data_drift: dict[str, Any]
    prediction_drift: dict[str, Any]
    concept_drift: dict[str, Any]
    alarms: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """drift (an alarm), ok (a check judged fine), else not enough data."""
        if self.alarms:
            return DRIFT
        checks = (self.acceptance, self.data_drift, self.prediction_drift)
        return OK if any(c["status"] == OK for c in checks) else FEW

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "status": self.status}


@dataclass
class MonitorReport:
    """The monitor's findings over one window (see the module doc for ``to_dict``)."""

    generated_at: dt.datetime
    days: int
    thresholds: dict[str, Any]
    versions: list[VersionReport]

    @property
    def start(self) -> dt.datetime:
        return self.generated_at - dt.timedelta(days=self.days)

    @property
    def alarms(self) -> list[str]:
        return [f"{v.version}: {why}" for v in self.versions for why in v.alarms]

    @property
    def verdict(self) -> str:
        if self.alarms:
            return DRIFT
        return OK if any(v.status == OK for v in self.versions) else FEW

    @property
    def exit_code(self) -> int:
        """1 when drifting (or acceptance dropped), else 0: what cron acts on."""
        return 1 if self.verdict == DRIFT else 0

    def _window(self) -> dict[str, Any]:
        return {"days": self.days, "start": _iso(self.start), "end": _iso(self.generated_at)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "generated_at": _iso(self.generated_at),
            "window": self._window(),
            "thresholds": dict(self.thresholds),
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "alarms": self.alarms,
            "versions": [v.to_dict() for v in self.versions],
        }

    def history_record(self) -> dict[str, Any]:
        """The scores a plot over time needs: one line of ``monitor.history``."""
        return {
            "generated_at": _iso(self.generated_at),
            "window": self._window(),
            "verdict": self.verdict,
            "alarms": self.alarms,
            "versions": [_history_scores(v) for v in self.versions],
        }


def _history_scores(v: VersionReport) -> dict[str, Any]:
    d, p, a = v.data_drift, v.prediction_drift, v.acceptance
    return {
        "version": v.version,
        "current": v.current,
        "status": v.status,
        "verdicts": a["verdicts"],
        "acceptance": a["rate"],
        "acceptance_low": a["low"],
        "acceptance_high": a["high"],
        "texts": d["texts"],
        "mmd": d["mmd"],
        "mmd_p_value": d["p_value"],
        "below_floor_share": d["below_floor_share"],
        "similarity_floor": d["similarity_floor"],
        "psi": p["psi"],
        "chi_square_p_value": p["p_value"],
        "corrections": v.concept_drift["corrections"],
    }


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="seconds")


class _References:
    """Each version's :class:`Reference`, loaded once per run directory."""

    def __init__(self, registry: Registry, current: str | None) -> None:
        self.registry, self.current = registry, current
        self._by_run: dict[Path, Reference] = {}

    def run_of(self, version: str) -> Path | None:
        meta = self.registry.metadata(version)
        return None if meta is None else meta.require_run()

    def get(self, version: str) -> Reference | None:
        """None for a version without a bundle; a run that cannot be read is an error for
        the current version, and None (the checks "unavailable") for an older one."""
        try:
            run = self.run_of(version)
            if run is None:
                return None
            if run not in self._by_run:
                self._by_run[run] = load_reference(run)
            return self._by_run[run]
        except TfclsError:
            if version == self.current:
                raise
            return None


def _version_report(
    version: str,
    now: Sequence[Row],
    before: Sequence[Row],
    refs: _References,
    window: tuple[dt.datetime, dt.datetime, MonitorConfig],
) -> VersionReport:
    """One version's checks over ``window`` (start, end, the monitor config): ``now`` its
    rows in it, ``before`` those of the previous window."""
    start, end, cfg = window
    progress.log(f"monitor: version {version}: {len(now)} verdicts")
    reference = refs.get(version)
    texts = [join_title_description(r["title"], r.get("description")) for r in now]
    predicted = [r["predicted_label"] for r in now if r.get("predicted_label") is not None]
    checks = {
        "acceptance": acceptance_check(now, before, cfg),
        "data_drift": data_drift(texts, reference, cfg),
        "prediction_drift": prediction_drift(predicted, reference, cfg),
    }
    alarms = [why for check in checks.values() for why in check.pop("alarms")]
    checks["acceptance"]["daily"] = [r.to_dict() for r in daily_acceptance(now, start, end)]
    counts = Counter(row["action"] for row in now)
    return VersionReport(
        version=version,
        current=version == refs.current,
        run=None if reference is None else str(reference.run_dir),
        actions={action: counts.get(action, 0) for action in ACTIONS},
        concept_drift=concept_drift(now),
        alarms=alarms,
        **checks,
    )


def _split_windows(
    rows: Sequence[Row], end: dt.datetime, days: int
) -> tuple[dict[str, list[Row]], dict[str, list[Row]]]:
    """Rows by version: (this window's, the previous window's)."""
    start, earlier = end - dt.timedelta(days=days), end - dt.timedelta(days=2 * days)
    now: dict[str, list[Row]] = {}
    before: dict[str, list[Row]] = {}
    for row in rows:
        when = row_time(row)
        if start < when <= end:
            now.setdefault(row["model_version"], []).append(row)
        elif earlier < when <= start:
            before.setdefault(row["model_version"], []).append(row)
    return now, before


def monitor(
    config: Config,
    days: int | None = None,
    now: dt.datetime | None = None,
    version: str | None = None,
    rows: Sequence[Row] | None = None,
) -> MonitorReport:
    """Judge the feedback of the ``days`` (default ``monitor.days``) before ``now``
    (default: the current time) per served version, or for ``version`` only; ``rows``
    replaces reading ``config.storage`` (tests, notebooks)."""
    from tfcls.bundle.registry import Registry

    cfg = dataclasses.replace(config.monitor, days=days) if days else config.monitor
    end = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    registry = Registry(Path(config.serving.exported))
    current = registry.current()
    if version is not None and registry.metadata(version) is None:
        raise TfclsError(f"--version {version}: not an exported bundle in {registry.root}")
    rows = _read_rows(config) if rows is None else rows
    by_version, previous = _split_windows(rows, end, cfg.days)
    names = [version] if version else sorted({*by_version, current} - {None}, reverse=True)
    names.sort(key=lambda v: v != current)  # current first, then newest first (stable sort)
    refs = _References(registry, current)
    window = (end - dt.timedelta(days=cfg.days), end, cfg)
    reports = [
        _version_report(v, by_version.get(v, []), previous.get(v, []), refs, window) for v in names
    ]
    return MonitorReport(end, cfg.days, dataclasses.asdict(cfg), reports)


def _read_rows(config: Config) -> list[dict[str, Any]]:
    from tfcls.feedback.store import FeedbackStore

    store = FeedbackStore.open(config.storage)
    try:
        return store.rows()
    finally:
        store.close()
