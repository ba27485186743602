"""The servers under load: ``cognate serve``, the bare hello, moto -- each pinned to the server core.

Pinning is done with ``os.sched_setaffinity`` in the child before it executes (the same
as ``taskset -c``), so every thread and worker process the server starts inherits it.
Server CPU is read from ``/proc/PID/stat`` (utime + stime) of the process and all its
descendants.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
NODE_MODULES = BENCH / "node_modules"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def session_nice() -> None:
    """Give this process's scheduling group the process's own nice value.

    Linux with autogroup scheduling (``/proc/sys/kernel/sched_autogroup_enabled``) shares
    the CPU between sessions first: ``nice`` then only orders a session's own processes,
    so a bench run with ``nice -n -15`` would still get no more than any other session,
    and a server started in a session of its own (as below) would run at the default.
    Writing the nice value to ``/proc/self/autogroup`` makes it count between sessions
    too. Without autogroup (or the right to raise priority) this does nothing.
    """
    with contextlib.suppress(OSError):
        nice = os.getpriority(os.PRIO_PROCESS, 0)
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(nice))


def pinned(cores: list[int]) -> Callable[[], None]:
    """A ``preexec_fn``: the child on ``cores``, its session as nice as the bench."""

    def setup() -> None:
        os.sched_setaffinity(0, cores)
        session_nice()

    return setup


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env() -> dict[str, str]:
    """The environment for servers: never the test-only hash cost, nor stray COGNATE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COGNATE_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


class Server:
    def __init__(
        self,
        name: str,
        cmd: list[str],
        port: int,
        cores: list[int],
        health: str,
        log: Path,
        *,
        cwd: Path = REPO,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.port = port
        self.cores = cores
        self.health = health
        self.log_path = log
        self._log = open(log, "ab")
        self.proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env={**clean_env(), **(env or {})},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=pinned(cores),
            start_new_session=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}); log: {self.tail()}")
            try:
                with urllib.request.urlopen(self.url + self.health, timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.01)
        raise RuntimeError(f"{self.name} not ready after {timeout}s; log: {self.tail()}")

    def tail(self, n: int = 3000) -> str:
        self._log.flush()
        try:
            return self.log_path.read_bytes()[-n:].decode(errors="replace")
        except OSError:
            return ""

    def pids(self) -> list[int]:
        """The server process and its descendants (uvicorn's worker processes)."""
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
        out, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(children.get(pid, []))
        return out

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        return total / CLK_TCK

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()


def core_busy_seconds(cores: list[int]) -> float:
    """Busy time (everything but idle and iowait) of these cores, from /proc/stat, plus steal."""
    busy = 0
    for line in Path("/proc/stat").read_text().splitlines():
        name, *vals = line.split()
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cores:
            ticks = [int(v) for v in vals]
            # user nice system idle iowait irq softirq steal (guest time is inside user)
            busy += sum(ticks[:8]) - ticks[3] - ticks[4]
    return busy / CLK_TCK


def start_cognate(
    data_dir: Path,
    cores: list[int],
    workers: int,
    log: Path,
    log_level: str | None = None,
    env: dict[str, str] | None = None,
) -> Server:
    port = free_port()
    cmd = [sys.executable, "-m", "cognate.cli", "serve", "--port", str(port), "--data-dir", str(data_dir)]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    if log_level:
        cmd += ["--log-level", log_level]
    server = Server("cognate", cmd, port, cores, "/health", log, env=env)
    server.wait_ready()
    return server


def start_hello(cores: list[int], workers: int, log: Path, body_file: Path | None = None) -> Server:
    port = free_port()
    cmd = [sys.executable, "-m", "bench.hello", "--port", str(port), "--workers", str(workers)]
    if body_file is not None:
        cmd += ["--body-file", str(body_file)]
    server = Server("hello", cmd, port, cores, "/health", log)
    server.wait_ready()
    return server


def start_moto(cores: list[int], log: Path) -> Server:
    port = free_port()
    cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    server = Server("moto", cmd, port, cores, "/moto-api/", log)
    server.wait_ready()
    return server


def node_peers_missing() -> str | None:
    """Why the node peers cannot run, or None (they are installed with npm inside bench/)."""
    import shutil

    if shutil.which("node") is None:
        return "node is not installed"
    for pkg in ("oidc-provider", "cognito-local"):
        if not (NODE_MODULES / pkg).is_dir():
            return f"{pkg} is not installed: run (cd bench && npm install)"
    return None


def start_oidc_provider(cores: list[int], log: Path) -> Server:
    """node's oidc-provider with two RSA-2048 keys; its JWKS is at /jwks."""
    port = free_port()
    cmd = ["node", str(BENCH / "peers" / "oidc_jwks.mjs"), str(port)]
    server = Server(
        "oidc-provider",
        cmd,
        port,
        cores,
        "/.well-known/openid-configuration",
        log,
        cwd=BENCH,
        env={"NODE_ENV": "production"},
    )
    server.wait_ready()
    return server


def start_cognito_local(cores: list[int], log: Path, work: Path) -> Server:
    """cognito-local (its data in ``work``/.cognito), the node Cognito emulator."""
    port = free_port()
    work.mkdir(parents=True, exist_ok=True)
    cmd = ["node", str(NODE_MODULES / "cognito-local" / "lib" / "bin" / "start.js")]
    server = Server(
        "cognito-local",
        cmd,
        port,
        cores,
        "/health",
        log,
        cwd=work,
        env={"PORT": str(port), "NODE_ENV": "production"},
    )
    server.wait_ready()
    return server
