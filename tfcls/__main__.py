"""``tfcls <command> [options]``: the console script, dispatching to ``tfcls.<command>``."""

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
    "bench": "benchmarks (embedding, training, public datasets, unknown intents, browser)",
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: tfcls <command> [options]    (also: python -m tfcls.<command>)\n")
        for name, text in COMMANDS.items():
            print(f"  {name:<10} {text}")
        if argv and argv[0] not in ("-h", "--help"):
            print(f"\nerror: unknown command {argv[0]!r}", file=sys.stderr)
            return 2
        return 0
    module = importlib.import_module(
        f"tfcls.{argv[0]}.__main__" if argv[0] == "encoders" else f"tfcls.{argv[0]}"
    )
    from tfcls.cli import run

    return run(module.main, argv[1:])


if __name__ == "__main__":
    sys.exit(main())
