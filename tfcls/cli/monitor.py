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


def summary(report: MonitorReport) -> list[str]:
    """The human summary: per version, one line a check."""
    d = report.to_dict()
    lines = [f"monitor: {d['window']['days']} days to {d['window']['end']}"]
    for v in d["versions"]:
        a, dd, pd, cd = v["acceptance"], v["data_drift"], v["prediction_drift"], v["concept_drift"]
        lines.append(f"  {v['version']}{' (current)' if v['current'] else ''}: {v['status']}")
        lines.append(
            f"    acceptance: {a['accepted']}/{a['verdicts']} = {_number(a['rate'], '.2f')} "
            f"[{a['low']:.2f}, {a['high']:.2f}] (previous window "
            f"{_number(a['previous']['rate'], '.2f')} of {a['previous']['verdicts']}) "
            f"→ {a['status']}"
        )
        lines.append(_check_line("data drift", dd, (
            f"MMD² {_number(dd['mmd'], '.4f')} p={_number(dd['p_value'], '.3f')}, "
            f"{_number(dd['below_floor_share'], '.0%')} below similarity {dd['similarity_floor']}"
        )))  # fmt: skip
        lines.append(_check_line("prediction drift", pd, (
            f"PSI {_number(pd['psi'], '.3f')} (chi-square p={_number(pd['p_value'], '.3g')})"
        )))  # fmt: skip
        top = [f"{p} → {c} ×{n}" for p, row in cd["confusion"].items() for c, n in row.items()]
        lines.append(
            f"    corrections: {cd['corrections']}" + (f" ({', '.join(top[:3])})" if top else "")
        )
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
