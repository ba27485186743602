"""Two ``cognate serve`` nodes on one PostgreSQL behave as one server (issue 13).

Node A runs two workers, node B one; both have the same ``--public-url``, master key
and admin key pair (given by the environment, as docs/deployment.md says). Every
multi-step flow starts on one node and ends on the other; a code, a challenge
session, a refresh token, a username and an alias raced on both nodes at once go to
exactly one request, the others getting Cognito's error (or OAuth ``invalid_grant``);
a revocation made on A is refused by B within a second; five wrong passwords split
over the nodes lock the user; a key rotation is served by both within the key
cache's bound (``cognate.core.keys.CACHE_TTL_S``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pyotp
import pytest
from botocore.exceptions import ClientError
from pycognito.aws_srp import AWSSRP

from cognate.core.keys import CACHE_TTL_S
from cognate.crypto.sealing import new_master_key
from tests.conformance.oauth_browser import forms_of
from tests.support.postgres import NO_POSTGRES, POSTGRES_URL, fresh_database
from tests.support.server import Server, free_port, running_server

pytestmark = pytest.mark.postgres

PUBLIC_URL = "http://id.cognate.test"  # what both nodes call themselves; no node is reached by it
PASSWORD = "Passw0rd!long"
NEW_PASSWORD = "N3w-Passw0rd!long"
CALLBACK = "https://app.example/callback"
SIGNED_OUT = "https://app.example/signed-out"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
RACERS = 6  # concurrent requests in each race, half on each node
SEED = {
    "UserPools": [
        {
            "PoolName": "seeded",
            "Clients": [{"ClientName": "seeded-app"}],
            "Groups": [{"GroupName": "staff"}],
            "Users": [{"Username": "seeded-user", "Password": PASSWORD, "Groups": ["staff"]}],
        }
    ]
}


@dataclass
class Cluster:
    a: Server
    b: Server
    database_url: str
    pool_id: str
    client_id: str  # the SDK client: password, SRP, refresh (rotation on, no grace)
    web_id: str  # the hosted-login client, with a secret
    web_secret: str

    @property
    def nodes(self) -> tuple[Server, Server]:
        return (self.a, self.b)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    with ExitStack() as stack:
        url = stack.enter_context(fresh_database("cognate_nodes"))
        shared = {
            "COGNATE_DATABASE_URL": url,
            "COGNATE_PUBLIC_URL": PUBLIC_URL,
            "COGNATE_MASTER_KEY": new_master_key(),
            "COGNATE_ACCESS_KEY_ID": "AKIA" + secrets.token_hex(8).upper(),
            "COGNATE_SECRET_ACCESS_KEY": secrets.token_urlsafe(30),
        }
        seed = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "seed.json"
        seed.write_text(json.dumps(SEED))
        shared["COGNATE_SEED"] = str(seed)
        # Both at once: one migrates and seeds while the other waits for it.
        starting = [running_server("--workers", "2", env=shared), running_server(env=shared)]
        with ThreadPoolExecutor(max_workers=2) as ex:
            entered = [ex.submit(cm.__enter__) for cm in starting]
        for cm, future in zip(starting, entered, strict=True):
            if future.exception() is None:
                stack.push(cm.__exit__)
        a, b = (future.result() for future in entered)
        idp = a.boto()
        pool_id = idp.create_user_pool(
            PoolName="nodes", MfaConfiguration="OPTIONAL", AutoVerifiedAttributes=["email"]
        )["UserPool"]["Id"]
        client = idp.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="sdk",
            ExplicitAuthFlows=FLOWS,
            RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 0},
        )["UserPoolClient"]
        web = idp.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="web",
            GenerateSecret=True,
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=["openid", "email"],
            CallbackURLs=[CALLBACK],
            LogoutURLs=[SIGNED_OUT],
            SupportedIdentityProviders=["COGNITO"],
            ExplicitAuthFlows=["ALLOW_REFRESH_TOKEN_AUTH"],
            RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 0},
        )["UserPoolClient"]
        yield Cluster(a, b, url, pool_id, client["ClientId"], web["ClientId"], web["ClientSecret"])


# --- helpers --------------------------------------------------------------------------


def public(node: Server) -> Any:
    return node.boto(signed=False)


def new_user(cluster: Cluster, **kw: Any) -> str:
    """A confirmed user made on A, with PASSWORD."""
    idp = cluster.a.boto()
    name = f"u{uuid.uuid4().hex[:10]}"
    idp.admin_create_user(UserPoolId=cluster.pool_id, Username=name, MessageAction="SUPPRESS", **kw)
    idp.admin_set_user_password(UserPoolId=cluster.pool_id, Username=name, Password=PASSWORD, Permanent=True)
    return name


def password_auth(node: Server, cluster: Cluster, name: str, password: str = PASSWORD) -> dict[str, Any]:
    out: dict[str, Any] = public(node).initiate_auth(
        ClientId=cluster.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": name, "PASSWORD": password},
    )
    return out


def outcome(call: Callable[[], object]) -> str:
    """ "ok", or the error's code and message."""
    try:
        call()
        return "ok"
    except ClientError as err:
        return f"{err.response['Error']['Code']}: {err.response['Error']['Message']}"


def race(cluster: Cluster, call: Callable[[Server], object]) -> list[str]:
    """``call(node)`` RACERS times at once, alternately on A and B; the outcome of each."""
    start = threading.Barrier(RACERS)

    def one(i: int) -> str:
        node = cluster.nodes[i % 2]
        start.wait()
        return outcome(lambda: call(node))

    with ThreadPoolExecutor(max_workers=RACERS) as ex:
        return list(ex.map(one, range(RACERS)))


def code_in(node: Server, username: str, kind: str) -> str:
    found = [m for m in node.outbox() if m["username"] == username and m["kind"] == kind]
    assert found, f"no {kind} message for {username} in {node.url}'s outbox"
    return str(found[-1]["code"])


def on(node: Server, url: str) -> str:
    """``url`` (an absolute public URL or a path) sent to ``node``."""
    parts = urlsplit(url)
    return f"{node.url}{parts.path}" + (f"?{parts.query}" if parts.query else "")


def basic(cluster: Cluster) -> dict[str, str]:
    raw = f"{cluster.web_id}:{cluster.web_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def authorize_query(cluster: Cluster, verifier: str) -> dict[str, str]:
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return {
        "client_id": cluster.web_id,
        "response_type": "code",
        "redirect_uri": CALLBACK,
        "scope": "openid email",
        "state": "st",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


def code_of(location: str) -> str:
    assert location.startswith(CALLBACK), location
    got = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert got["state"] == "st"
    return got["code"]


def hosted_code(cluster: Cluster, name: str, verifier: str, browser: httpx.Client | None = None) -> str:
    """The hosted login, hop by hop on alternating nodes (authorize on A, the form from B,
    posted to A ...): the authorization code the browser brings to the callback. The
    nodes share the host 127.0.0.1, so one cookie jar serves both."""
    hops = iter(cluster.nodes * 10)
    with ExitStack() as stack:
        if browser is None:
            browser = stack.enter_context(httpx.Client(timeout=30))
        query = authorize_query(cluster, verifier)
        response = browser.get(on(next(hops), f"/oauth2/authorize?{urlencode(query)}"))
        while response.status_code in (302, 303):
            response = browser.get(on(next(hops), urljoin(PUBLIC_URL, response.headers["location"])))
        assert response.status_code == 200 and "/login" in str(response.url), response.text[:500]
        login = [f for f in forms_of(response.text) if "password" in f["inputs"]]
        data = {**login[0]["inputs"], "username": name, "password": PASSWORD}
        posted = browser.post(on(next(hops), urljoin(PUBLIC_URL, login[0]["action"] or "/login")), data=data)
    assert posted.status_code in (302, 303), posted.text[:500]
    return code_of(posted.headers["location"])


def token_request(node: Server, cluster: Cluster, form: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{node.url}/oauth2/token", data=form, headers=basic(cluster), timeout=30)


def jwks_kids(node: Server, pool_id: str) -> set[str]:
    keys = httpx.get(f"{node.url}/{pool_id}/.well-known/jwks.json", timeout=30).json()["keys"]
    return {k["kid"] for k in keys}


def kid_of(token: str) -> str:
    import jwt

    return str(jwt.get_unverified_header(token)["kid"])


def test_both_nodes_started_at_once_with_one_seed_made_it_once(cluster: Cluster) -> None:
    idp = cluster.b.boto()
    pools = [p for p in idp.list_user_pools(MaxResults=60)["UserPools"] if p["Name"] == "seeded"]
    assert len(pools) == 1, pools
    clients = idp.list_user_pool_clients(UserPoolId=pools[0]["Id"])["UserPoolClients"]
    assert [c["ClientName"] for c in clients] == ["seeded-app"]
    users = idp.list_users(UserPoolId=pools[0]["Id"])["Users"]
    assert [u["Username"] for u in users] == ["seeded-user"]


# --- every multi-step flow, begun on one node and finished on the other ------------------


def test_srp_challenge_answered_on_the_other_node(cluster: Cluster) -> None:
    name = new_user(cluster)
    srp = AWSSRP(
        username=name,
        password=PASSWORD,
        pool_id=cluster.pool_id,
        client_id=cluster.client_id,
        client=public(cluster.a),
    )
    params = srp.get_auth_params()
    first = public(cluster.a).initiate_auth(
        ClientId=cluster.client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=params
    )
    assert first["ChallengeName"] == "PASSWORD_VERIFIER"
    answer = srp.process_challenge(first["ChallengeParameters"], params)
    done = public(cluster.b).respond_to_auth_challenge(
        ClientId=cluster.client_id, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=answer
    )
    access = done["AuthenticationResult"]["AccessToken"]
    assert public(cluster.a).get_user(AccessToken=access)["Username"] == name
    # The exchange was redeemed on B: the same proof is refused on A.
    replay = outcome(
        lambda: public(cluster.a).respond_to_auth_challenge(
            ClientId=cluster.client_id, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=answer
        )
    )
    assert replay.startswith("NotAuthorizedException"), replay


def test_new_password_required_across_nodes(cluster: Cluster) -> None:
    idp = cluster.a.boto()
    name = f"t{uuid.uuid4().hex[:10]}"
    idp.admin_create_user(
        UserPoolId=cluster.pool_id, Username=name, MessageAction="SUPPRESS", TemporaryPassword=PASSWORD
    )
    first = password_auth(cluster.a, cluster, name)
    assert first["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    done = public(cluster.b).respond_to_auth_challenge(
        ClientId=cluster.client_id,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=first["Session"],
        ChallengeResponses={"USERNAME": name, "NEW_PASSWORD": NEW_PASSWORD},
    )
    assert "AccessToken" in done["AuthenticationResult"]
    assert "AuthenticationResult" in password_auth(cluster.a, cluster, name, NEW_PASSWORD)


def test_software_token_mfa_across_nodes(cluster: Cluster) -> None:
    name = new_user(cluster)
    access = password_auth(cluster.a, cluster, name)["AuthenticationResult"]["AccessToken"]
    secret = public(cluster.a).associate_software_token(AccessToken=access)["SecretCode"]
    totp = pyotp.TOTP(secret)
    verified = public(cluster.b).verify_software_token(AccessToken=access, UserCode=totp.now())
    assert verified["Status"] == "SUCCESS"
    public(cluster.a).set_user_mfa_preference(
        AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    first = password_auth(cluster.b, cluster, name)
    assert first["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    done = public(cluster.a).respond_to_auth_challenge(
        ClientId=cluster.client_id,
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=first["Session"],
        # the code that verified the authenticator used its time step up
        ChallengeResponses={
            "USERNAME": name,
            "SOFTWARE_TOKEN_MFA_CODE": totp.at(time.time() + totp.interval),
        },
    )
    assert "AccessToken" in done["AuthenticationResult"]


def test_sms_mfa_across_nodes(cluster: Cluster) -> None:
    name = new_user(cluster, UserAttributes=[{"Name": "phone_number", "Value": "+15555550142"}])
    cluster.b.boto().admin_set_user_mfa_preference(
        UserPoolId=cluster.pool_id, Username=name, SMSMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    first = password_auth(cluster.a, cluster, name)
    assert first["ChallengeName"] == "SMS_MFA"
    code = code_in(cluster.a, name, "mfa")  # the node that sent it wrote it to its outbox
    done = public(cluster.b).respond_to_auth_challenge(
        ClientId=cluster.client_id,
        ChallengeName="SMS_MFA",
        Session=first["Session"],
        ChallengeResponses={"USERNAME": name, "SMS_MFA_CODE": code},
    )
    assert "AccessToken" in done["AuthenticationResult"]


def test_sign_up_on_one_node_confirmed_on_the_other(cluster: Cluster) -> None:
    name = f"s{uuid.uuid4().hex[:10]}"
    public(cluster.a).sign_up(
        ClientId=cluster.client_id,
        Username=name,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}],
    )
    code = code_in(cluster.a, name, "verification")
    public(cluster.b).confirm_sign_up(ClientId=cluster.client_id, Username=name, ConfirmationCode=code)
    again = outcome(
        lambda: public(cluster.a).confirm_sign_up(
            ClientId=cluster.client_id, Username=name, ConfirmationCode=code
        )
    )
    assert again.startswith("NotAuthorizedException") and "CONFIRMED" in again, again
    assert "AuthenticationResult" in password_auth(cluster.a, cluster, name)


def test_forgot_password_on_one_node_confirmed_on_the_other(cluster: Cluster) -> None:
    name = new_user(cluster, UserAttributes=[{"Name": "email", "Value": "r@example.com"}])
    cluster.a.boto().admin_update_user_attributes(
        UserPoolId=cluster.pool_id,
        Username=name,
        UserAttributes=[{"Name": "email_verified", "Value": "true"}],
    )
    public(cluster.b).forgot_password(ClientId=cluster.client_id, Username=name)
    code = code_in(cluster.b, name, "reset")

    def confirm(node: Server) -> object:
        return public(node).confirm_forgot_password(
            ClientId=cluster.client_id, Username=name, ConfirmationCode=code, Password=NEW_PASSWORD
        )

    results = race(cluster, confirm)  # the code raced on both nodes: it works once
    expired = "ExpiredCodeException: Invalid code provided, please request a code again."
    assert sorted(results) == sorted(["ok"] + [expired] * (RACERS - 1)), results
    assert "AuthenticationResult" in password_auth(cluster.b, cluster, name, NEW_PASSWORD)


def test_hosted_login_on_one_node_token_on_the_other(cluster: Cluster) -> None:
    name = new_user(cluster)
    verifier = secrets.token_urlsafe(48)
    code = hosted_code(cluster, name, verifier)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }
    got = token_request(cluster.b, cluster, form)
    assert got.status_code == 200, got.text
    tokens = got.json()
    me = httpx.get(
        f"{cluster.a.url}/oauth2/userInfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 200 and me.json()["username"] == name, me.text
    again = token_request(cluster.a, cluster, form)
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


def test_browser_session_started_on_one_node_is_known_and_ended_on_the_other(cluster: Cluster) -> None:
    name = new_user(cluster)
    with httpx.Client(timeout=30) as browser:
        hosted_code(cluster, name, secrets.token_urlsafe(48), browser)
        # The session cookie set by A passes B's /oauth2/authorize without the form ...
        query = authorize_query(cluster, secrets.token_urlsafe(48))
        again = browser.get(f"{cluster.b.url}/oauth2/authorize?{urlencode(query)}")
        assert again.status_code == 302 and code_of(again.headers["location"])
        # ... and signing out on B ends it for A, even for a browser that kept the cookie.
        cookie = f"cognate_session_{cluster.pool_id}"
        kept = browser.cookies[cookie]
        bye = browser.get(
            f"{cluster.b.url}/logout?{urlencode({'client_id': cluster.web_id, 'logout_uri': SIGNED_OUT})}"
        )
        assert bye.status_code == 302 and bye.headers["location"] == SIGNED_OUT
        assert cookie not in browser.cookies
        browser.cookies.set(cookie, kept, domain="127.0.0.1", path="/")
        after = browser.get(f"{cluster.a.url}/oauth2/authorize?{urlencode(query)}")
        assert f"{cookie}={kept}" in after.request.headers["cookie"]
        assert after.status_code == 302 and "/login?" in after.headers["location"], after.headers


# --- races: exactly one wins ---------------------------------------------------------------


def test_one_authorization_code_raced_on_both_nodes(cluster: Cluster) -> None:
    """A code is redeemed once in all nodes. A code presented twice is a replay (RFC 6749
    section 4.1.2): the replay is refused, and so are the tokens of the first redemption,
    even one still in flight on the other node. So at most one request gets tokens, and
    those tokens are revoked: the replay leaves nobody holding a usable grant."""
    name = new_user(cluster)
    verifier = secrets.token_urlsafe(48)
    form = {
        "grant_type": "authorization_code",
        "code": hosted_code(cluster, name, verifier),
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }
    start = threading.Barrier(RACERS)

    def one(i: int) -> httpx.Response:
        start.wait()
        return token_request(cluster.nodes[i % 2], cluster, form)

    with ThreadPoolExecutor(max_workers=RACERS) as ex:
        responses = list(ex.map(one, range(RACERS)))
    won = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if (r.status_code, r.json().get("error")) == (400, "invalid_grant")]
    assert len(won) <= 1 and len(won) + len(refused) == RACERS, [r.text for r in responses]
    for r in won:  # the replays revoked the winner's tokens
        for node in cluster.nodes:
            again = token_request(
                node, cluster, {"grant_type": "refresh_token", "refresh_token": r.json()["refresh_token"]}
            )
            assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


def test_one_refresh_token_raced_on_both_nodes(cluster: Cluster) -> None:
    name = new_user(cluster)
    refresh = password_auth(cluster.a, cluster, name)["AuthenticationResult"]["RefreshToken"]

    def use(node: Server) -> object:
        return public(node).get_tokens_from_refresh_token(RefreshToken=refresh, ClientId=cluster.client_id)

    results = race(cluster, use)
    reuse = "RefreshTokenReuseException: Refresh token has already been used."
    assert sorted(results) == sorted(["ok"] + [reuse] * (RACERS - 1)), results


def test_one_refresh_token_raced_at_the_token_endpoint(cluster: Cluster) -> None:
    name = new_user(cluster)
    verifier = secrets.token_urlsafe(48)
    code = hosted_code(cluster, name, verifier)
    first = token_request(
        cluster.a,
        cluster,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
    ).json()
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    start = threading.Barrier(RACERS)

    def one(i: int) -> tuple[int, str]:
        start.wait()
        r = token_request(cluster.nodes[i % 2], cluster, form)
        return r.status_code, r.json().get("error", "tokens")

    with ThreadPoolExecutor(max_workers=RACERS) as ex:
        results = list(ex.map(one, range(RACERS)))
    assert sorted(results) == sorted([(200, "tokens")] + [(400, "invalid_grant")] * (RACERS - 1)), results


def test_one_challenge_session_raced_on_both_nodes(cluster: Cluster) -> None:
    idp = cluster.a.boto()
    name = f"t{uuid.uuid4().hex[:10]}"
    idp.admin_create_user(
        UserPoolId=cluster.pool_id, Username=name, MessageAction="SUPPRESS", TemporaryPassword=PASSWORD
    )
    session = password_auth(cluster.b, cluster, name)["Session"]

    def respond(node: Server) -> object:
        return public(node).respond_to_auth_challenge(
            ClientId=cluster.client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=session,
            ChallengeResponses={"USERNAME": name, "NEW_PASSWORD": NEW_PASSWORD},
        )

    results = race(cluster, respond)
    assert results.count("ok") == 1, results
    assert all(r.startswith("NotAuthorizedException: Invalid session") for r in results if r != "ok"), results


def test_one_username_raced_on_both_nodes(cluster: Cluster) -> None:
    name = f"s{uuid.uuid4().hex[:10]}"

    def sign_up(node: Server) -> object:
        return public(node).sign_up(ClientId=cluster.client_id, Username=name, Password=PASSWORD)

    results = race(cluster, sign_up)
    exists = "UsernameExistsException: User already exists"
    assert sorted(results) == sorted(["ok"] + [exists] * (RACERS - 1)), results


def test_one_alias_raced_on_both_nodes(cluster: Cluster) -> None:
    idp = cluster.a.boto()
    pool_id = idp.create_user_pool(PoolName="aliases", AliasAttributes=["email"])["UserPool"]["Id"]
    names = [f"a{i}" for i in range(RACERS)]
    for name in names:
        idp.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS")
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    turn = iter(names)
    lock = threading.Lock()

    def give(node: Server) -> object:
        with lock:
            name = next(turn)
        return node.boto().admin_update_user_attributes(
            UserPoolId=pool_id,
            Username=name,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        )

    results = race(cluster, give)
    exists = "AliasExistsException: An account with the given email already exists."
    assert sorted(results) == sorted(["ok"] + [exists] * (RACERS - 1)), results
    owners = idp.list_users(UserPoolId=pool_id, Filter=f'email = "{email}"')["Users"]
    assert len(owners) == 1


# --- revocation, lockout and keys, seen by every node -----------------------------------


def test_revocation_on_a_refused_on_b_within_a_second(cluster: Cluster) -> None:
    name = new_user(cluster)
    tokens = password_auth(cluster.a, cluster, name)["AuthenticationResult"]
    for _ in range(4):  # B (and both of A's workers) have the valid token in their caches
        for node in cluster.nodes:
            public(node).get_user(AccessToken=tokens["AccessToken"])
    public(cluster.a).revoke_token(Token=tokens["RefreshToken"], ClientId=cluster.client_id)
    revoked = time.monotonic()
    first_refusal = None
    while time.monotonic() - revoked < 1.5:
        sent = time.monotonic() - revoked
        result = outcome(lambda: public(cluster.b).get_user(AccessToken=tokens["AccessToken"]))
        if result.startswith("NotAuthorizedException"):
            first_refusal = first_refusal if first_refusal is not None else sent
        else:
            assert result == "ok", result
            assert sent < 1.0, f"B still accepted a revoked token {sent:.2f} s after the revocation"
        time.sleep(0.05)
    assert first_refusal is not None  # and no acceptance from one second on
    refused = outcome(
        lambda: public(cluster.b).get_tokens_from_refresh_token(
            RefreshToken=tokens["RefreshToken"], ClientId=cluster.client_id
        )
    )
    assert refused.startswith("NotAuthorizedException"), refused


def test_global_sign_out_on_b_refused_on_a_within_a_second(cluster: Cluster) -> None:
    name = new_user(cluster)
    tokens = password_auth(cluster.b, cluster, name)["AuthenticationResult"]
    for _ in range(4):
        public(cluster.a).get_user(AccessToken=tokens["AccessToken"])
    cluster.b.boto().admin_user_global_sign_out(UserPoolId=cluster.pool_id, Username=name)
    time.sleep(1.0)
    for _ in range(4):  # fresh connections: both of A's workers
        result = outcome(lambda: public(cluster.a).get_user(AccessToken=tokens["AccessToken"]))
        assert result.startswith("NotAuthorizedException"), result


def test_five_wrong_passwords_over_two_nodes_lock_the_user(cluster: Cluster) -> None:
    name = new_user(cluster)
    for i in range(5):
        wrong = outcome(lambda i=i: password_auth(cluster.nodes[i % 2], cluster, name, "Wr0ng-password!"))
        assert wrong == "NotAuthorizedException: Incorrect username or password.", (i, wrong)
    for node in (cluster.b, cluster.a):  # locked on both, even with the right password
        locked = outcome(lambda node=node: password_auth(node, cluster, name))
        assert locked == "NotAuthorizedException: Password attempts exceeded", locked


def test_key_rotated_by_the_command_is_served_by_every_node_within_the_bound(cluster: Cluster) -> None:
    name = new_user(cluster)
    before = password_auth(cluster.a, cluster, name)["AuthenticationResult"]["AccessToken"]
    old_kids = jwks_kids(cluster.a, cluster.pool_id)
    assert jwks_kids(cluster.b, cluster.pool_id) == old_kids
    jwks_url = f"{cluster.b.url}/{cluster.pool_id}/.well-known/jwks.json"
    old_etag = httpx.get(jwks_url).headers["etag"]
    assert httpx.get(jwks_url, headers={"If-None-Match": old_etag}).status_code == 304
    rotate = subprocess.run(
        [
            sys.executable,
            "-m",
            "cognate.cli",
            "keys",
            "rotate",
            cluster.pool_id,
            "--data-dir",
            str(cluster.a.data_dir),
        ],
        env=cluster.a.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    rotated = time.monotonic()
    assert rotate.returncode == 0, rotate.stderr
    new_kids = set(rotate.stdout.strip().split("new key ids ", 1)[1].split(", "))
    assert len(new_kids) == 2 and not new_kids & old_kids, rotate.stdout
    seen: dict[str, float] = {}
    while len(seen) < 2:
        elapsed = time.monotonic() - rotated
        for node in cluster.nodes:
            if node.url not in seen and new_kids <= jwks_kids(node, cluster.pool_id):
                seen[node.url] = elapsed
        assert elapsed < CACHE_TTL_S + 1.0, f"new keys not served by every node after {elapsed:.1f} s: {seen}"
        time.sleep(0.1)
    time.sleep(max(0.0, CACHE_TTL_S - (time.monotonic() - rotated)))
    # Past the bound every node (every worker) serves both key sets and signs with the new keys.
    for node in (cluster.a, cluster.a, cluster.b):
        assert jwks_kids(node, cluster.pool_id) == old_kids | new_kids
        token = password_auth(node, cluster, name)["AuthenticationResult"]["AccessToken"]
        assert kid_of(token) in new_kids
        other = cluster.b if node is cluster.a else cluster.a
        assert public(other).get_user(AccessToken=token)["Username"] == name
    # A cached copy of the old document is no longer current: its ETag gets the new one.
    refreshed = httpx.get(jwks_url, headers={"If-None-Match": old_etag})
    assert refreshed.status_code == 200 and refreshed.headers["etag"] != old_etag
    assert {k["kid"] for k in refreshed.json()["keys"]} == old_kids | new_kids
    # A token signed by the old key still verifies everywhere until it expires.
    for node in cluster.nodes:
        assert public(node).get_user(AccessToken=before)["Username"] == name


def test_a_node_or_command_with_another_master_key_is_refused(cluster: Cluster, tmp_path: Path) -> None:
    env = {**cluster.a.env, "COGNATE_MASTER_KEY": new_master_key()}
    commands = [
        ["serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "other")],
        ["keys", "rotate", cluster.pool_id, "--data-dir", str(cluster.a.data_dir)],
    ]
    for command in commands:
        done = subprocess.run(
            [sys.executable, "-m", "cognate.cli", *command],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode != 0, done.stdout
        assert "the master key does not open the signing keys of" in done.stderr, done.stderr
        assert "same master key" in done.stderr
