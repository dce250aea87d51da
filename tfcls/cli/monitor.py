"""``python -m tfcls.monitor [--days N] [--json OUT] [--version V]``: is the served model drifting?

Over the feedback of the last days, per served version: acceptance, data drift, prediction
drift and corrections (:func:`tfcls.monitoring.monitor`). Exit status for cron: 0 fine (or
not enough data to judge), 1 drift or an acceptance drop, 2 a usage or tfcls error. Each run
appends one line to ``monitor.history``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tfcls.cli import common as cli
from tfcls.errors import TfclsError
from tfcls.monitoring import MonitorReport, append_history, monitor
from tfcls.training.runs import write_json


def _parser() -> argparse.ArgumentParser:
    p = cli.parser("python -m tfcls.monitor", __doc__.split("\n\n")[0])
    p.add_argument("--days", type=int, metavar="N", help="the window (default: monitor.days)")
    p.add_argument("--json", metavar="OUT", help="write the full report as JSON to OUT")
    p.add_argument("--version", metavar="V", help="judge this exported version only")
    p.add_argument("--no-history", action="store_true", help="do not append to monitor.history")
    return p


def _number(value: Any, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _check_line(name: str, check: dict[str, Any], scores: str) -> str:
    if check["status"] in ("ok", "drift"):
        return f"    {name}: {scores} → {check['status']}"
    return f"    {name}: {check['status']} ({check['reason']})"


def _acceptance_line(a: dict[str, Any]) -> str:
    previous = a["previous"]
    return (
        f"    acceptance: {a['accepted']}/{a['verdicts']} = {_number(a['rate'], '.2f')} "
        f"[{a['low']:.2f}, {a['high']:.2f}] (previous window {_number(previous['rate'], '.2f')} "
        f"of {previous['verdicts']}) → {a['status']}"
    )


def _data_line(d: dict[str, Any]) -> str:
    scores = (
        f"MMD² {_number(d['mmd'], '.4f')} p={_number(d['p_value'], '.3f')}, "
        f"{_number(d['below_floor_share'], '.0%')} of texts below similarity "
        f"{_number(d['similarity_floor'], '.3f')}"
    )
    return _check_line("data drift", d, scores)


def _prediction_line(p: dict[str, Any]) -> str:
    scores = f"PSI {_number(p['psi'], '.3f')} (chi-square p={_number(p['p_value'], '.3g')})"
    return _check_line("prediction drift", p, scores)


def _corrections_line(c: dict[str, Any]) -> str:
    top = [f"{p} → {k} ×{n}" for p, row in c["confusion"].items() for k, n in row.items()]
    return f"    corrections: {c['corrections']}" + (f" ({', '.join(top[:3])})" if top else "")


def summary(report: MonitorReport) -> list[str]:
    """The human summary: per version its status, then one line a check; the alarms."""
    d = report.to_dict()
    lines = [f"monitor: {d['window']['days']} days to {d['window']['end']}"]
    for v in d["versions"]:
        lines.append(f"  {v['version']}{' (current)' if v['current'] else ''}: {v['status']}")
        lines.append(_acceptance_line(v["acceptance"]))
        lines.append(_data_line(v["data_drift"]))
        lines.append(_prediction_line(v["prediction_drift"]))
        lines.append(_corrections_line(v["concept_drift"]))
    lines += [f"  alarm: {alarm}" for alarm in d["alarms"]]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.days is not None and args.days < 1:
        raise TfclsError(f"--days must be ≥ 1, got {args.days}")
    config = cli.config_from(args)
    report = monitor(config, days=args.days, version=args.version)
    if args.json:
        write_json(Path(args.json), report.to_dict())
    if not args.no_history:
        append_history(config.monitor.history, report.history_record())
    print("\n".join(summary(report)))
    verdicts = sum(v.acceptance["verdicts"] for v in report.versions)
    tail = f"; {'; '.join(report.alarms)}" if report.alarms else ""
    print(
        f"monitor: {report.verdict} ({len(report.versions)} versions, {verdicts} verdicts "
        f"in {report.days} days){tail}",
        file=sys.stderr,
    )
    return report.exit_code
