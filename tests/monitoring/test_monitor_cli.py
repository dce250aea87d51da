"""``python -m tfcls.monitor`` end to end: a real SQLite store, the tiny exported bundle,
exit 0 without drift, 1 with it, 2 for a bad option; the history grows a line a run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import INTENTS, child_env
from monitor_rows import other_domain_texts, same_domain_texts, verdict_rows

from tfcls.bundle.registry import Registry
from tfcls.cli import command
from tfcls.feedback.store import FeedbackStore
from tfcls.monitoring import read_history


@pytest.fixture()
def setup(tiny_bundle, cache_dir, tmp_path, monkeypatch):
    """(config file, SQLite store, history path, served version)."""
    monkeypatch.setenv("TFCLS_CACHE", str(cache_dir))
    db, history = tmp_path / "fb.sqlite3", tmp_path / "var" / "monitor.jsonl"
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "serving": {"exported": str(tiny_bundle)},
                "storage": {"path": str(db)},
                "monitor": {"history": str(history)},
            }
        )
    )
    store = FeedbackStore.from_url(f"sqlite:///{db}")
    yield config, store, history, Registry(tiny_bundle).require_current()
    store.close()


def test_monitor_exits_0_then_1_and_appends_history(setup, tmp_path, capsys, cache_dir):
    config, store, history, version = setup
    texts, labels = zip(*same_domain_texts(10), strict=True)
    store.add_many(verdict_rows(list(texts), list(labels), version))
    out = tmp_path / "report.json"
    assert command("monitor", ["--config", str(config), "--json", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines()[-1].startswith("monitor: ok (1 versions, 50 verdicts")
    assert f"{version} (current): ok" in captured.out
    report = json.loads(out.read_text())
    assert report["verdict"] == "ok" and report["versions"][0]["data_drift"]["status"] == "ok"
    assert len(read_history(history)) == 1

    tickets = other_domain_texts(60)
    labels = [INTENTS[i % len(INTENTS)] for i in range(len(tickets))]
    store.add_many(verdict_rows(tickets, labels, version))
    proc = subprocess.run(
        [sys.executable, "-m", "tfcls.monitor", "--config", str(config), "--quiet"],
        env=child_env(cache_dir), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("monitor: drift (1 versions, 110")
    records = read_history(history)
    assert len(records) == 2 and [r["verdict"] for r in records] == ["ok", "drift"]
    assert records[-1]["versions"][0]["mmd_p_value"] < 0.01
    assert read_history(history, limit=1) == records[-1:]


def test_bad_options_exit_2(setup, capsys):
    config, _, history, _ = setup
    assert command("monitor", ["--config", str(config), "--days", "0"]) == 2
    assert command("monitor", ["--config", str(config), "--version", "nope"]) == 2
    assert command("monitor", ["--config", str(config), "--set", "monitor.psi=-1"]) == 2
    assert "monitor.psi must be > 0" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:  # argparse: usage error, status 2
        command("monitor", ["--config", str(config), "--no-such-option"])
    assert exit_info.value.code == 2
    assert not Path(history).exists()


def test_the_command_module_is_not_importable():
    with pytest.raises(ImportError, match=r"python -m tfcls\.monitor"):
        import tfcls.monitor  # noqa: F401
