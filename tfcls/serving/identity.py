"""Server-issued client ids: who said what, so that feedback can be attributed.

``GET /api/model`` gives every client a ``client_token``: a random id signed with the
server's HMAC key (itsdangerous, SHA-256), ``<id>.<signature>``. The client sends it as
``client_id`` with its verdicts; the store keeps the id, never the token. A made-up or
altered token does not verify, so "three distinct clients agree" (tfcls.retrain's bound on
influence) means three ids this server issued, and minting many is rate-limited per IP
(``serving.rate_limits.new_client_ids_per_ip``).

The key is ``$TFCLS_CLIENT_SECRET`` if set (several machines must share one), else a file
(``serving.identity.secret_file``, default ``client-secret`` next to the SQLite store)
made on first start with 32 random bytes, mode 0600; gunicorn's workers race to create it
and all read the one that won (``O_EXCL``).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, Signer

from tfcls.config import Config
from tfcls.errors import TfclsError

SECRET_ENV = "TFCLS_CLIENT_SECRET"
ANONYMOUS = "anonymous"  # the client of every unsigned verdict, when they are accepted
_SALT = "tfcls.client-id"
_MIN_SECRET_CHARS = 16


class IdentityError(TfclsError):
    """The client-id key cannot be read or created (says which file and what to do)."""


@dataclass(frozen=True)
class Client:
    """The client of a request: its id and the token that proves it (None: unsigned)."""

    id: str
    token: str | None


class ClientIds:
    """Issues and verifies signed client ids with one HMAC key."""

    def __init__(self, secret: bytes) -> None:
        self._signer = Signer(secret, salt=_SALT, digest_method=hashlib.sha256)

    def issue(self) -> Client:
        """A new random id and its token."""
        client_id = uuid.uuid4().hex
        return Client(client_id, self._signer.sign(client_id).decode())

    def verify(self, token: object) -> str | None:
        """The id in ``token`` if this server signed it, else None (never raises)."""
        if not isinstance(token, str) or not token or len(token) > 200:
            return None
        try:
            value = self._signer.unsign(token).decode()
        except (BadSignature, UnicodeDecodeError, ValueError):
            return None
        return value if value and value != ANONYMOUS else None


def secret_path(config: Config) -> Path:
    """Where the key file is: ``serving.identity.secret_file``, else next to the store."""
    if config.serving.identity.secret_file:
        return Path(config.serving.identity.secret_file).expanduser()
    if config.storage.path and not config.storage.url:
        return Path(config.storage.path).expanduser().parent / "client-secret"
    return Path("var") / "client-secret"


def load_secret(config: Config) -> bytes:
    """The HMAC key: ``$TFCLS_CLIENT_SECRET``, else the key file (created when missing)."""
    env = os.environ.get(SECRET_ENV)
    if env is not None:
        if len(env) < _MIN_SECRET_CHARS:
            raise IdentityError(f"${SECRET_ENV} must be at least {_MIN_SECRET_CHARS} characters")
        return env.encode()
    path = secret_path(config)
    try:
        return _read_or_create(path)
    except OSError as err:
        raise IdentityError(
            f"serving.identity.secret_file {path}: cannot read or create the client-id key "
            f"({err.strerror or err}); make the folder writable, point secret_file elsewhere "
            f"or set ${SECRET_ENV}"
        ) from None


def _read_or_create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:  # we won the race: write the key, durably, before anyone reads it
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
            f.flush()
            os.fsync(f.fileno())
    for _ in range(100):  # a worker that lost the race may read before the winner wrote
        key = path.read_text().strip()
        if key:
            break
        time.sleep(0.01)
    if len(key) < _MIN_SECRET_CHARS:
        raise IdentityError(
            f"serving.identity.secret_file {path}: the key is shorter than "
            f"{_MIN_SECRET_CHARS} characters; delete the file to make a new one (ids issued "
            "with the old key stop verifying) or write a longer key"
        )
    return key.encode()
