"""Checks ``cognate serve`` makes before it creates anything: the port, then the database.

The listening socket is bound first (as uvicorn would bind it) and handed to uvicorn,
so a port already taken stops the start before any key, folder or database is made,
and the banner is printed only once the port is Cognate's. A PostgreSQL server that
refuses connections, or whose host name does not resolve yet, is normal while a
container starts beside Cognate: it is retried for ``--database-wait`` seconds, the
wait shown. Wrong credentials or a missing database are not retried.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from cognate.config import ConfigError, Settings

RETRY_EVERY_S = 1.0
ATTEMPT_TIMEOUT_S = 5.0


def bind(settings: Settings) -> socket.socket:
    """The listening socket, bound (not yet listening); ConfigError says why it cannot be."""
    host = settings.host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family=family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, settings.port))
    except OSError as exc:
        sock.close()
        where = f"{settings.host}:{settings.port}"
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {settings.port} is already in use on {settings.host}: stop what holds it "
                "(another `cognate serve`?) or choose another with --port (or COGNATE_PORT)"
            ) from None
        if exc.errno == errno.EACCES:
            raise ConfigError(
                f"not allowed to listen on {where}: ports below 1024 need privileges; "
                "choose a --port above 1023"
            ) from None
        if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
            raise ConfigError(
                f"cannot listen on {where}: {settings.host!r} is not an address of this machine "
                "(--host takes 127.0.0.1, 0.0.0.0 or one of this machine's addresses)"
            ) from None
        raise ConfigError(f"cannot listen on {where}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def check_tls(settings: Settings) -> None:
    """The certificate and key load and belong together (ConfigError otherwise), before anything is made."""
    if not settings.tls:
        return
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(str(settings.tls_cert), str(settings.tls_key))
    except FileNotFoundError as exc:
        raise ConfigError(f"--tls-cert/--tls-key: {exc.filename} does not exist") from None
    except PermissionError as exc:
        raise ConfigError(f"--tls-cert/--tls-key: cannot read {exc.filename}") from None
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(
            f"--tls-cert {settings.tls_cert} and --tls-key {settings.tls_key} do not load as a PEM "
            f"certificate and its private key ({exc})"
        ) from None


def describe(url: str) -> str:
    """``user@host:port/db`` of a database URL, without its password."""
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return f"{user}{parts.hostname or 'localhost'}{port}{parts.path}"


def _pg_dsn(url: str) -> str:
    for prefix in ("postgresql+asyncpg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def _transient(exc: BaseException) -> str | None:
    """Why a failed connection is worth retrying, or None when it is not."""
    import asyncpg

    if isinstance(exc, socket.gaierror):
        return "its host name does not resolve"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionError | asyncpg.ConnectionDoesNotExistError):
        return "connection closed while starting"  # a container's port proxy before the database is up
    if isinstance(exc, TimeoutError):
        return "no answer"
    if isinstance(exc, asyncpg.CannotConnectNowError):
        return "the database is starting up"
    if isinstance(exc, OSError) and exc.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH):
        return exc.strerror or "unreachable"
    return None


def _fatal(exc: BaseException, url: str) -> str:
    import asyncpg

    where = describe(url)
    if isinstance(exc, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError):
        return f"the database at {where} refused the user name or password in --database-url: {exc}"
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return f"the database at {where} does not exist: create it (createdb) or fix --database-url"
    return f"cannot use the database at {where}: {type(exc).__name__}: {exc}"


async def wait_for_database(url: str, wait_s: float, say: Callable[[str], None]) -> None:
    """Return once PostgreSQL accepts a connection; ConfigError after ``wait_s`` seconds of trying."""
    import asyncpg

    started = time.monotonic()
    last_said = -10.0
    while True:
        try:
            conn = await asyncio.wait_for(asyncpg.connect(_pg_dsn(url)), ATTEMPT_TIMEOUT_S)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            reason = _transient(exc)
            if reason is None:
                raise ConfigError(_fatal(exc, url)) from None
            waited = time.monotonic() - started
            if waited >= wait_s:  # tried for the whole --database-wait (the last try at its end)
                raise ConfigError(
                    f"cannot reach the database at {describe(url)} ({reason}) after {waited:.0f} s: "
                    "check that PostgreSQL is running and --database-url, or wait longer with --database-wait"
                ) from None
            if waited - last_said >= 5:
                say(
                    f"waiting for the database at {describe(url)} ({reason}): "
                    f"{waited:.0f} s of {wait_s:.0f} s"
                )
                last_said = waited
            await asyncio.sleep(min(RETRY_EVERY_S, wait_s - waited))
        else:
            await conn.close()
            return
