"""The disk full under SQLite (issue 14).

The database lives on a small tmpfs the test mounts (root only; otherwise the test skips,
saying why). A filler file takes the rest of the space; writes then fail with a clean
``InternalErrorException`` (HTTP 500), reads still answer, and once the filler is gone
writes succeed again without a restart. Afterwards ``PRAGMA integrity_check`` is ``ok``,
every acknowledged write is there and the store's invariants hold.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.faults.load import boto
from tests.support.invariants import check_invariants
from tests.support.server import running_server

SIZE = "4m"
LONG = "x" * 2000  # a long attribute: each user takes pages of its own


@contextmanager
def small_filesystem() -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root")
    where = Path(tempfile.mkdtemp(prefix="cognate-full-"))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0700", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)
        with suppress(OSError):
            where.rmdir()


def fill(directory: Path) -> Path:
    """Take every free byte of ``directory``'s file system."""
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as out:
        size = 1 << 16
        while size:
            try:
                out.write(b"\0" * size)
            except OSError:
                size //= 2  # the last few bytes, in smaller and smaller pieces
    return filler


def test_a_full_disk_gives_clean_errors_and_writes_resume_once_space_is_freed(tmp_path: Path) -> None:
    with small_filesystem() as disk:
        url = f"sqlite:///{disk / 'cognate.db'}"
        acked: list[str] = []
        with running_server("--database-url", url, data_dir=tmp_path / "data") as server:
            admin = boto(server)
            pool_id = admin.create_user_pool(PoolName="full", AliasAttributes=["email"])["UserPool"]["Id"]

            def create(name: str) -> None:
                admin.admin_create_user(
                    UserPoolId=pool_id,
                    Username=name,
                    MessageAction="SUPPRESS",
                    UserAttributes=[
                        {"Name": "email", "Value": f"{name}@example.com"},
                        {"Name": "email_verified", "Value": "true"},
                        {"Name": "name", "Value": LONG},
                    ],
                )
                acked.append(name)

            for n in range(5):
                create(f"before-{n}")
            filler = fill(disk)
            stored_before = len(acked)

            errors: list[dict[str, Any]] = []
            for n in range(400):  # until the WAL needs room it cannot have
                try:
                    create(f"full-{n}")
                except ClientError as exc:
                    errors.append(exc.response)
                    if len(errors) >= 5:
                        break
            assert errors, "the writes never met the full disk"
            len_full = len(acked) - stored_before
            for response in errors:
                assert response["ResponseMetadata"]["HTTPStatusCode"] == 500
                assert response["Error"]["Code"] == "InternalErrorException", response["Error"]
            # what is stored can still be read
            assert admin.admin_get_user(UserPoolId=pool_id, Username="before-0")["Username"] == "before-0"

            filler.unlink()
            for n in range(5):
                create(f"after-{n}")
            for name in acked:
                user = admin.admin_get_user(UserPoolId=pool_id, Username=name)
                attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
                assert (attrs["email"], attrs["name"]) == (f"{name}@example.com", LONG)
        with sqlite3.connect(disk / "cognate.db") as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        violations = check_invariants(url)
        assert violations == [], violations
    print(
        f"\ndisk full: {len_full} writes still fitted, then {len(errors)} refused cleanly"
        " (InternalErrorException),"
        f" {len(acked)} acknowledged writes checked, integrity_check ok"
    )
