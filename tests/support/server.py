"""A real ``cognate serve`` process on a free port, for conformance tests and benchmarks."""

from __future__ import annotations

import json
import os
import signal
import socket
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

    @property
    def credentials(self) -> dict[str, str]:
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


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"cognate exited early ({proc.returncode}):\n{log_path.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
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
) -> Iterator[Server]:
    """Start ``cognate serve`` with ``args``; stop it (SIGINT) afterwards."""
    tmp = tempfile.mkdtemp(prefix="cognate-test-")
    data = data_dir or Path(tmp) / "data"
    port = free_port()
    log_path = Path(tmp) / "server.log"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("COGNATE_")}
    if low_cost:
        full_env["COGNATE_TEST_PASSWORD_HASH_COST"] = "low"
    full_env.update(env or {})
    cmd = [sys.executable, "-m", "cognate.cli", "serve", "--port", str(port), "--data-dir", str(data), *args]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=full_env)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    server = Server(url=url, port=port, data_dir=data, proc=proc, log_path=log_path, env=full_env)
    try:
        wait_healthy(url, proc, log_path)
        yield server
    finally:
        server.stop()
