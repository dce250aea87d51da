"""Shared command-line plumbing: --config/--set, error reporting, summary lines."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from tfcls.config import Config, load_config
from tfcls.errors import TfclsError

# Lines TF 2.19 prints at import on a machine without a GPU; they are not actionable.
_TF_NOISE = re.compile(
    r"absl::InitializeLog|Unable to register cu(DNN|BLAS|FFT)|computation placer already "
    r"registered|Could not find cuda drivers|cudart_stub|oneDNN custom operations|"
    r"TensorFlow binary is optimized|rebuild TensorFlow with the appropriate compiler flags|"
    r"Attempting to register factory"
)


@contextlib.contextmanager
def captured_stderr() -> Iterator[list[str]]:
    """Capture file descriptor 2 (C++ libraries write there directly, past sys.stderr);
    the yielded list holds the captured lines once the block ends."""
    lines: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines += captured.read().decode("utf-8", "replace").splitlines()


def quiet_tensorflow() -> None:
    """Import TensorFlow without its C++ start-up chatter (CUDA probing on CPU machines).

    TF writes these lines straight to file descriptor 2 before its log level applies, so
    the import runs with fd 2 captured; any captured line that is not known noise is
    written back, so real warnings and errors still reach the user.
    Set TF_CPP_MIN_LOG_LEVEL yourself to see everything.
    """
    if "tensorflow" in sys.modules or "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        return
    # 3: also hide TF's C++ ERROR lines on CPU machines ("failed call to cuInit", oneDNN
    # int64 fallback); failures that matter surface as Python exceptions.
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    with captured_stderr() as lines:
        import tensorflow  # noqa: F401
    kept = [line for line in lines if line.strip() and not _TF_NOISE.search(line)]
    if kept:
        print("\n".join(kept), file=sys.stderr)


def child_env(cache_dir: str | os.PathLike) -> dict[str, str]:
    """Environment for running a tfcls command as a child process with its own cache.

    TF_CPP_MIN_LOG_LEVEL is dropped so the child filters TensorFlow's start-up noise
    itself (quiet_tensorflow steps aside when the variable is set).
    """
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return dict(env, TFCLS_CACHE=str(cache_dir))


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    """An ArgumentParser with the options every tfcls command takes."""
    p = argparse.ArgumentParser(prog=prog, description=description)
    add_config_arguments(p)
    return p


def add_config_arguments(p: argparse.ArgumentParser, subcommand: bool = False) -> None:
    """--config and --set; a subcommand's own copies (so they may follow its name) are
    kept apart and merged by :func:`config_args`."""
    prefix = "sub_" if subcommand else ""
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
    from tfcls.runs import latest_run

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
    """Run a command's main, turning TfclsError into a one-line message and exit code 2."""
    try:
        return main(argv)
    except TfclsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
