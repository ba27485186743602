"""A real ``cognate serve`` process on a free port, for conformance tests and benchmarks."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    port: int
    data_dir: Path
    proc: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    ca_file: str | None = None

    @property
    def credentials(self) -> dict[str, str]:
        """The admin key pair: the one the environment gave, else the one generated into the data dir."""
        if self.env.get("COGNATE_ACCESS_KEY_ID"):
            return {
                "AccessKeyId": self.env["COGNATE_ACCESS_KEY_ID"],
                "SecretAccessKey": self.env["COGNATE_SECRET_ACCESS_KEY"],
            }
        return json.loads((self.data_dir / "credentials.json").read_text())

    def boto(self, service: str = "cognito-idp", *, signed: bool = True) -> Any:
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config

        creds = self.credentials
        cfg = Config(retries={"max_attempts": 1}, signature_version=None if signed else UNSIGNED)
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            config=cfg,
            verify=self.ca_file,
        )

    def outbox(self) -> list[dict[str, Any]]:
        path = self.data_dir / "outbox.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def wait_healthy(
    url: str, proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 60, ca_file: str | None = None
) -> None:
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"cognate exited early ({proc.returncode}):\n{log_path.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1, verify=verify).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"cognate did not become healthy:\n{log_path.read_text()}")


@contextmanager
def running_server(
    *args: str,
    data_dir: Path | None = None,
    env: dict[str, str] | None = None,
    low_cost: bool = True,
    ca_file: str | None = None,
    port: int | None = None,
) -> Iterator[Server]:
    """Start ``cognate serve`` with ``args`` (on ``port``, or a free one); stop it (SIGINT) afterwards."""
    tmp = tempfile.mkdtemp(prefix="cognate-test-")
    data = data_dir or Path(tmp) / "data"
    port = port or free_port()
    log_path = Path(tmp) / "server.log"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("COGNATE_")}
    if low_cost:
        full_env["COGNATE_TEST_PASSWORD_HASH_COST"] = "low"
    full_env.update(env or {})
    cmd = [sys.executable, "-m", "cognate.cli", "serve", "--port", str(port), "--data-dir", str(data), *args]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=full_env)
    url = f"{'https' if ca_file else 'http'}://127.0.0.1:{port}"
    server = Server(
        url=url, port=port, data_dir=data, proc=proc, log_path=log_path, env=full_env, ca_file=ca_file
    )
    try:
        wait_healthy(url, proc, log_path, ca_file=ca_file)
        yield server
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def self_signed_cert(directory: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and localhost, and its key (PEM files); it is its own CA."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert_path), str(key_path)
