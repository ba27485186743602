"""The disk full under SQLite (issue 14).

The database lives on a small tmpfs the test mounts (root only; otherwise the test skips,
saying why, and the in-process test below, which makes every SQLite COMMIT fail as a full
disk does, still runs). A filler file takes the rest of the space; writes then fail with a clean
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
import sqlalchemy as sa
from botocore.exceptions import ClientError

from tests.faults.load import boto
from tests.support.inprocess import inprocess_api
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


# --- the same, injected: runs without root --------------------------------------------------


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@contextmanager
def disk_full_midway() -> Iterator[list[int]]:
    """While the list holds a 1, SQLite refuses the attribute index's rows as a full disk
    does (SQLITE_FULL from the statement): the user's own row before them went in, so
    only a rollback of the whole transaction leaves nothing half-written."""
    switch: list[int] = []

    def execute(conn: sa.Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if switch and conn.engine.dialect.name == "sqlite" and statement.startswith("INSERT INTO user_attrs"):
            raise sqlite3.OperationalError("database or disk is full")

    sa.event.listen(sa.Engine, "before_cursor_execute", execute)
    try:
        yield switch
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", execute)


@pytest.mark.anyio
async def test_an_injected_disk_full_error_stores_nothing_and_answers_internal_error(tmp_path: Path) -> None:
    async with inprocess_api(tmp_path) as api:
        pool = {"PoolName": "full", "AliasAttributes": ["email"]}
        pool_id = (await api.admin("CreateUserPool", pool))["UserPool"]["Id"]
        with disk_full_midway() as full:
            full.append(1)
            for n in range(3):
                body = {
                    "UserPoolId": pool_id,
                    "Username": f"u{n}",
                    "MessageAction": "SUPPRESS",
                    "UserAttributes": [{"Name": "email", "Value": f"u{n}@example.com"}],
                }
                answer = await api.call("AdminCreateUser", body, signed=True)
                assert answer.status_code == 500, answer.text
                assert answer.json()["__type"] == "InternalErrorException"
                assert "Traceback" not in answer.text
            listed = await api.admin("ListUsers", {"UserPoolId": pool_id})
            assert listed["Users"] == []  # nothing of the refused writes
            full.clear()
            await api.admin(
                "AdminCreateUser", {"UserPoolId": pool_id, "Username": "u0", "MessageAction": "SUPPRESS"}
            )
        url = f"sqlite:///{api.data_dir / 'cognate.db'}"
    assert check_invariants(url) == []
