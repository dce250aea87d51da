"""kill -9 under load loses no acknowledged feedback.

gunicorn in the benchmark's setup (tfcls.bench.feedback_load: gthread workers, group
commit) over a temp SQLite store; client threads POST verdicts and record the id of every
201; mid-load the whole process group gets SIGKILL (no graceful stop, no close(), no
checkpoint). Every acknowledged id must then be in the store, with its title: a 201 is
sent only after its transaction committed.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

from tfcls.bench.feedback_load import (
    DEFAULT_THREADS,
    DEFAULT_WORKERS,
    NO_ANSWER,
    client_ids,
    feedback_body,
    free_port,
    post_feedback,
    start_gunicorn,
    stop_gunicorn,
    wait_healthy,
    write_config,
)
from tfcls.bundle.registry import Registry
from tfcls.feedback.store import FeedbackStore

CLIENTS = 16
PER_CLIENT = 400  # a bound on the load: the test ends even if the kill never came
KILL_AFTER = 300  # acknowledged rows before the SIGKILL


class Load:
    """``CLIENTS`` threads posting verdicts until told to stop or the server is gone;
    ``acked`` maps each 201's id to the title it was sent with."""

    def __init__(self, port: int, version: str) -> None:
        self.port, self.version = port, version
        self.acked: dict[int, str] = {}
        self.sent: set[str] = set()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        tokens = client_ids(port, CLIENTS)
        self.threads = [
            threading.Thread(target=self._client, args=(c, tokens[c]), daemon=True)
            for c in range(CLIENTS)
        ]
        for t in self.threads:
            t.start()

    def _client(self, c: int, token: str) -> None:
        for k in range(PER_CLIENT):
            if self.stop.is_set():
                return
            i = c * PER_CLIENT + k
            with self.lock:
                self.sent.add(f"benchmark task {i}")
            try:
                status, _, data = post_feedback(
                    self.port, feedback_body(i, token, self.version), 10
                )
            except NO_ANSWER:  # killed: no whole answer, nothing acknowledged
                return
            if status == 201:
                with self.lock:
                    self.acked[json.loads(data)["id"]] = f"benchmark task {i}"

    def wait_for(self, n: int, timeout: float = 120) -> None:
        """Until ``n`` rows are acknowledged (or every client has finished)."""
        deadline = time.monotonic() + timeout
        while len(self.acked) < n and any(t.is_alive() for t in self.threads):
            assert time.monotonic() < deadline, f"only {len(self.acked)} acknowledged"
            time.sleep(0.01)

    def end(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(60)


def test_sigkill_under_load_loses_no_acknowledged_row(tiny_bundle: Path, tmp_path: Path):
    db = tmp_path / "feedback.sqlite3"
    config = write_config(tmp_path, tiny_bundle, db)
    port = free_port()
    proc = start_gunicorn(config, port, DEFAULT_WORKERS, DEFAULT_THREADS)
    load = None
    try:
        wait_healthy(port, proc, config)
        load = Load(port, Registry(tiny_bundle).require_current())
        load.wait_for(KILL_AFTER)
        stop_gunicorn(proc, kill=True)  # master and workers, mid-load
        assert proc.returncode == -signal.SIGKILL
    finally:
        if load is not None:
            load.end()
        stop_gunicorn(proc, kill=True)
    assert load.acked, "no verdict was acknowledged before the kill"
    with FeedbackStore.from_url(f"sqlite:///{db}") as store:
        stored = {r["id"]: r["title"] for r in store.rows()}
    lost = {i: t for i, t in load.acked.items() if stored.get(i) != t}
    assert not lost, f"{len(lost)} of {len(load.acked)} acknowledged rows lost"
    assert set(stored.values()) <= load.sent  # nothing stored that was never sent
