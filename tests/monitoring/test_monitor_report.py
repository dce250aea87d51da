"""The issue's targets on small data: ``monitor()`` flags texts of another domain served to
the tiny run, and not a same-distribution sample; acceptance drops and thin windows."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import INTENTS
from monitor_rows import other_domain_texts, same_domain_texts, verdict_rows

import tfcls
from tfcls.bundle.registry import Registry
from tfcls.monitoring import monitor

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


def _config(exported: Path, *extra: str):
    return tfcls.load_config(None, [f"serving.exported={exported}", *extra])


def _at(rows: list[dict], when: dt.datetime) -> list[dict]:
    return [{**row, "created_at": when.isoformat()} for row in rows]


@pytest.fixture()
def served(tiny_bundle, cache_dir, monkeypatch):
    """(config serving the tiny bundle, its version), with the session's encoder cache."""
    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    return _config(tiny_bundle), Registry(tiny_bundle).require_current()


def test_same_distribution_sample_is_not_flagged(served):
    config, version = served
    texts, labels = zip(*same_domain_texts(10), strict=True)  # 50 unseen HWU64 texts
    rows = _at(verdict_rows(list(texts), list(labels), version), NOW - dt.timedelta(days=1))
    report = monitor(config, now=NOW, rows=rows)
    (v,) = report.versions
    assert v.version == version and v.current and v.run is not None
    assert v.data_drift["status"] == "ok", v.data_drift
    assert v.data_drift["p_value"] >= config.monitor.mmd_p_value
    assert v.prediction_drift["status"] == "ok" and v.prediction_drift["psi"] < 0.2
    assert v.acceptance["status"] == "ok" and v.acceptance["rate"] == pytest.approx(0.9)
    assert (report.verdict, report.exit_code) == ("ok", 0)
    assert v.concept_drift["corrections"] == 5
    json.dumps(report.to_dict())  # JSON-ready


def test_texts_of_another_domain_are_flagged_as_data_drift(served):
    config, version = served
    texts = other_domain_texts(50)
    labels = [INTENTS[i % len(INTENTS)] for i in range(len(texts))]
    rows = _at(verdict_rows(texts, labels, version), NOW - dt.timedelta(hours=3))
    report = monitor(config, now=NOW, rows=rows)
    (v,) = report.versions
    assert v.data_drift["status"] == "drift", v.data_drift
    assert v.data_drift["p_value"] < config.monitor.mmd_p_value
    assert v.prediction_drift["status"] == "ok"  # balanced predictions: only the texts moved
    assert (report.verdict, report.exit_code) == ("drift", 1)
    assert any("data drift" in alarm for alarm in report.alarms)


def test_too_few_texts_is_not_enough_data_never_an_alarm(served):
    config, version = served
    texts = other_domain_texts(5)
    rows = _at(verdict_rows(texts, ["alarm_set"] * 5, version), NOW - dt.timedelta(days=2))
    report = monitor(config, now=NOW, rows=rows)
    (v,) = report.versions
    assert v.data_drift["status"] == "not enough data"
    assert v.prediction_drift["status"] == "not enough data"
    assert (report.verdict, report.exit_code) == ("not enough data", 0)


def test_acceptance_drop_against_the_previous_window_alarms(tmp_path):
    config = _config(tmp_path / "exported", "monitor.min_acceptance=0.3")  # no bundles
    texts = [f"text {i}" for i in range(40)]
    good = verdict_rows(texts, ["alarm_set"] * 40, "v1", accept_every=10)  # 90% accepted
    bad = verdict_rows(texts, ["alarm_set"] * 40, "v1", accept_every=2)  # 50%
    rows = _at(good, NOW - dt.timedelta(days=20)) + _at(bad, NOW - dt.timedelta(days=3))
    rows += _at(good, NOW - dt.timedelta(days=40))  # before both windows: ignored
    report = monitor(config, now=NOW, rows=rows)
    (v,) = report.versions
    assert v.acceptance["verdicts"] == 40 and v.acceptance["previous"]["verdicts"] == 40
    assert v.data_drift["status"] == "unavailable" and v.data_drift["reason"] == "no bundle"
    assert v.alarms == ["acceptance dropped 0.90 → 0.50 (more than max_acceptance_drop 0.1)"]
    assert report.exit_code == 1
    daily = v.acceptance["daily"]
    assert len(daily) == 15 and daily[-4]["verdicts"] == 40  # 14 days, both ends listed
    # a window of 2 days sees none of it
    assert monitor(config, days=2, now=NOW, rows=rows).verdict == "not enough data"


def test_unknown_version_is_an_error(served):
    config, _ = served
    with pytest.raises(tfcls.TfclsError, match="not an exported bundle"):
        monitor(config, now=NOW, rows=[], version="no-such-version")
