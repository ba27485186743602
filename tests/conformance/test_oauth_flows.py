"""The OAuth 2.0 / OIDC endpoints over a real server, through the hosted /login form, with
relying-party libraries nobody here wrote: Authlib (Python) and openid-client (node) (issue 8)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from tests.conformance.helpers import GOOD_PASSWORD, delete_pool, unique
from tests.conformance.oauth_browser import Browser
from tests.support.server import Server

CALLBACK = "http://localhost:8765/callback"
SIGNED_OUT = "http://localhost:8765/signed-out"
API = "https://api.example.com"
JS = Path(__file__).parent.parent / "js"


@pytest.fixture(scope="module")
def setup(idp: Any) -> Iterator[dict[str, Any]]:
    pool = idp.create_user_pool(PoolName=unique())["UserPool"]
    idp.create_resource_server(
        UserPoolId=pool["Id"],
        Identifier=API,
        Name="api",
        Scopes=[{"ScopeName": "read", "ScopeDescription": "r"}],
    )
    common = {
        "AllowedOAuthFlowsUserPoolClient": True,
        "CallbackURLs": [CALLBACK],
        "LogoutURLs": [SIGNED_OUT],
        "SupportedIdentityProviders": ["COGNITO"],
        "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    }
    web = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="web",
        GenerateSecret=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email", "profile", f"{API}/read"],
        **common,
    )["UserPoolClient"]
    spa = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="spa",
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email", "profile"],
        **common,
    )["UserPoolClient"]
    machine = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="m2m",
        GenerateSecret=True,
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthScopes=[f"{API}/read"],
    )["UserPoolClient"]
    username = unique("u")
    idp.admin_create_user(
        UserPoolId=pool["Id"],
        Username=username,
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": f"{username}@example.com"},
            {"Name": "email_verified", "Value": "true"},
        ],
    )
    idp.admin_set_user_password(
        UserPoolId=pool["Id"], Username=username, Password=GOOD_PASSWORD, Permanent=True
    )
    yield {"pool": pool, "web": web, "spa": spa, "machine": machine, "username": username}
    delete_pool(idp, pool["Id"])


def discovery(server: Server, pool_id: str) -> dict[str, Any]:
    doc: dict[str, Any] = httpx.get(f"{server.url}/{pool_id}/.well-known/openid-configuration").json()
    return doc


def test_authlib_code_flow_with_pkce_userinfo_refresh_and_logout(
    server: Server, setup: dict[str, Any]
) -> None:
    from authlib.common.security import generate_token
    from authlib.integrations.requests_client import OAuth2Session

    pool, web = setup["pool"], setup["web"]
    meta = discovery(server, pool["Id"])
    client = OAuth2Session(
        web["ClientId"],
        web["ClientSecret"],
        scope="openid email profile",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    verifier = generate_token(64)
    nonce = generate_token(20)
    url, state = client.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    browser = Browser(server.url)
    try:
        callback = browser.sign_in(url, setup["username"], GOOD_PASSWORD, CALLBACK)
        query = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
        assert query["state"] == state and query["iss"] == meta["issuer"]
        token = client.fetch_token(
            meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
        )
        signing_key = jwt.PyJWKClient(meta["jwks_uri"]).get_signing_key_from_jwt(token["id_token"])
        claims = jwt.decode(
            token["id_token"], signing_key.key, ["RS256"], audience=web["ClientId"], issuer=meta["issuer"]
        )
        assert claims["nonce"] == nonce and claims["cognito:username"] == setup["username"]
        info = client.get(meta["userinfo_endpoint"]).json()
        assert info["email"] == f"{setup['username']}@example.com" and info["sub"] == claims["sub"]
        refreshed = client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
        assert refreshed["access_token"] != token["access_token"]
        # The browser session: the next authorization passes without the form.
        again, _ = client.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier)
        hop = browser.go(again, until=CALLBACK)
        assert hop.status_code == 302 and "code=" in hop.headers["location"]
        # RP-initiated logout (OIDC) at the discovery's end_session_endpoint.
        out = browser.http.get(
            meta["end_session_endpoint"],
            params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": SIGNED_OUT, "state": "x"},
        )
        assert out.status_code == 302 and out.headers["location"] == f"{SIGNED_OUT}?state=x"
        after = browser.go(again, until=CALLBACK)
        assert after.status_code == 200 and "/login" in str(after.url)
        # Revocation (RFC 7009) by the library: the refresh token dies, and its access token with it.
        client.revoke_token(meta["revocation_endpoint"], token=token["refresh_token"])
        assert client.get(meta["userinfo_endpoint"]).status_code == 401
    finally:
        browser.close()
        client.close()


def test_authlib_client_credentials(server: Server, setup: dict[str, Any]) -> None:
    from authlib.integrations.requests_client import OAuth2Session

    machine = setup["machine"]
    meta = discovery(server, setup["pool"]["Id"])
    with OAuth2Session(machine["ClientId"], machine["ClientSecret"], scope=f"{API}/read") as client:
        token = client.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["scope"] == f"{API}/read" and claims["client_id"] == machine["ClientId"]
    assert "refresh_token" not in token and "id_token" not in token
    with OAuth2Session(machine["ClientId"], machine["ClientSecret"], scope="openid") as client:
        with pytest.raises(Exception, match="invalid_scope"):
            client.fetch_token(meta["token_endpoint"], grant_type="client_credentials")


def test_cors_where_the_issue_says_and_nowhere_else(server: Server, setup: dict[str, Any]) -> None:
    pool_id = setup["pool"]["Id"]
    origin = {"Origin": "https://spa.example.com"}
    for path in ("/oauth2/token", "/oauth2/revoke", "/oauth2/userInfo", "/oauth2/introspect"):
        response = httpx.options(f"{server.url}{path}", headers=origin)
        assert response.headers.get("access-control-allow-origin") == "*", path
    for path in (f"/{pool_id}/.well-known/openid-configuration", f"/{pool_id}/.well-known/jwks.json"):
        assert httpx.get(f"{server.url}{path}", headers=origin).headers["access-control-allow-origin"] == "*"
    for path in ("/oauth2/authorize", "/authorize", "/login", "/logout"):
        response = httpx.get(f"{server.url}{path}", headers=origin)
        assert "access-control-allow-origin" not in response.headers, path
        preflight = httpx.options(f"{server.url}{path}", headers=origin)
        assert "access-control-allow-origin" not in preflight.headers, path


def test_the_discovery_lists_only_what_answers(server: Server, setup: dict[str, Any]) -> None:
    meta = discovery(server, setup["pool"]["Id"])
    for name in ("token_endpoint", "revocation_endpoint", "introspection_endpoint"):
        assert httpx.post(meta[name]).status_code == 400, name
    assert httpx.get(meta["userinfo_endpoint"]).status_code == 401
    assert httpx.get(meta["authorization_endpoint"]).status_code == 400
    assert httpx.get(meta["end_session_endpoint"]).status_code == 400
    assert httpx.get(meta["jwks_uri"]).status_code == 200


@pytest.mark.node
def test_openid_client_discovery_code_pkce_userinfo_refresh_logout(
    server: Server, setup: dict[str, Any]
) -> None:
    if shutil.which("node") is None or not (JS / "node_modules" / "openid-client").is_dir():
        pytest.skip("node and tests/js/node_modules (npm ci under tests/js) are needed")
    spa = setup["spa"]
    out = subprocess.run(
        ["node", str(JS / "oidc_code_flow.mjs")],
        input=json.dumps(
            {
                "issuer": f"{server.url}/{setup['pool']['Id']}",
                "clientId": spa["ClientId"],
                "redirectUri": CALLBACK,
                "postLogoutRedirectUri": SIGNED_OUT,
                "username": setup["username"],
                "password": GOOD_PASSWORD,
            }
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr + out.stdout
    result = json.loads(out.stdout)
    assert result["userinfo"]["email"] == f"{setup['username']}@example.com"
    assert result["idClaims"]["aud"] == spa["ClientId"] and result["idClaims"]["nonce"]
    assert result["refreshed"] is True
    assert result["logout"].startswith(f"{server.url}/logout?")
    assert result["afterLogout"] == "login"
