"""The audit log of administrative changes (issue 13, "Operating it"): every IAM-signed write
and operator command is one entry (who, what, when, from where, how it ended), in the
database and on the logger ``cognate.audit``; never a password, a secret or an attribute's
value; ``cognate audit`` prints it as JSON lines."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cognate.core.audit import Audit, as_json
from cognate.core.clock import Clock
from cognate.store.cached import CachingStore
from tests.support.inprocess import InProcessApi, inprocess_api

pytestmark = pytest.mark.anyio
TEMPORARY = "Temp-0rary-Passw0rd!"
PASSWORD = "Perm-anent-Passw0rd!"
EMAIL = "secret.person@example.com"


async def audit_log(api: InProcessApi, **kw: Any) -> list[dict[str, Any]]:
    store = CachingStore(f"sqlite:///{api.data_dir / 'cognate.db'}")
    try:
        return [as_json(e) async for e in Audit(store, Clock()).entries(**kw)]
    finally:
        await store.close()


async def admin_changes(api: InProcessApi) -> dict[str, str]:
    """A pool, a client with a secret, a user with a temporary and then a permanent password."""
    pool_id = (await api.admin("CreateUserPool", {"PoolName": "audited"}))["UserPool"]["Id"]
    client = (
        await api.admin(
            "CreateUserPoolClient",
            {"UserPoolId": pool_id, "ClientName": "app", "GenerateSecret": True},
        )
    )["UserPoolClient"]
    await api.admin(
        "AdminCreateUser",
        {
            "UserPoolId": pool_id,
            "Username": "ann",
            "TemporaryPassword": TEMPORARY,
            "MessageAction": "SUPPRESS",
            "UserAttributes": [{"Name": "email", "Value": EMAIL}],
        },
    )
    await api.admin(
        "AdminSetUserPassword",
        {"UserPoolId": pool_id, "Username": "ann", "Password": PASSWORD, "Permanent": True},
    )
    return {"pool_id": pool_id, "client_id": client["ClientId"], "secret": client["ClientSecret"]}


async def test_every_admin_write_is_an_entry_and_reads_are_not(
    api: InProcessApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cognate.audit")
    made = await admin_changes(api)
    pool_id = made["pool_id"]
    # Reads, a user's own calls and the administrative sign-in are no administrative changes.
    await api.admin("DescribeUserPool", {"UserPoolId": pool_id})
    await api.admin("ListUsers", {"UserPoolId": pool_id})
    await api.admin("AdminGetUser", {"UserPoolId": pool_id, "Username": "ann"})
    await api.error(
        "AdminDeleteUser", {"UserPoolId": pool_id, "Username": "nobody"}, "UserNotFoundException", signed=True
    )
    api.clock.advance(5)
    await api.admin(
        "AdminUpdateUserAttributes",
        {
            "UserPoolId": pool_id,
            "Username": "ann",
            "UserAttributes": [{"Name": "email", "Value": "b@example.com"}],
        },
    )
    entries = await audit_log(api)
    assert [(e["operation"], e["result"]) for e in entries] == [
        ("CreateUserPool", "ok"),
        ("CreateUserPoolClient", "ok"),
        ("AdminCreateUser", "ok"),
        ("AdminSetUserPassword", "ok"),
        ("AdminDeleteUser", "UserNotFoundException"),
        ("AdminUpdateUserAttributes", "ok"),
    ]
    key = api.credentials["AccessKeyId"]
    assert {(e["actor"], e["door"], e["source_ip"]) for e in entries} == {(key, "aws", "192.0.2.10")}
    created_pool, created_client, created_user, set_password, _, updated = entries
    assert created_pool["target"] == {"UserPoolId": pool_id}  # the id the operation made
    assert created_pool["fields"] == ["PoolName"]
    assert created_client["target"] == {"UserPoolId": pool_id, "ClientId": made["client_id"]}
    assert created_client["fields"] == ["ClientName", "GenerateSecret"]
    assert created_user["target"] == {"UserPoolId": pool_id, "Username": "ann"}
    assert created_user["fields"] == ["MessageAction", "TemporaryPassword", "UserAttributes.email"]
    assert set_password["fields"] == ["Password", "Permanent"]
    assert updated["fields"] == ["UserAttributes.email"]
    assert updated["time"].endswith("Z") and updated["time"] > set_password["time"]
    # The logger carries the same entries, for a log shipper.
    logged = [r.fields for r in caplog.records if r.name == "cognate.audit"]  # type: ignore[attr-defined]
    assert logged == entries


async def test_no_secret_or_value_reaches_the_audit_log(
    api: InProcessApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    made = await admin_changes(api)
    written = json.dumps(await audit_log(api))
    logged = caplog.text + json.dumps([getattr(r, "fields", None) for r in caplog.records])
    for secret in (TEMPORARY, PASSWORD, made["secret"], EMAIL):
        assert secret not in written
        assert secret not in logged
    with (api.data_dir / "cognate.db").open("rb") as db:  # not even in the audit rows' bytes
        assert made["secret"].encode() not in db.read()


async def test_pool_and_since_filters(api: InProcessApi) -> None:
    first = (await api.admin("CreateUserPool", {"PoolName": "one"}))["UserPool"]["Id"]
    api.clock.advance(3600)
    second = (await api.admin("CreateUserPool", {"PoolName": "two"}))["UserPool"]["Id"]
    await api.admin("CreateGroup", {"UserPoolId": first, "GroupName": "staff"})
    assert [e["operation"] for e in await audit_log(api, pool_id=first)] == ["CreateUserPool", "CreateGroup"]
    recent = await audit_log(api, since=api.clock.now() - 60)
    assert [e["target"] for e in recent] == [
        {"UserPoolId": second},
        {"UserPoolId": first, "GroupName": "staff"},
    ]


def cognate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cognate.cli", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_cognate_audit_prints_json_lines_and_operator_commands_are_entries(tmp_path: Path) -> None:
    async def changes() -> str:
        async with inprocess_api(tmp_path, clock=Clock()) as api:
            return (await admin_changes(api))["pool_id"]

    pool_id = asyncio.run(changes())
    data_dir = str(tmp_path / "data")
    rotated = cognate("keys", "rotate", pool_id, "--data-dir", data_dir)
    assert rotated.returncode == 0, rotated.stderr
    printed = cognate("audit", "--data-dir", data_dir, "--pool", pool_id, "--since", "1h")
    assert printed.returncode == 0, printed.stderr
    lines = [json.loads(line) for line in printed.stdout.splitlines()]
    assert [e["operation"] for e in lines] == [
        "CreateUserPool",
        "CreateUserPoolClient",
        "AdminCreateUser",
        "AdminSetUserPassword",
        "keys rotate",
    ]
    rotation = lines[-1]
    assert rotation["actor"].startswith("cli:") and rotation["door"] == "admin"
    assert rotation["target"] == {"UserPoolId": pool_id} and rotation["result"] == "ok"
    assert set(lines[0]) == {
        "id",
        "time",
        "actor",
        "operation",
        "target",
        "fields",
        "result",
        "door",
        "source_ip",
    }
    assert cognate("audit", "--data-dir", data_dir, "--since", "2999-01-01").stdout == ""
    wrong = cognate("audit", "--data-dir", data_dir, "--since", "yesterday")
    assert wrong.returncode == 2 and "--since 'yesterday'" in wrong.stderr
    missing = cognate("audit", "--data-dir", str(tmp_path / "nothing-here"))
    assert missing.returncode == 2 and "no Cognate database" in missing.stderr


def test_the_rotations_of_the_master_key_and_the_admin_key_pair_are_entries(tmp_path: Path) -> None:
    async def changes() -> str:
        async with inprocess_api(tmp_path, clock=Clock()) as api:
            return (await admin_changes(api))["pool_id"]

    asyncio.run(changes())
    data_dir = str(tmp_path / "data")
    for command in (("rotate-admin-key", "--grace", "60"), ("rotate-master-key", "--new-key")):
        done = cognate(*command, "--data-dir", data_dir)
        assert done.returncode == 0, done.stderr
    printed = cognate("audit", "--data-dir", data_dir, "--since", "1h")
    entries = [json.loads(line) for line in printed.stdout.splitlines()]
    operator = [(e["operation"], e["fields"]) for e in entries if e["actor"].startswith("cli:")]
    assert operator == [("rotate-admin-key", ["AdminKeyPair"]), ("rotate-master-key", ["MasterKey"])]
