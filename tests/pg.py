"""A throwaway PostgreSQL server for tests: ``initdb`` into a temp dir, ``pg_ctl start``.

API::

    from pg import PostgresServer, PostgresUnavailableError, postgres_server, server_fixture

    # 1. a pytest fixture (the usual way); skips (never passes) with the precise reason
    #    when no server can be started. Define it once per module, or once in conftest.py
    #    to share one server across the whole session.
    pg_server = server_fixture(scope="session")      # fixture named "pg_server"

    def test_x(pg_server: PostgresServer):
        url = pg_server.create_database()            # a fresh, empty UTF8 database
        ...                                          # "postgresql+psycopg://…" with password

    # 2. a context manager (raises PostgresUnavailableError(reason) if it cannot start)
    with postgres_server() as server:
        url = server.create_database("mydb")

``PostgresServer`` has ``host`` (127.0.0.1), ``port`` (a free one), ``user`` (postgres,
a superuser), ``password`` (random), ``socket_dir``, ``data_dir``,
``url(database="postgres")`` → SQLAlchemy URL (``postgresql+psycopg://``), and
``create_database(name=None)`` → the URL of a new database (name generated if None).

How: the binaries are found on ``PATH``, else in ``$TFCLS_PG_BIN``, else in the newest
``/usr/lib/postgresql/*/bin``. As root, ``initdb``/``pg_ctl`` run as the ``postgres``
system user through ``runuser -u postgres --`` (PostgreSQL refuses to run as root);
otherwise as the current user. The server listens on 127.0.0.1 at a free port
(password auth, scram-sha-256) and on a unix socket in the temp dir (trust), with
``fsync=off`` — it is thrown away, so speed beats crash safety (tests of durability
belong on SQLite or on a real server). On exit it is stopped (``-m immediate``) and the
temp dir deleted.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

START_TIMEOUT_S = 60


class PostgresUnavailableError(RuntimeError):
    """No throwaway PostgreSQL server could be started here; the message says why."""


def find_bin_dir() -> Path:
    """The folder holding initdb and pg_ctl, or PostgresUnavailableError."""
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).parent] if on_path else []
    if os.environ.get("TFCLS_PG_BIN"):
        candidates.insert(0, Path(os.environ["TFCLS_PG_BIN"]))

    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.name
        return tuple(int(p) for p in name.split(".") if p.isdigit())

    candidates += [
        Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    ]
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise PostgresUnavailableError(
        "PostgreSQL server binaries not found: no initdb/pg_ctl on PATH, in $TFCLS_PG_BIN "
        "or in /usr/lib/postgresql/*/bin (Debian: apt-get install postgresql)"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    """A running throwaway server (see the module docstring)."""

    data_dir: Path
    socket_dir: Path
    port: int
    password: str
    bin_dir: Path
    run_as: list[str]  # ["runuser", "-u", "postgres", "--"] as root, else []
    root: Path
    host: str = "127.0.0.1"
    user: str = "postgres"
    _counter: int = field(default=0, repr=False)

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of ``database`` over TCP, with the password."""
        return (
            f"postgresql+psycopg://{self.user}:{quote(self.password, safe='')}"
            f"@{self.host}:{self.port}/{database}"
        )

    def create_database(self, name: str | None = None) -> str:
        """Create a new empty UTF8 database; returns its URL."""
        import psycopg

        if name is None:
            self._counter += 1
            name = f"t{os.getpid()}_{self._counter}_{secrets.token_hex(3)}"
        with psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname="postgres",
            autocommit=True,
        ) as conn:
            conn.execute(
                f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0 "
                "LC_COLLATE 'C' LC_CTYPE 'C'"
            )
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (immediate) and delete its temp dir."""
        with contextlib.suppress(Exception):
            _run(
                [
                    *self.run_as,
                    str(self.bin_dir / "pg_ctl"),
                    "stop",
                    "-D",
                    str(self.data_dir),
                    "-m",
                    "immediate",
                    "-w",
                ],
                "pg_ctl stop",
            )
        shutil.rmtree(self.root, ignore_errors=True)


def _run(cmd: list[str], what: str, timeout: float = START_TIMEOUT_S) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise PostgresUnavailableError(f"{what} failed: {err}") from None
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-6:])
        raise PostgresUnavailableError(f"{what} failed (exit {proc.returncode}): {tail}")


def start_postgres(base_dir: str | Path | None = None) -> PostgresServer:
    """initdb + pg_ctl start; PostgresUnavailableError(reason) if that is not possible here."""
    bin_dir = find_bin_dir()
    run_as: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailableError(
                "running as root, and there is no 'postgres' system user to run the "
                "server as (PostgreSQL refuses to run as root)"
            ) from None
        runuser = shutil.which("runuser")
        if runuser is None:
            raise PostgresUnavailableError("running as root, and runuser is not installed")
        run_as = [runuser, "-u", "postgres", "--"]

    root = Path(tempfile.mkdtemp(prefix="tfcls-pg-", dir=base_dir))
    try:
        if owner is not None:
            os.chmod(root, 0o700)
            os.chown(root, owner.pw_uid, owner.pw_gid)
            probe = subprocess.run([*run_as, "test", "-w", str(root)], capture_output=True)
            if probe.returncode != 0:
                raise PostgresUnavailableError(
                    f"the postgres user cannot write {root} (a parent folder is not "
                    "traversable by it); pass base_dir= a folder it can reach"
                )
        data_dir, socket_dir = root / "data", root / "sock"
        socket_dir.mkdir()
        password = secrets.token_urlsafe(16)
        pwfile = root / "pw"
        pwfile.write_text(password + "\n")
        if owner is not None:
            for path in (socket_dir, pwfile):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        _run(
            [
                *run_as,
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                "postgres",
                f"--pwfile={pwfile}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            "initdb",
        )
        pwfile.unlink()
        last: PostgresUnavailableError | None = None
        for _attempt in range(3):  # the free port may be taken before the server binds it
            port = _free_port()
            options = (
                f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=200 -c shared_buffers=32MB"
            )
            try:
                _run(
                    [
                        *run_as,
                        str(bin_dir / "pg_ctl"),
                        "start",
                        "-D",
                        str(data_dir),
                        "-l",
                        str(root / "server.log"),
                        "-o",
                        options,
                        "-w",
                        "-t",
                        str(START_TIMEOUT_S),
                    ],
                    "pg_ctl start",
                    timeout=START_TIMEOUT_S + 10,
                )
            except PostgresUnavailableError as err:
                log = root / "server.log"
                tail = (
                    log.read_text(errors="replace").strip().splitlines()[-3:]
                    if log.exists()
                    else []
                )
                last = PostgresUnavailableError(f"{err} | server.log: {' | '.join(tail)}")
                continue
            return PostgresServer(
                data_dir=data_dir,
                socket_dir=socket_dir,
                port=port,
                password=password,
                bin_dir=bin_dir,
                run_as=run_as,
                root=root,
            )
        assert last is not None
        raise last
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


@contextlib.contextmanager
def postgres_server(base_dir: str | Path | None = None) -> Iterator[PostgresServer]:
    """A running server for the ``with`` block; stopped and deleted afterwards."""
    server = start_postgres(base_dir)
    try:
        yield server
    finally:
        server.stop()


def server_fixture(scope: str = "session") -> Callable:
    """A pytest fixture yielding a :class:`PostgresServer`, or skipping with the reason."""

    @pytest.fixture(scope=scope)
    def fixture() -> Iterator[PostgresServer]:
        try:
            server = start_postgres()
        except PostgresUnavailableError as err:
            pytest.skip(f"PostgreSQL test server unavailable: {err}")
        try:
            yield server
        finally:
            server.stop()

    return fixture
