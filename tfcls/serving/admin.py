"""The operator's view: ``/admin`` (a dashboard page), its plots, and ``GET /api/monitor``.

Everything here needs the admin token (:func:`tfcls.serving.access.require_admin`): the
page answers a missing one with a Basic challenge, so a browser asks for it (any user
name, the token as password). What it shows, over the last ``monitor.days`` of feedback:

- acceptance per day and served version, with 95% intervals (from the store, live);
- drift scores over the monitor's runs (``monitor.history``, written by
  ``python -m tfcls.monitor``, which computes the embedding-space drift offline);
- the confusion implied by corrections and the most-corrected texts (live).

The plots are SVG drawn on the server (:mod:`tfcls.serving.admin_plots`); the page has no
script and no inline style, so the app's CSP holds unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from flask import Blueprint, Response, abort, jsonify
from markupsafe import escape

from tfcls.monitoring.acceptance import daily_acceptance, row_time
from tfcls.monitoring.corrections import correction_confusion, corrections_per_label
from tfcls.monitoring.history import read_history
from tfcls.serving import admin_plots
from tfcls.serving.access import require_admin
from tfcls.serving.state import state

admin = Blueprint("admin", __name__)
PLOTS = ("acceptance", "drift", "confusion")
HISTORY_SHOWN = 60  # monitor runs plotted
TOP_CORRECTED = 20


def _window_rows() -> tuple[list[dict[str, Any]], dt.datetime, dt.datetime]:
    """The feedback rows of the last ``monitor.days`` days, and the window's ends."""
    end = dt.datetime.now(dt.UTC)
    start = end - dt.timedelta(days=state().config.monitor.days)
    rows = [r for r in state().store.rows() if row_time(r) >= start]
    return rows, start, end


def _acceptance(rows: list[dict[str, Any]], start: dt.datetime, end: dt.datetime) -> dict:
    by_version: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_version.setdefault(row["model_version"], []).append(row)
    return {
        version: [r.to_dict() for r in daily_acceptance(group, start, end)]
        for version, group in sorted(by_version.items())
    }


def _most_corrected(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Texts corrected most often: text, how often, the most chosen label, what was shown."""
    chosen: dict[str, Counter[str]] = {}
    shown: dict[str, str | None] = {}
    for row in rows:
        if row["action"] == "corrected" and row.get("chosen_label"):
            chosen.setdefault(row["title"], Counter())[row["chosen_label"]] += 1
            shown[row["title"]] = row.get("predicted_label")
    top = sorted(chosen.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))[:TOP_CORRECTED]
    return [
        {
            "text": text,
            "corrections": sum(c.values()),
            "chosen": c.most_common(1)[0][0],
            "predicted": shown[text],
        }
        for text, c in top
    ]


def _drift_series(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The served (current) version's scores per monitor run, for the drift plot."""
    series = []
    for record in history:
        current = [v for v in record.get("versions", []) if v.get("current")]
        scores = current[0] if current else {}
        series.append({"at": record.get("generated_at"), **scores})
    return series


def _matrix(confusion: dict[str, dict[str, int]]) -> tuple[list[str], list[list[int]]]:
    labels = sorted({*confusion, *(c for row in confusion.values() for c in row)})
    return labels, [[confusion.get(p, {}).get(c, 0) for c in labels] for p in labels]


def monitor_numbers() -> dict[str, Any]:
    """What the dashboard shows, as JSON: live acceptance and corrections over the window,
    and the monitor's history (its latest run's drift figures first)."""
    rows, start, end = _window_rows()
    history = read_history(state().config.monitor.history, HISTORY_SHOWN)
    return {
        "window": {"start": start.isoformat(), "end": end.isoformat(), "verdicts": len(rows)},
        "acceptance": _acceptance(rows, start, end),
        "corrections_per_label": corrections_per_label(rows),
        "correction_confusion": correction_confusion(rows),
        "most_corrected": _most_corrected(rows),
        "latest_monitor_run": history[-1] if history else None,
        "history": history,
    }


@admin.get("/api/monitor")
def api_monitor() -> Any:
    """The dashboard's numbers (admin token: Bearer)."""
    require_admin()
    return jsonify(monitor_numbers())


@admin.get("/admin/plots/<name>.svg")
def plot(name: str) -> Response:
    """One dashboard plot, drawn now from the store and the monitor's history."""
    require_admin("Basic")
    if name not in PLOTS:
        abort(404)
    rows, start, end = _window_rows()
    if name == "acceptance":
        svg = admin_plots.acceptance_svg(_acceptance(rows, start, end))
    elif name == "drift":
        history = read_history(state().config.monitor.history, HISTORY_SHOWN)
        svg = admin_plots.drift_svg(_drift_series(history))
    else:
        svg = admin_plots.confusion_svg(*_matrix(correction_confusion(rows)))
    resp = Response(svg, mimetype="image/svg+xml")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@admin.get("/admin")
def dashboard() -> Response:
    """The dashboard page: the plots and the most-corrected texts (admin token: Basic)."""
    require_admin("Basic")
    numbers = monitor_numbers()
    resp = Response(_page(numbers), mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _verdict_line(latest: dict[str, Any] | None) -> str:
    if latest is None:
        return "No monitor run yet: run <code>python -m tfcls.monitor</code> (e.g. from cron)."
    alarms = ", ".join(map(str, latest.get("alarms") or [])) or "none"
    return (
        f"Last monitor run {escape(latest.get('generated_at', ''))}: "
        f"<strong>{escape(latest.get('verdict', ''))}</strong> (alarms: {escape(alarms)})."
    )


def _page(numbers: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{escape(t['text'])}</td><td>{escape(t['predicted'] or '')}</td>"
        f"<td>{escape(t['chosen'])}</td><td>{t['corrections']}</td></tr>"
        for t in numbers["most_corrected"]
    )
    table = (
        "<table><thead><tr><th>text</th><th>predicted</th><th>chosen</th>"
        f"<th>corrections</th></tr></thead><tbody>{rows}</tbody></table>"
        if rows
        else "<p>No corrections in the window.</p>"
    )
    plots = "".join(
        f'<figure><img id="plot-{name}" src="/admin/plots/{name}.svg" alt="{name} plot"></figure>'
        for name in PLOTS
    )
    window = numbers["window"]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>tfcls · admin</title>"
        '<link rel="icon" href="data:,"><link rel="stylesheet" href="/web/admin.css">'
        "</head><body><main>"
        "<h1>tfcls: the served model</h1>"
        f"<p>{window['verdicts']} verdicts from {escape(window['start'][:10])} to "
        f"{escape(window['end'][:10])}. {_verdict_line(numbers['latest_monitor_run'])}</p>"
        f'<section id="plots">{plots}</section>'
        f'<section id="most-corrected"><h2>Most corrected texts</h2>{table}</section>'
        "</main></body></html>"
    )
