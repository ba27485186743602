"""One alias, one owner, under concurrency: two worker processes, on SQLite and on PostgreSQL.

Issue 6: 20 requests at once, spread over ``cognate serve --workers 2``, each trying to
give one email to a different user. The database's unique index over usable aliases
lets exactly one through; the others get Cognito's error (AliasExistsException, or
UsernameExistsException when the email is the sign-in name), and nothing of theirs
is stored.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.postgres import NO_POSTGRES, POSTGRES_URL, fresh_database
from tests.support.server import Server, running_server

N = 20
EMAIL = "shared@example.com"
PASSWORD = "Passw0rd!long"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def two_workers(request: pytest.FixtureRequest) -> Iterator[Server]:
    """``cognate serve --workers 2`` on a SQLite file, or on a PostgreSQL database of its own."""
    if request.param == "sqlite":
        with running_server("--workers", "2") as srv:
            yield srv
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    with (
        fresh_database("cognate_races") as url,
        running_server("--workers", "2", env={"COGNATE_DATABASE_URL": url}) as srv,
    ):
        yield srv


def race(server: Server, call: Callable[[Any, int], object], *, signed: bool = True) -> list[str]:
    """Run ``call(client, i)`` for i in 0..N-1 at once, each on its own connection; the
    outcome of each: "ok" or the error's code."""
    clients = [server.boto(signed=signed) for _ in range(N)]
    start = threading.Barrier(N)

    def one(i: int) -> str:
        start.wait()
        try:
            call(clients[i], i)
            return "ok"
        except ClientError as err:
            code = str(err.response["Error"]["Code"])
            return f"{code}: {err.response['Error']['Message']}"

    with ThreadPoolExecutor(max_workers=N) as ex:
        return list(ex.map(one, range(N)))


def verified_owners(idp: Any, pool_id: str) -> list[str]:
    users = idp.list_users(UserPoolId=pool_id, Filter=f'email = "{EMAIL}"')["Users"]
    return [
        u["Username"]
        for u in users
        if {a["Name"]: a["Value"] for a in u["Attributes"]}.get("email_verified") == "true"
    ]


def test_admin_create_user_gives_a_verified_email_to_one_user(two_workers: Server) -> None:
    idp = two_workers.boto()
    pool_id = idp.create_user_pool(PoolName="races", AliasAttributes=["email"])["UserPool"]["Id"]

    def create(client: Any, i: int) -> None:
        client.admin_create_user(
            UserPoolId=pool_id,
            Username=f"user{i}",
            MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": EMAIL}, {"Name": "email_verified", "Value": "true"}],
        )

    results = race(two_workers, create)
    exists = "AliasExistsException: An account with the given email already exists."
    assert sorted(results) == sorted(["ok"] + [exists] * (N - 1)), results
    assert len(idp.list_users(UserPoolId=pool_id)["Users"]) == 1  # the refused ones left nothing
    assert len(verified_owners(idp, pool_id)) == 1


def test_admin_update_user_attributes_gives_a_verified_email_to_one_user(two_workers: Server) -> None:
    idp = two_workers.boto()
    pool_id = idp.create_user_pool(PoolName="races", AliasAttributes=["email"])["UserPool"]["Id"]
    for i in range(N):
        idp.admin_create_user(UserPoolId=pool_id, Username=f"user{i}", MessageAction="SUPPRESS")

    def update(client: Any, i: int) -> None:
        client.admin_update_user_attributes(
            UserPoolId=pool_id,
            Username=f"user{i}",
            UserAttributes=[{"Name": "email", "Value": EMAIL}, {"Name": "email_verified", "Value": "true"}],
        )

    results = race(two_workers, update)
    exists = "AliasExistsException: An account with the given email already exists."
    assert sorted(results) == sorted(["ok"] + [exists] * (N - 1)), results
    owners = verified_owners(idp, pool_id)
    assert len(owners) == 1
    assert owners == [f"user{results.index('ok')}"]
    # the winner signs in with the email; the others still have no email at all
    assert idp.admin_get_user(UserPoolId=pool_id, Username=EMAIL)["Username"] == owners[0]
    assert len(idp.list_users(UserPoolId=pool_id, Filter=f'email = "{EMAIL}"')["Users"]) == 1


def test_sign_up_with_one_email_as_username_creates_one_account(two_workers: Server) -> None:
    idp = two_workers.boto()
    pool_id = idp.create_user_pool(PoolName="races", UsernameAttributes=["email"])["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="app")["UserPoolClient"][
        "ClientId"
    ]

    def sign_up(client: Any, i: int) -> None:
        client.sign_up(ClientId=client_id, Username=EMAIL, Password=PASSWORD)

    results = race(two_workers, sign_up, signed=False)
    exists = "UsernameExistsException: An account with the given email already exists."
    assert sorted(results) == sorted(["ok"] + [exists] * (N - 1)), results
    users = idp.list_users(UserPoolId=pool_id)["Users"]
    assert len(users) == 1
    assert users[0]["UserStatus"] == "UNCONFIRMED"
