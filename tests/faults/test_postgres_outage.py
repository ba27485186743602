"""PostgreSQL taken away under load and given back (issue 14).

The test runs a PostgreSQL server of its own (``initdb`` + ``pg_ctl`` in a temporary
directory, tests/faults/pg_instance.py) and a real ``cognate serve`` on it, and keeps it
busy with sign-ups, administrator writes, sign-ins, GetUser and OAuth refreshes. Then:

- ``pg_ctl stop`` (fast: sessions ended, as a restart or a failover does): while it is
  down every call answers at once with a clean ``InternalErrorException`` (HTTP 500,
  Cognito's ``__type``) or the OAuth ``server_error``: never another error, a reset
  connection, a traceback or a wait;
- ``pg_ctl start``: the server serves again by itself, without a restart, within seconds;
- a restart of PostgreSQL while the server is idle costs no call at all;
- afterwards every acknowledged write is there and nothing is half-written.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from cognate.store.engine import PG_CONNECT_TIMEOUT_S, PG_IDLE_PING_S
from cognate.store.sql import Store
from tests.faults.backends import wait_until
from tests.faults.load import Load, Outcome, boto, oauth_call
from tests.faults.pg_instance import postgres_instance
from tests.support.invariants import check_invariants
from tests.support.server import running_server

PASSWORD = "Passw0rd!"
CLEAN = {"ok", "500 InternalErrorException", "500 server_error"}
# A call while the database is away must fail within this (it fails at once: the port is closed).
BOUND_S = 8.0
# ... and the server must serve every kind of call again within this after the database is back.
RECOVERY_S = 20.0
KINDS = ("sign-up", "admin-create", "sign-in", "get-user", "oauth-refresh")


def test_postgres_stopped_and_started_under_load(tmp_path: Path) -> None:
    with postgres_instance() as pg:
        env = {"COGNATE_DATABASE_URL": pg.url}
        with running_server(data_dir=tmp_path / "data", env=env) as server:
            load, acked, ids = _start_load(server)
            wait_until(lambda: all(_ok(load.since(0), k) for k in KINDS), 30, "the load got going")

            down_at = time.monotonic()
            pg.stop("fast")
            wait_until(
                lambda: all(_failed(load.since(down_at + 0.5), k) for k in KINDS), 30, "each kind failing"
            )
            time.sleep(1.0)  # down a while longer, under load
            up_at = time.monotonic()
            pg.start()
            recovered = wait_until(
                lambda: all(_ok(load.since(up_at), k) for k in KINDS),
                RECOVERY_S,
                "every kind of call served again",
            )
            steady_from = time.monotonic() + 0.5  # calls begun from here on must all succeed
            time.sleep(2.0)
            outcomes = load.finish()

            unclean = [o for o in outcomes if o.result not in CLEAN]
            assert unclean == [], unclean[:5]
            assert not [o for o in outcomes if "Traceback" in o.message or 'File "' in o.message]
            slow = [o for o in outcomes if o.took > BOUND_S]
            assert slow == [], slow[:5]
            failing_after = [o for o in outcomes if o.started >= steady_from and o.result != "ok"]
            assert failing_after == [], failing_after[:5]
            faults = [o for o in outcomes if o.result != "ok"]
            assert len(faults) >= len(KINDS)

            checked = _check_acknowledged(server, ids, acked)

            # A restart while nobody calls: the first calls afterwards find the pool's
            # connections dead, and must not pay for it.
            pg.stop("fast")
            pg.start()
            admin = boto(server)
            for n in range(3):
                admin.admin_create_user(
                    UserPoolId=ids["pool"], Username=f"after-{n}", MessageAction="SUPPRESS"
                )
                admin.admin_get_user(UserPoolId=ids["pool"], Username=f"after-{n}")
        violations = check_invariants(pg.url)
        assert violations == [], violations
    print(
        f"\n{len(outcomes)} calls, {len(faults)} clean failures while PostgreSQL was down"
        f" (slowest call {max(o.took for o in outcomes):.2f} s); every kind served again"
        f" {recovered:.2f} s after pg_ctl start; {checked} acknowledged writes checked"
    )


def _ok(outcomes: list[Outcome], kind: str) -> bool:
    return any(o.kind == kind and o.result == "ok" for o in outcomes)


def _failed(outcomes: list[Outcome], kind: str) -> bool:
    return any(o.kind == kind and o.result != "ok" for o in outcomes)


def _start_load(server: Any) -> tuple[Load, dict[str, list[str]], dict[str, str]]:
    admin, public = boto(server), boto(server, signed=False)
    pool_id = admin.create_user_pool(PoolName="outage", AliasAttributes=["email"])["UserPool"]["Id"]
    client_id = admin.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="c",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    admin.admin_create_user(UserPoolId=pool_id, Username="steady", MessageAction="SUPPRESS")
    admin.admin_set_user_password(UserPoolId=pool_id, Username="steady", Password=PASSWORD, Permanent=True)
    sign_in = {"USERNAME": "steady", "PASSWORD": PASSWORD}
    tokens = public.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=sign_in)[
        "AuthenticationResult"
    ]
    refresh = tokens["RefreshToken"]
    ids = {"pool": pool_id, "client": client_id}
    acked: dict[str, list[str]] = {"sign-up": [], "admin-create": []}
    lock = threading.Lock()
    run = uuid.uuid4().hex[:6]

    def ack(kind: str) -> Any:
        def record(n: int, _answer: Any) -> None:
            with lock:
                acked[kind].append(f"{kind[0]}{run}-{n}")

        return record

    load = Load()
    http = httpx.Client(base_url=server.url)
    load.run(
        "sign-up",
        lambda n: public.sign_up(ClientId=client_id, Username=f"s{run}-{n}", Password=PASSWORD),
        ack("sign-up"),
    )
    load.run(
        "admin-create",
        lambda n: admin.admin_create_user(
            UserPoolId=pool_id,
            Username=f"a{run}-{n}",
            MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "email", "Value": f"a{run}-{n}@example.com"},
                {"Name": "email_verified", "Value": "true"},
            ],
        ),
        ack("admin-create"),
    )
    load.run(
        "sign-in",
        lambda n: public.initiate_auth(
            ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=sign_in
        ),
    )
    load.run(
        "oauth-refresh",
        lambda n: oauth_call(
            http,
            "/oauth2/token",
            {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": refresh},
        ),
    )
    load.run("get-user", lambda n: public.get_user(AccessToken=tokens["AccessToken"]))
    return load, acked, ids


def _check_acknowledged(server: Any, ids: dict[str, str], acked: dict[str, list[str]]) -> int:
    admin = boto(server)
    for name in acked["sign-up"]:
        assert admin.admin_get_user(UserPoolId=ids["pool"], Username=name)["UserStatus"] == "UNCONFIRMED"
    for name in acked["admin-create"]:
        user = admin.admin_get_user(UserPoolId=ids["pool"], Username=name)
        attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
        assert attrs["email"] == f"{name}@example.com" and attrs["sub"]
        # the alias was written with the user: it signs the user in
        assert admin.admin_get_user(UserPoolId=ids["pool"], Username=attrs["email"])["Username"] == name
    return sum(len(v) for v in acked.values())


def test_a_database_that_never_answers_fails_a_call_within_the_connect_timeout() -> None:
    """A host that takes the TCP connection and never speaks (a stopped or partitioned
    server): the store gives up after its connect timeout instead of holding the request
    (asyncpg alone would wait 60 s)."""
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(64)  # the kernel completes the handshakes; nobody ever answers
        store = Store(f"postgresql://postgres@127.0.0.1:{hole.getsockname()[1]}/nowhere")

        async def call() -> float:
            started = time.monotonic()
            try:
                with pytest.raises((TimeoutError, OSError, sa.exc.DBAPIError)):
                    await asyncio.wait_for(store.count_users("p"), 60)
                return time.monotonic() - started
            finally:
                await store.close()

        took = asyncio.run(call())
    assert PG_CONNECT_TIMEOUT_S - 0.5 <= took <= PG_CONNECT_TIMEOUT_S + 5, took
    print(f"\nno answer from the database: the call failed after {took:.2f} s")


def test_a_restart_while_idle_costs_no_call() -> None:
    """PostgreSQL restarted while the store sat idle: its pooled connections are dead, and
    the next calls must not pay for it (an idle connection is pinged before use)."""
    with postgres_instance() as pg:

        async def run() -> list[int]:
            store = Store(pg.url)
            try:
                await store.migrate()
                counts = [await store.count_users("p")]
                await asyncio.sleep(PG_IDLE_PING_S)
                pg.stop("fast")  # the loop is blocked meanwhile: it learns of nothing
                pg.start()
                counts += [await store.count_users("p") for _ in range(3)]
                return counts
            finally:
                await store.close()

        assert asyncio.run(run()) == [0, 0, 0, 0]
