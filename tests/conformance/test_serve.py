"""``cognate serve``: the contract's options as flags and as COGNATE_* variables, first-start
secrets, several workers on one store, clean stops, TLS and SMTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config

from tests.conformance.helpers import POOL_ID, attrs, unique
from tests.support.server import free_port, self_signed_cert


@dataclass
class Launched:
    proc: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGINT) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                pytest.fail(f"cognate did not stop on signal {sig}:\n{self.log()}")
        return self.proc.returncode


def boto(url: str, key_id: str, secret: str, region: str = "us-east-1", **client_kw: Any) -> Any:
    return boto3.client(
        "cognito-idp",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
        **client_kw,
    )


def creds_of(data_dir: Path) -> dict[str, str]:
    doc: dict[str, str] = json.loads((data_dir / "credentials.json").read_text())
    return doc


@contextmanager
def launch(
    *args: str,
    env: dict[str, str] | None = None,
    url: str,
    cwd: Path | None = None,
    log_dir: Path,
    verify: Any = True,
) -> Iterator[Launched]:
    """``cognate serve ARGS`` with exactly the flags given (none added) and a clean COGNATE_* env."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("COGNATE_")}
    full_env["COGNATE_TEST_PASSWORD_HASH_COST"] = "low"
    full_env.update(env or {})
    log_path = log_dir / f"serve-{time.monotonic_ns()}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cognate.cli", "serve", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=cwd,
        )
    launched = Launched(proc, url, log_path)
    try:
        deadline = time.time() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"cognate exited early ({proc.returncode}):\n{launched.log()}")
            try:
                if httpx.get(f"{url}/health", timeout=1, verify=verify).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                pytest.fail(f"cognate did not become healthy at {url}:\n{launched.log()}")
            time.sleep(0.1)
        yield launched
    finally:
        launched.stop()


# --- options as flags and as environment variables ----------------------------------------


@pytest.mark.parametrize("style", ["flags", "env"])
def test_contract_options_as_flags_and_as_environment(tmp_path: Path, style: str) -> None:
    port = free_port()
    data_dir = tmp_path / "data"
    db_path = tmp_path / "elsewhere" / "custom.db"
    db_path.parent.mkdir()
    public_url = f"http://cognate.test:{port}"
    options = {
        "port": str(port),
        "data-dir": str(data_dir),
        "region": "eu-west-1",
        "database-url": f"sqlite:///{db_path}",
        "public-url": public_url,
        "host": "127.0.0.1",
    }
    if style == "flags":
        args = [item for k, v in options.items() for item in (f"--{k}", v)]
        env: dict[str, str] = {}
    else:
        args = []
        env = {"COGNATE_" + k.upper().replace("-", "_"): v for k, v in options.items()}
    with launch(*args, env=env, url=f"http://127.0.0.1:{port}", log_dir=tmp_path) as srv:
        creds = creds_of(data_dir)  # --data-dir: the generated secrets live there
        idp = boto(srv.url, creds["AccessKeyId"], creds["SecretAccessKey"], "eu-west-1")
        pool = idp.create_user_pool(PoolName="regional")["UserPool"]
        # --region: the prefix of pool ids (and the region in ARNs).
        assert pool["Id"].startswith("eu-west-1_") and len(pool["Id"]) == len("eu-west-1_") + 9
        assert pool["Arn"].startswith("arn:aws:cognito-idp:eu-west-1:")
        # --database-url: the store is that file, not <data-dir>/cognate.db.
        assert db_path.exists()
        assert not (data_dir / "cognate.db").exists()
        assert pool["Id"].encode() in b"".join(p.read_bytes() for p in db_path.parent.glob("custom.db*"))
        # --public-url: the base of the issuer and of every link.
        assert public_url in srv.log()
        discovery = httpx.get(f"{srv.url}/{pool['Id']}/.well-known/openid-configuration")
        if discovery.status_code == 200:
            assert discovery.json()["issuer"] == f"{public_url}/{pool['Id']}"


def test_flags_win_over_environment(tmp_path: Path) -> None:
    port = free_port()
    data_dir = tmp_path / "data"
    env = {
        "COGNATE_PORT": str(free_port()),
        "COGNATE_REGION": "ap-south-1",
        "COGNATE_DATA_DIR": str(tmp_path / "env-data"),
    }
    args = ["--port", str(port), "--region", "us-west-2", "--data-dir", str(data_dir)]
    with launch(*args, env=env, url=f"http://127.0.0.1:{port}", log_dir=tmp_path) as srv:
        creds = creds_of(data_dir)
        idp = boto(srv.url, creds["AccessKeyId"], creds["SecretAccessKey"], "us-west-2")
        pool = idp.create_user_pool(PoolName="p")
        assert pool["UserPool"]["Id"].startswith("us-west-2_")
        assert not (tmp_path / "env-data").exists()


def test_defaults_data_dir_under_cwd_and_wildcard_host_public_url(tmp_path: Path) -> None:
    port = free_port()
    with launch(
        "--port",
        str(port),
        "--host",
        "0.0.0.0",
        url=f"http://127.0.0.1:{port}",
        cwd=tmp_path,
        log_dir=tmp_path,
    ) as srv:
        data_dir = tmp_path / ".cognate"
        assert (data_dir / "credentials.json").exists()
        assert (data_dir / "cognate.db").exists()
        assert f"http://localhost:{port}" in srv.log()
        creds = creds_of(data_dir)
        idp = boto(srv.url, creds["AccessKeyId"], creds["SecretAccessKey"])
        pool = idp.create_user_pool(PoolName="p")
        assert POOL_ID.match(pool["UserPool"]["Id"])


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--port", "0"], {}, "--port"),
        (["--workers", "0"], {}, "--workers"),
        (["--database-url", "mysql://x"], {}, "--database-url"),
        (["--tls-cert", "/nonexistent.pem"], {}, "--tls-key"),
        ([], {"COGNATE_PORT": "eighty"}, "COGNATE_PORT"),
        (["--issuer-style", "weird"], {}, "issuer-style"),
        ([], {"COGNATE_MASTER_KEY": "too-short"}, "COGNATE_MASTER_KEY"),
        ([], {"COGNATE_ACCESS_KEY_ID": "AKIAALONE00000000000"}, "COGNATE_SECRET_ACCESS_KEY"),
    ],
)
def test_bad_options_exit_with_a_message(
    tmp_path: Path, args: list[str], env: dict[str, str], expected: str
) -> None:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("COGNATE_")}
    full_env.update(env)
    proc = subprocess.run(
        [sys.executable, "-m", "cognate.cli", "serve", "--data-dir", str(tmp_path / "d"), *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert expected in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(("name", "content"), [("master.key", "garbage"), ("credentials.json", "{")])
def test_damaged_secret_files_exit_with_a_message(tmp_path: Path, name: str, content: str) -> None:
    data_dir = tmp_path / "d"
    data_dir.mkdir()
    (data_dir / name).write_text(content)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COGNATE_")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cognate.cli",
            "serve",
            "--data-dir",
            str(data_dir),
            "--port",
            str(free_port()),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert name in proc.stderr
    assert "Traceback" not in proc.stderr


# --- first start: the key pair and the master key --------------------------------------------


def test_first_start_prints_key_pair_once_and_keeps_secrets_0600(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    args = ["--port", str(port), "--data-dir", str(data_dir)]
    with launch(*args, url=f"http://127.0.0.1:{port}", log_dir=tmp_path) as first:
        creds = creds_of(data_dir)
        first_log = first.log()
        assert creds["AccessKeyId"] in first_log
        assert creds["SecretAccessKey"] in first_log
        for name in ("credentials.json", "master.key"):
            mode = stat.S_IMODE((data_dir / name).stat().st_mode)
            assert mode == 0o600, (name, oct(mode))
        master = (data_dir / "master.key").read_text()
        assert master.strip()
        idp = boto(first.url, creds["AccessKeyId"], creds["SecretAccessKey"])
        pool_id = idp.create_user_pool(PoolName="kept")["UserPool"]["Id"]
        client = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="c", GenerateSecret=True)
        secret = client["UserPoolClient"]["ClientSecret"]

    with launch(*args, url=f"http://127.0.0.1:{port}", log_dir=tmp_path) as second:
        second_log = second.log()
        assert creds["SecretAccessKey"] not in second_log, "the secret is printed only at the first start"
        assert creds_of(data_dir) == creds
        assert (data_dir / "master.key").read_text() == master
        idp = boto(second.url, creds["AccessKeyId"], creds["SecretAccessKey"])
        # The same master key still opens what the first start sealed.
        got = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client["UserPoolClient"]["ClientId"])
        assert got["UserPoolClient"]["ClientSecret"] == secret


def test_key_pair_and_master_key_from_environment(tmp_path: Path) -> None:
    """Given COGNATE_ACCESS_KEY_ID/SECRET_ACCESS_KEY/MASTER_KEY, nothing is generated or printed."""
    data_dir = tmp_path / "data"
    port = free_port()
    from cognate.crypto.sealing import new_master_key

    key_id, secret = "AKIAENVIRONMENT00001", "environment-secret-access-key-0123456789"
    env = {
        "COGNATE_ACCESS_KEY_ID": key_id,
        "COGNATE_SECRET_ACCESS_KEY": secret,
        "COGNATE_MASTER_KEY": new_master_key(),
    }
    with launch(
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        env=env,
        url=f"http://127.0.0.1:{port}",
        log_dir=tmp_path,
    ) as srv:
        assert not (data_dir / "credentials.json").exists()
        assert not (data_dir / "master.key").exists()
        assert secret not in srv.log()
        assert "UserPools" in boto(srv.url, key_id, secret).list_user_pools(MaxResults=1)
        with pytest.raises(Exception, match="UnrecognizedClientException"):
            boto(srv.url, "AKIAOTHERKEY00000000", secret).list_user_pools(MaxResults=1)


# --- workers, stopping ------------------------------------------------------------------------------


def test_two_workers_share_one_store(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    with launch(
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--workers",
        "2",
        url=f"http://127.0.0.1:{port}",
        log_dir=tmp_path,
    ) as srv:
        creds = creds_of(data_dir)
        local = threading.local()

        def client() -> Any:
            if not hasattr(local, "idp"):
                local.idp = boto(srv.url, creds["AccessKeyId"], creds["SecretAccessKey"])
            return local.idp

        names = [unique("par") for _ in range(30)]
        with ThreadPoolExecutor(max_workers=12) as pool_exec:
            created = list(
                pool_exec.map(lambda n: client().create_user_pool(PoolName=n)["UserPool"]["Id"], names)
            )
        assert len(set(created)) == 30
        listed: set[str] = set()
        token = None
        idp = client()
        while True:
            page = idp.list_user_pools(MaxResults=60, **({"NextToken": token} if token else {}))
            listed |= {p["Id"] for p in page["UserPools"]}
            token = page.get("NextToken")
            if not token:
                break
        assert set(created) <= listed

        # Writes to one pool from many threads: every user is there, each with its own sub.
        target = created[0]
        users = [f"user{i}" for i in range(24)]
        with ThreadPoolExecutor(max_workers=12) as pool_exec:
            list(
                pool_exec.map(
                    lambda u: client().admin_create_user(
                        UserPoolId=target, Username=u, MessageAction="SUPPRESS"
                    ),
                    users,
                )
            )
        listed_users = idp.list_users(UserPoolId=target)["Users"]
        assert sorted(u["Username"] for u in listed_users) == sorted(users)
        assert len({attrs(u["Attributes"])["sub"] for u in listed_users}) == 24

        children = _children(srv.proc.pid)
        assert len(children) >= 2, "two worker processes"
        assert srv.stop(signal.SIGINT) == 0
        assert "Traceback" not in srv.log()
        time.sleep(0.2)
        assert not [pid for pid in children if _alive(pid)], "SIGINT stops every worker"


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(x) for x in text]
    return found


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.parametrize(
    ("sig", "workers"),
    [(signal.SIGINT, "1"), (signal.SIGTERM, "1"), (signal.SIGTERM, "2")],
    ids=["SIGINT", "SIGTERM", "SIGTERM-2-workers"],
)
def test_signal_stops_cleanly_and_nothing_is_lost(tmp_path: Path, sig: int, workers: str) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    args = ["--port", str(port), "--data-dir", str(data_dir), "--workers", workers]
    with launch(*args, url=f"http://127.0.0.1:{port}", log_dir=tmp_path) as srv:
        creds = creds_of(data_dir)
        idp = boto(srv.url, creds["AccessKeyId"], creds["SecretAccessKey"])
        pool_id = idp.create_user_pool(PoolName="durable")["UserPool"]["Id"]
        idp.admin_create_user(UserPoolId=pool_id, Username="kept", MessageAction="SUPPRESS")
        assert srv.stop(sig) == 0
        assert "Traceback" not in srv.log()
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "nothing listens after the stop"
    with launch(*args, url=f"http://127.0.0.1:{port}", log_dir=tmp_path) as again:
        idp = boto(again.url, creds["AccessKeyId"], creds["SecretAccessKey"])
        assert idp.admin_get_user(UserPoolId=pool_id, Username="kept")["Username"] == "kept"


# --- TLS ---------------------------------------------------------------------------------------------


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = self_signed_cert(tmp_path)
    return Path(cert), Path(key)


def test_tls(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    data_dir = tmp_path / "data"
    port = free_port()
    ctx = ssl.create_default_context(cafile=str(cert))
    with launch(
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--tls-cert",
        str(cert),
        "--tls-key",
        str(key),
        url=f"https://127.0.0.1:{port}",
        log_dir=tmp_path,
        verify=ctx,
    ) as srv:
        assert f"https://127.0.0.1:{port}" in srv.log(), "the default public URL is https"
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
        creds = creds_of(data_dir)
        idp = boto(srv.url, creds["AccessKeyId"], creds["SecretAccessKey"], verify=str(cert))
        assert POOL_ID.match(idp.create_user_pool(PoolName="tls")["UserPool"]["Id"])
        idp.close()  # an idle TLS keep-alive connection would hold uvicorn's graceful shutdown for 5 s


# --- SMTP --------------------------------------------------------------------------------------------


class FakeSmtp:
    """A minimal SMTP server (RFC 5321 happy path) that keeps what it receives."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.messages: list[dict[str, Any]] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as rfile:
                self._session(conn, rfile)

    def _session(self, conn: socket.socket, rfile: Any) -> None:
        def say(line: str) -> None:
            conn.sendall(line.encode() + b"\r\n")

        say("220 fake ESMTP")
        msg: dict[str, Any] = {"rcpt": []}
        while True:
            line = rfile.readline()
            if not line:
                return
            cmd = line.decode().strip()
            upper = cmd.upper()
            if upper.startswith(("EHLO", "HELO")):
                say("250 fake")
            elif upper.startswith("MAIL FROM:"):
                msg["from"] = cmd[10:].strip(" <>")
                say("250 OK")
            elif upper.startswith("RCPT TO:"):
                msg["rcpt"].append(cmd[8:].strip(" <>"))
                say("250 OK")
            elif upper == "DATA":
                say("354 go ahead")
                data = b""
                while True:
                    chunk = rfile.readline()
                    if chunk in (b".\r\n", b".\n", b""):
                        break
                    data += chunk
                msg["data"] = data.decode(errors="replace")
                self.messages.append(msg)
                msg = {"rcpt": []}
                say("250 queued")
            elif upper == "QUIT":
                say("221 bye")
                return
            else:
                say("250 OK")

    def close(self) -> None:
        self.sock.close()


def test_smtp_url_sends_email_by_smtp_and_sms_to_the_outbox(tmp_path: Path) -> None:
    smtp = FakeSmtp()
    data_dir = tmp_path / "data"
    port = free_port()
    try:
        with launch(
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            env={"COGNATE_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}"},
            url=f"http://127.0.0.1:{port}",
            log_dir=tmp_path,
        ) as srv:
            creds = creds_of(data_dir)
            idp = boto(srv.url, creds["AccessKeyId"], creds["SecretAccessKey"])
            pool_id = idp.create_user_pool(PoolName="mail")["UserPool"]["Id"]
            idp.admin_create_user(
                UserPoolId=pool_id,
                Username="mailme",
                DesiredDeliveryMediums=["EMAIL", "SMS"],
                UserAttributes=[
                    {"Name": "email", "Value": "mailme@example.com"},
                    {"Name": "phone_number", "Value": "+15555550199"},
                ],
            )
            deadline = time.time() + 10
            while not smtp.messages and time.time() < deadline:
                time.sleep(0.05)
            assert len(smtp.messages) == 1
            sent = smtp.messages[0]
            assert sent["rcpt"] == ["mailme@example.com"]
            assert sent["from"] == "no-reply@127.0.0.1"
            assert "mailme" in sent["data"]
            outbox = [json.loads(x) for x in (data_dir / "outbox.jsonl").read_text().splitlines()]
            assert [m["channel"] for m in outbox] == ["sms"], "only SMS goes to the outbox when SMTP is set"
            assert outbox[0]["code"] and outbox[0]["code"] in sent["data"]
    finally:
        smtp.close()


# --- PostgreSQL ----------------------------------------------------------------------------------------

POSTGRES_URL = os.environ.get("COGNATE_TEST_POSTGRES_URL")


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A fresh database of this test's own on the server of COGNATE_TEST_POSTGRES_URL."""
    if not POSTGRES_URL:
        pytest.skip("COGNATE_TEST_POSTGRES_URL is not set (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    import asyncio

    import asyncpg
    from sqlalchemy.engine import make_url

    admin_dsn = make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"cognate_serve_{unique('')}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_postgresql_database_url_with_two_workers(tmp_path: Path, postgres_database: str) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    args = ["--port", str(port), "--data-dir", str(data_dir), "--workers", "2"]
    env = {"COGNATE_DATABASE_URL": postgres_database}
    with launch(*args, env=env, url=f"http://127.0.0.1:{port}", log_dir=tmp_path) as srv:
        assert not (data_dir / "cognate.db").exists(), "no SQLite file when PostgreSQL is the store"
        creds = creds_of(data_dir)
        idp = boto(srv.url, creds["AccessKeyId"], creds["SecretAccessKey"])
        pool_id = idp.create_user_pool(PoolName="pg")["UserPool"]["Id"]
        with ThreadPoolExecutor(max_workers=8) as pool_exec:
            list(
                pool_exec.map(
                    lambda u: boto(srv.url, creds["AccessKeyId"], creds["SecretAccessKey"]).admin_create_user(
                        UserPoolId=pool_id, Username=u, MessageAction="SUPPRESS"
                    ),
                    [f"user{i}" for i in range(12)],
                )
            )
        assert len(idp.list_users(UserPoolId=pool_id)["Users"]) == 12
    with launch(*args, env=env, url=f"http://127.0.0.1:{port}", log_dir=tmp_path) as again:
        idp = boto(again.url, creds["AccessKeyId"], creds["SecretAccessKey"])
        assert len(idp.list_users(UserPoolId=pool_id)["Users"]) == 12
