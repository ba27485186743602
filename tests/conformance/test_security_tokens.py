"""Token lifecycle findings (issue 7, items 16 and 20), as the audit made them.

16: access tokens of a deleted app client still passed GetUser; a refresh token rotated
out worked again once rotation was turned off. 20: with RetryGracePeriodSeconds 0, one
refresh token rotated by eight concurrent calls over two nodes succeeded five times.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.helpers import raw_post, unique
from tests.conformance.test_signin import make_client, make_user, sign_in
from tests.support.server import Server, running_server

FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


def test_deleting_an_app_client_ends_its_access_tokens(
    idp: Any, public_idp: Any, pool: dict[str, Any]
) -> None:
    client = make_client(idp, pool["Id"])
    name = make_user(idp, pool["Id"])
    access = sign_in(public_idp, client["ClientId"], name)["AuthenticationResult"]["AccessToken"]
    assert public_idp.get_user(AccessToken=access)["Username"] == name
    idp.delete_user_pool_client(UserPoolId=pool["Id"], ClientId=client["ClientId"])
    with pytest.raises(public_idp.exceptions.NotAuthorizedException):
        public_idp.get_user(AccessToken=access)
    with pytest.raises(public_idp.exceptions.NotAuthorizedException):
        public_idp.global_sign_out(AccessToken=access)


def test_a_rotated_out_refresh_token_stays_dead_when_rotation_is_turned_off(
    idp: Any, public_idp: Any, pool: dict[str, Any]
) -> None:
    client = make_client(
        idp, pool["Id"], RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 0}
    )
    cid = client["ClientId"]
    first = sign_in(public_idp, cid, make_user(idp, pool["Id"]))["AuthenticationResult"]["RefreshToken"]
    second = public_idp.get_tokens_from_refresh_token(RefreshToken=first, ClientId=cid)[
        "AuthenticationResult"
    ]["RefreshToken"]
    idp.update_user_pool_client(
        UserPoolId=pool["Id"],
        ClientId=cid,
        ExplicitAuthFlows=FLOWS,
        RefreshTokenRotation={"Feature": "DISABLED"},
    )
    for attempt in (
        lambda: public_idp.initiate_auth(
            ClientId=cid, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": first}
        ),
        lambda: public_idp.get_tokens_from_refresh_token(RefreshToken=first, ClientId=cid),
    ):
        with pytest.raises(public_idp.exceptions.NotAuthorizedException):
            attempt()
    # The token that replaced it is the live one.
    out = public_idp.initiate_auth(
        ClientId=cid, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": second}
    )
    assert "AccessToken" in out["AuthenticationResult"]


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    """Two server processes over one database (one data dir: one master key, one key pair)."""
    data: Path = tmp_path_factory.mktemp("nodes") / "data"
    with running_server(data_dir=data) as a, running_server(data_dir=data) as b:
        yield a, b


def _refresh_race(nodes: tuple[Server, Server], cid: str, token: str, n: int = 8) -> list[Any]:
    barrier = threading.Barrier(n)

    def one(i: int) -> Any:
        barrier.wait()
        r = raw_post(nodes[i % 2], "GetTokensFromRefreshToken", {"ClientId": cid, "RefreshToken": token})
        return r.json()["AuthenticationResult"] if r.status_code == 200 else r.json()["__type"]

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_without_a_grace_period_exactly_one_concurrent_rotation_wins(
    two_nodes: tuple[Server, Server],
) -> None:
    idp, public_idp = two_nodes[0].boto(), two_nodes[1].boto(signed=False)
    pool_id = idp.create_user_pool(PoolName=unique())["UserPool"]["Id"]
    client = make_client(
        idp, pool_id, RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 0}
    )
    cid = client["ClientId"]
    name = make_user(idp, pool_id)
    for _ in range(3):
        token = sign_in(public_idp, cid, name)["AuthenticationResult"]["RefreshToken"]
        results = _refresh_race(two_nodes, cid, token)
        won = [r for r in results if isinstance(r, dict)]
        assert len(won) == 1, results
        assert all(r == "RefreshTokenReuseException" for r in results if not isinstance(r, dict)), results
        # The winner's new token is the one that lives on.
        again = public_idp.get_tokens_from_refresh_token(RefreshToken=won[0]["RefreshToken"], ClientId=cid)
        assert "AccessToken" in again["AuthenticationResult"]


def test_within_a_grace_period_retries_succeed_and_stay_one_family(two_nodes: tuple[Server, Server]) -> None:
    idp, public_idp = two_nodes[0].boto(), two_nodes[1].boto(signed=False)
    pool_id = idp.create_user_pool(PoolName=unique())["UserPool"]["Id"]
    client = make_client(
        idp, pool_id, RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 60}
    )
    cid = client["ClientId"]
    token = sign_in(public_idp, cid, make_user(idp, pool_id))["AuthenticationResult"]["RefreshToken"]
    results = _refresh_race(two_nodes, cid, token)
    assert all(isinstance(r, dict) for r in results), results
    handed_out = {r["RefreshToken"] for r in results}
    assert len(handed_out) == len(results)
    accesses = [r["AccessToken"] for r in results]
    # Revoking one of them revokes the whole family: every refresh token and access token.
    public_idp.revoke_token(Token=sorted(handed_out)[0], ClientId=cid)
    for refresh in handed_out | {token}:
        with pytest.raises(public_idp.exceptions.NotAuthorizedException):
            public_idp.get_tokens_from_refresh_token(RefreshToken=refresh, ClientId=cid)
    for access in accesses:
        with pytest.raises(public_idp.exceptions.NotAuthorizedException):
            public_idp.get_user(AccessToken=access)
