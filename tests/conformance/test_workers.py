"""Several worker processes share one store: lockout is counted across them, and a
revoked token is refused by every worker at once (issue 3)."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from tests.conformance.test_signin import PASSWORD, make_client, make_user, sign_in
from tests.support.server import Server, running_server


@pytest.fixture(scope="module")
def two_workers() -> Iterator[Server]:
    with running_server("--workers", "2") as srv:
        yield srv


def _attempt(server: Server, client_id: str, username: str, password: str) -> str:
    idp = server.boto(signed=False)
    try:
        sign_in(idp, client_id, username, password)
        return "ok"
    except ClientError as err:
        return err.response["Error"]["Message"]


def test_lockout_counted_across_two_workers(two_workers: Server) -> None:
    idp = two_workers.boto()
    pool = idp.create_user_pool(PoolName="lock")["UserPool"]
    client = make_client(idp, pool["Id"])
    name = make_user(idp, pool["Id"])
    with ThreadPoolExecutor(max_workers=16) as ex:
        results = list(
            ex.map(lambda _: _attempt(two_workers, client["ClientId"], name, "Wrong-passw0rd"), range(24))
        )
    incorrect = results.count("Incorrect username or password.")
    exceeded = results.count("Password attempts exceeded")
    assert incorrect + exceeded == 24, results
    # five failures lock the user; a second of lockout leaves room for at most a few more
    assert 5 <= incorrect <= 8, results
    assert exceeded >= 16, results
    assert _attempt(two_workers, client["ClientId"], name, PASSWORD) == "Password attempts exceeded"


def test_revocation_seen_by_every_worker(two_workers: Server) -> None:
    idp = two_workers.boto()
    public = two_workers.boto(signed=False)
    pool = idp.create_user_pool(PoolName="revoke")["UserPool"]
    client = make_client(idp, pool["Id"])
    name = make_user(idp, pool["Id"])
    result = sign_in(public, client["ClientId"], name)["AuthenticationResult"]
    for _ in range(6):  # warm every worker's caches with the valid token
        public.get_user(AccessToken=result["AccessToken"])
    public.revoke_token(Token=result["RefreshToken"], ClientId=client["ClientId"])
    time.sleep(1.0)  # other workers may take up to one second to see it
    refused = 0
    for _ in range(10):  # fresh connections land on either worker
        fresh = two_workers.boto(signed=False)
        with pytest.raises(fresh.exceptions.NotAuthorizedException):
            fresh.get_user(AccessToken=result["AccessToken"])
        refused += 1
    assert refused == 10


def test_unknown_user_and_wrong_password_take_the_same_time(server: Server) -> None:
    idp = server.boto()
    pool = idp.create_user_pool(PoolName="timing")["UserPool"]
    client = make_client(idp, pool["Id"], PreventUserExistenceErrors="ENABLED")
    users = [make_user(idp, pool["Id"]) for _ in range(12)]
    public = server.boto(signed=False)

    def timed(username: str) -> float:
        start = time.perf_counter()
        with pytest.raises(public.exceptions.NotAuthorizedException) as err:
            sign_in(public, client["ClientId"], username, "Wrong-passw0rd")
        assert err.value.response["Error"]["Message"] == "Incorrect username or password."
        return time.perf_counter() - start

    known, unknown = [], []
    for i in range(36):  # interleaved, three tries per user (below the lockout threshold)
        known.append(timed(users[i % 12]))
        unknown.append(timed(f"ghost-{uuid.uuid4().hex[:8]}"))
    k, u = statistics.median(known), statistics.median(unknown)
    assert abs(k - u) <= max(0.004, 0.35 * max(k, u)), (k, u)


def test_concurrent_right_passwords_are_not_locked_out(two_workers: Server) -> None:
    idp = two_workers.boto()
    pool = idp.create_user_pool(PoolName="busy")["UserPool"]
    client = make_client(idp, pool["Id"])
    name = make_user(idp, pool["Id"])
    with ThreadPoolExecutor(max_workers=12) as ex:
        results = list(ex.map(lambda _: _attempt(two_workers, client["ClientId"], name, PASSWORD), range(24)))
    assert results == ["ok"] * 24, results


def test_an_authorization_code_is_redeemed_once_across_workers(two_workers: Server) -> None:
    """Issue 8: many simultaneous redemptions of one code on two workers give tokens at most once,
    and the replay revokes what the first redemption issued."""
    import httpx

    from tests.conformance.helpers import GOOD_PASSWORD
    from tests.conformance.oauth_browser import Browser

    idp = two_workers.boto()
    pool = idp.create_user_pool(PoolName="codes")["UserPool"]
    callback = "http://localhost:8765/cb"
    client = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="web",
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid"],
        CallbackURLs=[callback],
        SupportedIdentityProviders=["COGNITO"],
    )["UserPoolClient"]
    name = f"u{uuid.uuid4().hex[:8]}"
    idp.admin_create_user(UserPoolId=pool["Id"], Username=name, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool["Id"], Username=name, Password=GOOD_PASSWORD, Permanent=True)
    browser = Browser(two_workers.url)
    try:
        url = httpx.URL(
            f"{two_workers.url}/oauth2/authorize",
            params={"client_id": client["ClientId"], "redirect_uri": callback, "response_type": "code"},
        )
        code = httpx.URL(browser.sign_in(str(url), name, GOOD_PASSWORD, callback)).params["code"]
    finally:
        browser.close()
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": callback,
        "client_id": client["ClientId"],
    }

    def redeem(_: int) -> httpx.Response:
        return httpx.post(f"{two_workers.url}/oauth2/token", data=data, timeout=30)

    with ThreadPoolExecutor(max_workers=8) as ex:
        results = list(ex.map(redeem, range(8)))
    ok = [r for r in results if r.status_code == 200]
    assert len(ok) <= 1, [r.text for r in results]
    assert all(r.json()["error"] == "invalid_grant" for r in results if r.status_code != 200)
    if ok:  # the replays revoked the family: its access token no longer works on any worker
        for _ in range(4):
            info = httpx.get(
                f"{two_workers.url}/oauth2/userInfo",
                headers={"Authorization": f"Bearer {ok[0].json()['access_token']}"},
            )
            assert info.status_code == 401
