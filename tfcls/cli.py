"""Shared command-line plumbing: --config/--set, error reporting, summary lines."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from tfcls.config import Config, load_config
from tfcls.errors import TfclsError


def quiet_tensorflow() -> None:
    """Silence TF's C++ start-up chatter (CUDA probing etc.) unless the user set a level."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    """An ArgumentParser with the options every tfcls command takes."""
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument("--config", metavar="FILE", help="YAML config (default: configs/default.yaml)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override one config value, e.g. --set encoder.batch_size=32 (repeatable)",
    )
    return p


def config_from(args: argparse.Namespace) -> Config:
    """The config named by --config with --set overrides applied."""
    return load_config(args.config, args.overrides)


def run(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> int:
    """Run a command's main, turning TfclsError into a one-line message and exit code 2."""
    try:
        return main(argv)
    except TfclsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
