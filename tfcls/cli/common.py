"""Shared command-line plumbing: --config/--set, --quiet, --run, error reporting."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tfcls import progress
from tfcls.config import Config, load_config
from tfcls.errors import TfclsError


def child_env(cache_dir: str | os.PathLike) -> dict[str, str]:
    """Environment for running a tfcls command as a child process with its own cache.

    TF_CPP_MIN_LOG_LEVEL is dropped so the child filters TensorFlow's start-up noise
    itself (quiet_tensorflow steps aside when the variable is set).
    """
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return dict(env, TFCLS_CACHE=str(cache_dir))


class _Quiet(argparse.Action):
    """``--quiet``: sets the process-wide switch as it is parsed (:func:`tfcls.progress.set_quiet`),
    so every command has it without doing anything with the parsed value."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        progress.set_quiet(True)
        setattr(namespace, self.dest, True)


def add_quiet_argument(p: argparse.ArgumentParser, dest: str = "quiet") -> None:
    """``--quiet``/``-q``: no progress bars or progress lines (errors, warnings and the
    summary line are still printed)."""
    p.add_argument(
        "-q",
        "--quiet",
        dest=dest,
        nargs=0,
        action=_Quiet,
        default=False,
        help="no progress output on stderr (errors and the summary line still print)",
    )


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    """An ArgumentParser with the options every tfcls command takes."""
    p = argparse.ArgumentParser(prog=prog, description=description)
    add_config_arguments(p)
    return p


def add_config_arguments(p: argparse.ArgumentParser, subcommand: bool = False) -> None:
    """--config, --set and --quiet; a subcommand's own copies (so they may follow its name) are
    kept apart and merged by :func:`config_args`."""
    prefix = "sub_" if subcommand else ""
    add_quiet_argument(p, f"{prefix}quiet")
    p.add_argument(
        "--config",
        dest=f"{prefix}config",
        metavar="FILE",
        help="YAML config (default: configs/default.yaml)",
    )
    p.add_argument(
        "--set",
        dest=f"{prefix}overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override one config value, e.g. --set encoder.batch_size=32 (repeatable)",
    )


def add_run_argument(p: argparse.ArgumentParser) -> None:
    """``--run RUN_DIR``, defaulting to the latest finished run (see :func:`run_dir_from`)."""
    p.add_argument(
        "--run",
        metavar="RUN_DIR",
        help="a finished training run (default: the latest in train.output_dir)",
    )


def run_dir_from(args: argparse.Namespace) -> Path:
    """The run named by --run, else the latest finished run under train.output_dir."""
    from tfcls.training.runs import latest_run

    return Path(args.run) if args.run else latest_run(config_from(args).train.output_dir)


def config_args(args: argparse.Namespace) -> tuple[str | None, list[str]]:
    """(--config, every --set in order), given before or after a subcommand's name."""
    path, sub_path = args.config, getattr(args, "sub_config", None)
    if path and sub_path and path != sub_path:
        raise TfclsError(f"--config given twice ({path} and {sub_path}); pass one")
    return path or sub_path, [*args.overrides, *getattr(args, "sub_overrides", [])]


def config_from(args: argparse.Namespace) -> Config:
    """The config named by --config with --set overrides applied."""
    return load_config(*config_args(args))


def run(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> int:
    """Run a command's main, turning TfclsError into a one-line message and exit code 2.

    The quiet switch (``--quiet``) is put back as it was afterwards, so a command run
    in-process leaves its caller's progress output alone."""
    was_quiet = progress.is_quiet()
    try:
        return main(argv)
    except TfclsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        progress.set_quiet(was_quiet)
