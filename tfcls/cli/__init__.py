"""The commands: ``tfcls <command> [options]`` and ``python -m tfcls.<command>``.

Each command is a thin module here (``tfcls.cli.train`` …) that parses its arguments,
calls the library and prints one summary line; both entry points go through
:func:`main`, so they share one parser per command. TensorFlow's start-up chatter is
filtered here, before a command imports TensorFlow, never by importing the library.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

COMMANDS = {
    "train": "train a classifier (KerasTuner head on a sentence encoder)",
    "predict": "top categories for texts from a trained run",
    "evaluate": "metrics, calibration, error analysis and report.html for a run",
    "encoders": "build, inspect and try sentence encoders",
    "export": "TF.js bundle of a run (measured fidelity, atomic publishing, rollback)",
    "serve": "the web client, bundles and feedback API (Flask)",
    "retrain": "learn from feedback: train a candidate, gate it, promote it",
    "feedback": "export feedback (jsonl/csv) and back up the store",
    "monitor": "drift, acceptance and corrections of the served model (exit 1: drift)",
    "label": "what to label next: uncertain, diverse texts to a CSV/JSONL to fill in",
    "bench": "benchmarks (embedding, training, public datasets, unknown intents, browser)",
}


def usage() -> str:
    """The command list, as ``tfcls --help`` prints it."""
    lines = ["usage: tfcls <command> [options]    (also: python -m tfcls.<command>)", ""]
    lines += [f"  {name:<10} {text}" for name, text in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``tfcls <command> ...``; the exit code (2 for a usage or tfcls error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    if argv[0] not in COMMANDS:
        print(usage())
        print(f"\nerror: unknown command {argv[0]!r}", file=sys.stderr)
        return 2
    return command(argv[0], argv[1:])


def command(name: str, argv: Sequence[str]) -> int:
    """Run one command's main with TensorFlow quieted and errors turned into exit codes."""
    from tfcls import console
    from tfcls.cli.common import run

    console.quiet_tensorflow()
    module = importlib.import_module(f"tfcls.cli.{name}")
    return run(module.main, argv)
