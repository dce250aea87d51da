"""The command layer (tfcls.cli): one dispatcher for ``tfcls <cmd>`` and ``python -m
tfcls.<cmd>``, logging set up there and not by importing the library."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tfcls import cli


def test_every_command_is_listed_and_answers_help(capsys):
    assert cli.main(["--help"]) == 0
    listed = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert f"  {name} " in listed
        with pytest.raises(SystemExit) as stop:
            cli.main([name, "--help"])
        assert stop.value.code == 0, name
        assert "usage: python -m tfcls." in capsys.readouterr().out


def test_retrain_is_a_console_command(capsys):
    """It was missing from the dispatcher: `tfcls retrain` said "unknown command"."""
    with pytest.raises(SystemExit) as stop:
        cli.main(["retrain", "--help"])
    assert stop.value.code == 0 and "--dry-run" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys):
    assert cli.main(["trian"]) == 2
    assert "unknown command 'trian'" in capsys.readouterr().err


def test_python_dash_m_runs_the_same_parser():
    proc = subprocess.run(
        [sys.executable, "-m", "tfcls.retrain", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "--dry-run" in proc.stdout


def test_importing_the_library_loads_no_tensorflow_and_sets_no_logging():
    code = (
        "import os, sys, tfcls\n"
        "import tfcls.training, tfcls.decision.rule, tfcls.feedback.schema\n"
        "assert 'tensorflow' not in sys.modules, 'tf imported'\n"
        "assert 'TF_CPP_MIN_LOG_LEVEL' not in os.environ, 'logging changed'\n"
        "from tfcls.monitoring.report import monitor\n"
        "assert tfcls.monitor is monitor, 'tfcls.monitor is no longer the function'\n"
        "assert 'tensorflow' not in sys.modules, 'tf imported by the monitor'\n"
        "try:\n"
        "    import tfcls.train\n"
        "except ImportError as err:\n"
        "    assert 'python -m tfcls.train' in str(err)\n"
        "else:\n"
        "    raise AssertionError('the command module imported')\n"
        "from tfcls.training.pipeline import train\n"
        "assert tfcls.train is train, 'tfcls.train is no longer the function'\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr


def test_the_library_exports_its_typed_results():
    import dataclasses

    import tfcls

    results = ("TrainResult", "EvaluationResult", "ExportResult", "RetrainResult")
    for name in (*results, "MonitorReport", "Suggestion", "monitor", "suggest"):
        assert name in tfcls.__all__, name
    for cls in (tfcls.BundleMetadata, tfcls.RetrainResult):
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, cls
