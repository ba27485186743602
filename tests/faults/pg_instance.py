"""A PostgreSQL server of a test's own: ``initdb`` into a temporary directory, ``pg_ctl``
to start and stop it on a free port, so a test may take the database away under load.

As root the binaries run as the ``postgres`` user (``runuser``), as PostgreSQL insists.
Without ``initdb`` / ``pg_ctl`` (``/usr/lib/postgresql/*/bin`` or the PATH) the test skips.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.server import free_port


def _bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


@dataclass
class Instance:
    bin: Path
    data: Path
    port: int
    as_user: list[str]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str, timeout: float = 60) -> None:
        cmd = [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data / "db"), *args]
        done = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        if done.returncode != 0:
            log = (self.data / "log").read_text(errors="replace") if (self.data / "log").exists() else ""
            raise RuntimeError(f"pg_ctl {args[-1]} failed: {done.stderr.decode(errors='replace')}\n{log}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-l", str(self.data / "log"), "-w", "-t", "60", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "-t", "60", "stop")

    def postmaster_pid(self) -> int:
        return int((self.data / "db" / "postmaster.pid").read_text().split()[0])


@contextmanager
def postgres_instance() -> Iterator[Instance]:
    """A running server with trust authentication; stopped and removed afterwards."""
    bin_dir = _bin_dir()
    if bin_dir is None or not (bin_dir / "initdb").exists():
        pytest.skip(
            "initdb / pg_ctl not found (Debian: postgresql; looked in PATH and /usr/lib/postgresql/*/bin)"
        )
    as_user: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="cognate-pg-"))
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot run PostgreSQL as another user")
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run PostgreSQL as")
        os.chown(tmp, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    instance = Instance(bin_dir, tmp, free_port(), as_user)
    try:
        subprocess.run(
            [
                *as_user,
                str(bin_dir / "initdb"),
                "-D",
                str(tmp / "db"),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
            capture_output=True,
            timeout=120,
            check=True,
        )
        instance.start()
        yield instance
    finally:
        try:
            if (tmp / "db" / "postmaster.pid").exists():
                instance.stop("immediate")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
