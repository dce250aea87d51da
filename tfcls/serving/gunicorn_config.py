"""gunicorn hooks for Prometheus metrics over several workers (:mod:`tfcls.serving.metrics`).

Each gunicorn worker is its own process with its own counters, and a scrape of
``/metrics`` reaches one of them; in prometheus_client's multiprocess mode every worker
writes its values to files in ``$PROMETHEUS_MULTIPROC_DIR`` and the worker that answers a
scrape adds them all up. The recipe::

    PROMETHEUS_MULTIPROC_DIR=/var/lib/tfcls/prom gunicorn -c python:tfcls.serving.gunicorn_config \\
        -k gthread -w 2 --threads 16 -b 127.0.0.1:8000 'tfcls.serving.app:create_app()'

The folder is tfcls's own (nothing else in it: a scrape reads every ``*.db`` there),
writable by the workers; this module creates it when missing. Only these hooks are set
here (``-k``, ``-w``, ``--threads``, ``-b`` stay on the command line):

- :func:`on_starting` (the master, once): empties the folder of the files a previous run
  wrote, so counters start at zero with the server (Prometheus reads a restart as a
  counter reset) and no dead process's values linger.
- :func:`child_exit` (the master, each time a worker ends, killed ones included):
  :func:`prometheus_client.multiprocess.mark_process_dead`, which drops the worker's
  live-gauge files. Its counters and histograms stay: requests it answered still count.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from prometheus_client import multiprocess

from tfcls.serving.metrics import MULTIPROC_ENV, multiproc_dir

# the names prometheus_client gives its files: <type>[_<gauge mode>]_<process id>.db
CLIENT_FILE = re.compile(r"(counter|histogram|summary|gauge_[a-z]+)_[\w.-]+\.db")


def clear_multiproc_dir(folder: Path) -> list[Path]:
    """Delete the files prometheus_client wrote in ``folder`` (created if missing); the
    ones deleted. Any other ``*.db`` there is refused, not deleted: it is someone else's
    (a SQLite database?), and every scrape would fail trying to read it as metrics."""
    folder.mkdir(parents=True, exist_ok=True)
    ours, others = [], []
    for path in sorted(folder.glob("*.db")):
        if path.is_file() and not path.is_symlink() and CLIENT_FILE.fullmatch(path.name):
            ours.append(path)
        else:
            others.append(path.name)
    if others:
        raise RuntimeError(
            f"${MULTIPROC_ENV}={folder} holds files that are not Prometheus metrics "
            f"({', '.join(others)}): give the metrics a folder of their own"
        )
    for path in ours:
        path.unlink()
    return ours


def on_starting(server: Any) -> None:
    """gunicorn hook: start with an empty metrics folder (multiprocess mode), or warn that
    with several workers and no folder each scrape shows one worker's counts."""
    folder = multiproc_dir()
    if folder is None:
        if server.cfg.workers > 1:
            server.log.warning(
                "$%s is not set: with %d workers, /metrics shows the counts of whichever "
                "worker answers (see tfcls.serving.gunicorn_config)",
                MULTIPROC_ENV,
                server.cfg.workers,
            )
        return
    removed = clear_multiproc_dir(Path(folder))
    server.log.info("metrics in %s (%d old files removed)", folder, len(removed))


def child_exit(server: Any, worker: Any) -> None:
    """gunicorn hook: a worker ended; drop its live gauges (multiprocess mode only)."""
    if multiproc_dir() is not None:
        multiprocess.mark_process_dead(worker.pid)
