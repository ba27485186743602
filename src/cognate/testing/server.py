"""A real Cognate for a test session: in this process (a thread) or as a ``cognate serve`` child.

Both run the same application on a free port of 127.0.0.1 with a temporary SQLite
database, a generated admin key pair, the low password-hashing cost meant for tests
and signing keys made ahead (``keys.py``); both are gone, folder included, when the
context ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cognate.testing.keys import KeyReserve, default_cache, installed
from cognate.testing.resources import Outbox, Pool, make_pool

MODES = ("inprocess", "subprocess")
REGION = "us-east-1"
START_TIMEOUT_S = 60.0


@dataclass
class Cognate:
    """A running test server: its URL, admin key pair, outbox, and boto3 clients."""

    url: str
    data_dir: Path
    access_key_id: str
    secret_access_key: str
    region: str = REGION
    mode: str = "inprocess"
    log_path: Path | None = None
    _clients: dict[tuple[str, bool], Any] = field(default_factory=dict, repr=False)

    @property
    def outbox(self) -> Outbox:
        return Outbox(self.data_dir / "outbox.jsonl")

    def client(self, service: str = "cognito-idp", *, signed: bool = True) -> Any:
        """A boto3 client for this server (made once, shared: boto3 clients are thread-safe)."""
        key = (service, signed)
        if key not in self._clients:
            import boto3
            from botocore import UNSIGNED
            from botocore.config import Config

            self._clients[key] = boto3.client(
                service,
                endpoint_url=self.url,
                region_name=self.region,
                aws_access_key_id=self.access_key_id,
                aws_secret_access_key=self.secret_access_key,
                config=Config(retries={"max_attempts": 1}, signature_version=None if signed else UNSIGNED),
            )
        return self._clients[key]

    def boto3_kwargs(self) -> dict[str, str]:
        """What to hand ``boto3.client("cognito-idp", **kwargs)`` in the code under test."""
        return {
            "endpoint_url": self.url,
            "region_name": self.region,
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
        }

    def environment(self) -> dict[str, str]:
        """The same as environment variables (boto3 and the AWS CLI read them)."""
        return {
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": self.url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }

    def create_pool(self, client: dict[str, Any] | None = None, **fields: Any) -> Pool:
        """A new pool (CreateUserPool's ``fields``) with one client (``client``: its fields)."""
        return make_pool(self.client(), self.url, self.data_dir / "outbox.jsonl", client, **fields)


def _secret(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _admin_pair() -> tuple[str, str]:
    return "AKIA" + _secret(16, string.ascii_uppercase + "234567"), _secret(40)


@contextlib.contextmanager
def serve(
    mode: str = "inprocess",
    *,
    key_cache: Path | bool | None = True,
    keys_ahead: bool = True,
    args: tuple[str, ...] = (),
) -> Iterator[Cognate]:
    """Run a test Cognate for the ``with`` block (unittest: ``cls.enterClassContext(serve())``).

    ``key_cache``: where signing keys made ahead are kept between sessions (True: the
    user's cache folder; None or False: nowhere). ``keys_ahead=False`` makes each pool
    generate its keys when it needs them, as ``cognate serve`` does. ``args``: more
    ``cognate serve`` options (subprocess mode only).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    cache = default_cache() if key_cache is True else (key_cache or None)
    tmp = Path(tempfile.mkdtemp(prefix="cognate-testing-"))
    try:
        if mode == "inprocess":
            if args:
                raise ValueError("args need mode='subprocess'")
            reserve = installed(KeyReserve(cache)) if keys_ahead else contextlib.nullcontext()
            with reserve, _in_process(tmp) as cognate:
                yield cognate
        else:
            with _subprocess(tmp, cache, args, keys_ahead) as cognate:
                yield cognate
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _in_process(tmp: Path) -> Iterator[Cognate]:
    import uvicorn

    from cognate import config
    from cognate.app import build
    from cognate.crypto.sealing import new_master_key
    from cognate.store.cached import CachingStore

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    key_id, secret = _admin_pair()
    settings = config.load(
        {
            "host": "127.0.0.1",
            "port": port,
            "data_dir": str(tmp / "data"),
            "access_key_id": key_id,
            "secret_access_key": secret,
            "master_key": new_master_key(),
            "password_hash_cost": "low",
        },
        environ={},
    )

    async def migrate() -> None:
        store = CachingStore(settings.database_url)
        try:
            await store.migrate()
        finally:
            await store.close()

    app = build(settings)  # makes the data dir
    asyncio.run(migrate())
    uv = uvicorn.Server(
        uvicorn.Config(
            app,
            log_config=None,  # the test run's logging decides (pytest captures cognate.* lines)
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
            server_header=False,
        )
    )
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, name="cognate-testing", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not uv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the in-process Cognate did not start (see the captured log)")
        time.sleep(0.005)
    try:
        yield Cognate(settings.public_url, settings.data_dir, key_id, secret)
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as response:  # noqa: S310 - our own http URL
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def _subprocess(tmp: Path, cache: Path | None, args: tuple[str, ...], keys_ahead: bool) -> Iterator[Cognate]:
    from cognate import config
    from cognate.crypto.sealing import new_master_key

    key_id, secret = _admin_pair()
    env = config.child_environment(
        {
            "COGNATE_ACCESS_KEY_ID": key_id,
            "COGNATE_SECRET_ACCESS_KEY": secret,
            "COGNATE_MASTER_KEY": new_master_key(),
            "COGNATE_TEST_PASSWORD_HASH_COST": "low",
        }
    )
    data_dir = tmp / "data"
    log_path = tmp / "server.log"
    port = _free_port()
    command = [sys.executable, "-m", "cognate.testing" if keys_ahead else "cognate.cli"]
    command += ["--key-cache", str(cache)] if cache and keys_ahead else []
    command += ["serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir), *args]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"cognate serve did not start:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.05)
        yield Cognate(url, data_dir, key_id, secret, mode="subprocess", log_path=log_path)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
