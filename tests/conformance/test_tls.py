"""--tls-cert / --tls-key: everything over HTTPS, with a certificate the test makes (issue 8).

Amplify calls ``https://`` on the OAuth domain; the discovery document, the links and the
session cookie follow the scheme.
"""

from __future__ import annotations

import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conformance.helpers import GOOD_PASSWORD, unique
from tests.conformance.oauth_browser import Browser
from tests.oauth.conftest import verifier_and_challenge
from tests.support.server import Server, running_server, self_signed_cert

CALLBACK = "https://app.example.com/callback"


@pytest.fixture(scope="module")
def tls_server() -> Iterator[Server]:
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = self_signed_cert(Path(tmp))
        with running_server("--tls-cert", cert, "--tls-key", key, ca_file=cert) as srv:
            yield srv


def test_everything_is_served_over_https(tls_server: Server) -> None:
    assert tls_server.url.startswith("https://")
    idp: Any = tls_server.boto()
    pool = idp.create_user_pool(PoolName=unique())["UserPool"]
    client = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="web",
        GenerateSecret=True,
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email"],
        CallbackURLs=[CALLBACK],
        SupportedIdentityProviders=["COGNITO"],
    )["UserPoolClient"]
    username = unique("u")
    idp.admin_create_user(UserPoolId=pool["Id"], Username=username, MessageAction="SUPPRESS")
    idp.admin_set_user_password(
        UserPoolId=pool["Id"], Username=username, Password=GOOD_PASSWORD, Permanent=True
    )
    verify = ssl.create_default_context(cafile=tls_server.ca_file)
    meta = httpx.get(f"{tls_server.url}/{pool['Id']}/.well-known/openid-configuration", verify=verify).json()
    assert meta["issuer"] == f"{tls_server.url}/{pool['Id']}"
    assert all(meta[k].startswith("https://") for k in meta if k.endswith("_endpoint") or k == "jwks_uri")
    verifier, challenge = verifier_and_challenge()
    browser = Browser(tls_server.url, verify=verify)
    try:
        query = {
            "client_id": client["ClientId"],
            "redirect_uri": CALLBACK,
            "response_type": "code",
            "scope": "openid email",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        url = httpx.URL(meta["authorization_endpoint"], params=query)
        callback = browser.sign_in(str(url), username, GOOD_PASSWORD, CALLBACK)
        session_cookies = [c for c in browser.http.cookies.jar if c.name.startswith("cognate_session_")]
        assert session_cookies and all(c.secure for c in session_cookies)
    finally:
        browser.close()
    code = parse_qs(urlsplit(callback).query)["code"][0]
    tokens = httpx.post(
        meta["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        auth=(client["ClientId"], client["ClientSecret"]),
        verify=verify,
    )
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["id_token"]
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{tls_server.port}/health", timeout=2)
