"""Monitoring a served model from its feedback: acceptance, data/prediction/concept drift.

``python -m tfcls.monitor`` (:mod:`tfcls.cli.monitor`) runs :func:`monitor`; one concept a
module: :mod:`~tfcls.monitoring.drift` (the statistics, on arrays),
:mod:`~tfcls.monitoring.acceptance` (rates with Wilson intervals),
:mod:`~tfcls.monitoring.corrections` (what users correct),
:mod:`~tfcls.monitoring.reference` (the served run's training texts and encoder),
:mod:`~tfcls.monitoring.checks` (each check's part of the report),
:mod:`~tfcls.monitoring.report` (per version, the verdict, :class:`MonitorReport`) and
:mod:`~tfcls.monitoring.history` (the JSON-lines history dashboards plot).
"""

from tfcls.monitoring.history import append_history, read_history
from tfcls.monitoring.report import MonitorReport, VersionReport, monitor

__all__ = ["MonitorReport", "VersionReport", "append_history", "monitor", "read_history"]
