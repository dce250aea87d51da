"""A throwaway Redis server for tests: Debian's ``redis-server`` on a free port, no disk.

    from redis_server import redis_fixture
    redis_url = redis_fixture()          # a module fixture named "redis_url"

    def test_x(redis_url: str): ...      # "redis://127.0.0.1:PORT"

Without ``redis-server`` the fixture skips with the reason, except under CI (``CI`` set),
where ``make test`` installs it: there a missing server fails the test, never hides it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest
from conftest import free_port


def _start(port: int) -> subprocess.Popen:
    command = [
        shutil.which("redis-server") or "redis-server",
        *("--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 20) -> None:
    import redis

    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + timeout
    while True:
        try:
            if client.ping():
                return
        except redis.ConnectionError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            out = proc.stdout.read() if proc.stdout and proc.poll() is not None else ""
            raise RuntimeError(f"redis-server did not answer on {url}: {out[-2000:]}")
        time.sleep(0.05)


def redis_fixture() -> Callable[..., Iterator[str]]:
    """A module-scoped fixture ``redis_url``: a fresh server, stopped after the module."""

    @pytest.fixture(scope="module")
    def redis_url() -> Iterator[str]:
        if shutil.which("redis-server") is None:
            reason = "redis-server not installed (apt-get install redis-server; make test does)"
            if os.environ.get("CI"):
                pytest.fail(reason)
            pytest.skip(reason)
        port = free_port()
        url = f"redis://127.0.0.1:{port}"
        proc = _start(port)
        try:
            _wait_ready(url, proc)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    return redis_url
