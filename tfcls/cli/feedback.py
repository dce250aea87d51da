"""``python -m tfcls.feedback export|backup``: the feedback store's rows out, or a copy of it.

``export --format jsonl|csv [--since DATE|TIME] [--output FILE]`` writes every column of
every row (:mod:`tfcls.feedback.export`) to stdout, or atomically to FILE;
``backup PATH [--force]`` makes a verified copy of the SQLite store while the server runs
(:mod:`tfcls.feedback.backup`; on PostgreSQL it prints the pg_dump command to use). The
summary line goes to stderr, so stdout holds only the exported rows."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tfcls.cli import common as cli
from tfcls.config import StorageConfig
from tfcls.feedback.backup import backup
from tfcls.feedback.export import FORMATS, export_file, export_rows, parse_since
from tfcls.feedback.store import FeedbackStore, StoreError


def _parser() -> argparse.ArgumentParser:
    p = cli.parser("python -m tfcls.feedback", __doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="action", required=True)
    ex = sub.add_parser(
        "export",
        help="every row as JSON Lines or CSV (stdout, or --output FILE)",
        description="Export the feedback rows in id order, every column; they read back "
        "exactly (tfcls.feedback.export.read_rows).",
    )
    ex.add_argument("--format", required=True, choices=FORMATS, help="jsonl or csv")
    ex.add_argument(
        "--since",
        metavar="DATE|TIME",
        help="only rows created at or after it: 2026-01-31 (midnight UTC) or an ISO time "
        "with offset, e.g. 2026-01-31T12:00:00+02:00",
    )
    ex.add_argument(
        "-o", "--output", metavar="FILE", help="write FILE atomically (default: stdout)"
    )
    bk = sub.add_parser(
        "backup",
        help="a verified copy of the SQLite store, taken while the server runs",
        description="Copy the SQLite feedback database to PATH (online backup: the server "
        "keeps writing). To restore, point storage.path at the copy. PostgreSQL: use pg_dump "
        "(the error prints the command).",
    )
    bk.add_argument("path", metavar="PATH", help="the backup file to create")
    bk.add_argument("--force", action="store_true", help="replace PATH if it exists")
    for command in sub.choices.values():
        cli.add_config_arguments(command, subcommand=True)
    return p


def _open(storage: StorageConfig) -> FeedbackStore:
    """The configured store; a SQLite file that does not exist is an error here (opening
    it would create an empty database, and export nothing from the wrong place)."""
    if not storage.url and storage.path and not Path(storage.path).expanduser().exists():
        raise StoreError(
            f"storage.path {Path(storage.path).expanduser().absolute()}: no feedback "
            "database there; point storage.path (--config, --set storage.path=...) at the "
            "server's database"
        )
    return FeedbackStore.open(storage)


def _export(args: argparse.Namespace, store: FeedbackStore, since: dt.datetime | None) -> int:
    if args.output:
        n = export_file(store, args.format, args.output, since, progress=True)
        where = args.output
    else:
        n, where = _export_stdout(store, args.format, since), "stdout"
    after = f", since {since.isoformat()}" if since is not None else ""
    print(f"export: {n} rows ({args.format}{after}) → {where}", file=sys.stderr)
    return 0


def _export_stdout(store: FeedbackStore, fmt: str, since: dt.datetime | None) -> int:
    """Export to stdout as UTF-8, bytes as written, whatever the locale."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a stream without bytes underneath: write text to it
        return export_rows(store, fmt, sys.stdout, since, progress=True)
    out = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    try:
        n = export_rows(store, fmt, out, since, progress=True)
        out.flush()
    except BrokenPipeError:  # `... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None
    finally:
        out.detach()
    return n


def _backup(args: argparse.Namespace, store: FeedbackStore) -> int:
    result = backup(store, args.path, force=args.force)
    print(
        f"backup: {result.rows} rows, {result.bytes / 1e6:.1f} MB → {result.path} "
        f"in {result.seconds:.1f} s",
        file=sys.stderr,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``export`` or ``backup`` on the configured feedback store."""
    args = _parser().parse_args(argv)
    config = cli.config_from(args)
    if args.action == "backup":
        with _open(config.storage) as store:
            return _backup(args, store)
    # a bad --since fails before the store is opened
    since = parse_since(args.since) if args.since is not None else None
    with _open(config.storage) as store:
        return _export(args, store, since)
