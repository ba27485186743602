"""SIGKILL in the middle of a burst of writes (issue 14), on SQLite and on PostgreSQL.

A real ``cognate serve`` takes sign-ups, administrator writes (a user with a verified
email alias and a preferred_username, then a change of that alias) and refresh-token
rotations from several threads, is killed with SIGKILL (no shutdown, no flush), and is
started again on the same database. Every write the server acknowledged (a 200 reached
the client) must be there, whole; the store's invariants (tests/support/invariants.py)
must hold: nothing half-written.
"""

from __future__ import annotations

import hashlib
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from tests.faults.backends import BACKENDS, backend
from tests.support.invariants import check_invariants, read_table
from tests.support.server import Server, running_server

PASSWORD = "Passw0rd!"
# What a call meets when the server dies under it (a body cut short does not parse).
GONE = (BotoCoreError, ClientError, OSError, ResponseParserError)
ROTATORS = 2
FLOWS = ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


@dataclass
class Acked:
    """What the server acknowledged, by kind."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    signups: list[str] = field(default_factory=list)
    created: dict[str, str] = field(default_factory=dict)  # username -> preferred_username at creation
    updated: dict[str, str] = field(default_factory=dict)  # username -> the acknowledged new value
    refresh: dict[int, str] = field(default_factory=dict)  # rotator -> its last acknowledged token
    rotations: int = 0

    def counts(self) -> tuple[int, int, int]:
        with self.lock:
            return len(self.signups), len(self.created) + len(self.updated), self.rotations


@pytest.mark.parametrize("kind", BACKENDS)
def test_every_acknowledged_write_survives_a_sigkill(tmp_path: Path, kind: str) -> None:
    data = tmp_path / "data"
    acked = Acked()
    with backend(kind, data) as (url, env):
        with running_server(data_dir=data, env=env) as server:
            pool_id, client_id = _pool(server, acked)
            workers: list[Callable[[], None]] = [
                lambda: _sign_ups(server, client_id, acked),
                lambda: _admin_writes(server, pool_id, acked),
                *[lambda i=i: _rotations(server, client_id, i, acked) for i in range(ROTATORS)],
            ]
            unexpected: list[str] = []
            threads = [threading.Thread(target=_guarded(w, unexpected), daemon=True) for w in workers]
            for t in threads:
                t.start()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                signups, admin, rotations = acked.counts()
                if min(signups, admin, rotations) >= 5 and signups + admin + rotations >= 60:
                    break
                time.sleep(0.05)
            server.proc.kill()  # SIGKILL mid-burst
            server.proc.wait()
            for t in threads:
                t.join(timeout=30)
            assert unexpected == [], unexpected[0]
            signups, admin, rotations = acked.counts()
            assert min(signups, admin, rotations) >= 1, f"the burst never got going: {acked.counts()}"

        with running_server(data_dir=data, env=env) as again:
            checked = _check_acknowledged(again, pool_id, client_id, url, acked)
            again.boto().admin_create_user(UserPoolId=pool_id, Username="after", MessageAction="SUPPRESS")
        violations = check_invariants(url)
        assert violations == [], violations
    print(
        f"\n{kind}: SIGKILL after {signups} sign-ups, {admin} admin writes and {rotations} refresh"
        f" rotations acknowledged; {checked} writes checked after the restart"
    )


def _pool(server: Server, acked: Acked) -> tuple[str, str]:
    idp = server.boto()
    pool_id = idp.create_user_pool(PoolName="crash", AliasAttributes=["email", "preferred_username"])[
        "UserPool"
    ]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="c",
        ExplicitAuthFlows=FLOWS,
        RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 0},
    )["UserPoolClient"]["ClientId"]
    for i in range(ROTATORS):
        name = f"rotator-{i}"
        idp.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS")
        idp.admin_set_user_password(UserPoolId=pool_id, Username=name, Password=PASSWORD, Permanent=True)
        result = idp.admin_initiate_auth(
            UserPoolId=pool_id,
            ClientId=client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD},
        )["AuthenticationResult"]
        acked.refresh[i] = result["RefreshToken"]
    return pool_id, client_id


def _guarded(worker: Callable[[], None], unexpected: list[str]) -> Callable[[], None]:
    def run() -> None:
        try:
            worker()
        except Exception:
            unexpected.append(traceback.format_exc())

    return run


# The workers: each stops at its first failure (the server is gone: that write was never acknowledged).


def _sign_ups(server: Server, client_id: str, acked: Acked) -> None:
    public = server.boto(signed=False)
    for n in range(1_000_000):
        name = f"s{n}"
        try:
            public.sign_up(ClientId=client_id, Username=name, Password=PASSWORD)
        except GONE:
            return
        with acked.lock:
            acked.signups.append(name)


def _admin_writes(server: Server, pool_id: str, acked: Acked) -> None:
    admin = server.boto()
    for n in range(1_000_000):
        name = f"a{n}"
        try:
            admin.admin_create_user(
                UserPoolId=pool_id,
                Username=name,
                MessageAction="SUPPRESS",
                UserAttributes=[
                    {"Name": "email", "Value": f"{name}@example.com"},
                    {"Name": "email_verified", "Value": "true"},
                    {"Name": "preferred_username", "Value": f"p-{name}"},
                ],
            )
            with acked.lock:
                acked.created[name] = f"p-{name}"
            admin.admin_update_user_attributes(
                UserPoolId=pool_id,
                Username=name,
                UserAttributes=[{"Name": "preferred_username", "Value": f"q-{name}"}],
            )
            with acked.lock:
                acked.updated[name] = f"q-{name}"
                del acked.created[name]
        except GONE:
            return


def _rotations(server: Server, client_id: str, i: int, acked: Acked) -> None:
    public = server.boto(signed=False)
    while True:
        try:
            result = public.get_tokens_from_refresh_token(RefreshToken=acked.refresh[i], ClientId=client_id)
        except GONE:
            return
        if "AuthenticationResult" not in result:
            # Killed between the answer's head and its body: botocore parses a 200 whose body
            # never came as {}. The rotation may be stored; its new token never arrived.
            return
        with acked.lock:
            acked.refresh[i] = result["AuthenticationResult"]["RefreshToken"]
            acked.rotations += 1


def _check_acknowledged(server: Server, pool_id: str, client_id: str, url: str, acked: Acked) -> int:
    """Every acknowledged write is there, whole; the number of writes checked."""
    idp, public = server.boto(), server.boto(signed=False)

    def attributes(name: str) -> dict[str, Any]:
        user = idp.admin_get_user(UserPoolId=pool_id, Username=name)
        attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
        assert attrs.get("sub"), user
        return attrs | {"status": user["UserStatus"]}

    for name in acked.signups:
        assert attributes(name)["status"] == "UNCONFIRMED"
    for name, nickname in acked.created.items():
        # the change may have been applied without its answer reaching the client: never half of it
        assert attributes(name)["preferred_username"] in (nickname, nickname.replace("p-", "q-"))
    for name, nickname in acked.updated.items():
        attrs = attributes(name)
        assert (attrs["preferred_username"], attrs["email_verified"]) == (nickname, "true")
        # the alias the change gave signs the user in; the one it took away no longer names anyone
        assert idp.admin_get_user(UserPoolId=pool_id, Username=nickname)["Username"] == name
        with pytest.raises(idp.exceptions.UserNotFoundException):
            idp.admin_get_user(UserPoolId=pool_id, Username=nickname.replace("q-", "p-"))
    stored = {r["token_hash"]: r for r in read_table(url, "refresh_tokens")}
    for token in acked.refresh.values():
        row = stored[hashlib.sha256(token.encode()).hexdigest()]
        assert row["revoked_at"] is None
        if row["rotated_at"] is None:
            public.get_tokens_from_refresh_token(RefreshToken=token, ClientId=client_id)
        # else: its rotation was stored, its answer never arrived; the invariants check the successor
    return len(acked.signups) + len(acked.created) + 2 * len(acked.updated) + acked.rotations
