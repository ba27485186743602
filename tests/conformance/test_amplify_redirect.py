"""AWS Amplify JS v6 in a real browser against Cognate over TLS: ``signInWithRedirect`` through
/oauth2/authorize and the hosted login page back to the app with tokens, then ``signOut`` through
/logout, which ends the browser session (issue 9). The app is bundled from tests/js/node_modules by
esbuild and served from localhost; nothing is fetched from a CDN."""

from __future__ import annotations

import json
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.browser import FLAGS, JS, app_server, chromium, requires_browser, screenshot
from tests.support.server import Server, running_server, self_signed_cert

__all__ = ["FLAGS", "chromium"]
ESBUILD = JS / "node_modules" / ".bin" / "esbuild"
pytestmark = [
    *requires_browser,
    pytest.mark.node,
    pytest.mark.skipif(
        not (JS / "node_modules" / "aws-amplify").exists() or not ESBUILD.exists(),
        reason="aws-amplify and esbuild are not installed (run `npm ci` in tests/js; .ci/run does)",
    ),
]
PASSWORD = "Passw0rd!"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("amplify") / "app.js"
    subprocess.run(
        [
            str(ESBUILD),
            "amplify_app.mjs",
            "--bundle",
            "--format=esm",
            "--platform=browser",
            f"--outfile={out}",
            "--log-level=warning",
        ],
        cwd=JS,
        check=True,
        timeout=120,
    )
    return out.read_bytes()


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("tls")
    cert, key = self_signed_cert(directory)
    with running_server("--tls-cert", cert, "--tls-key", key, ca_file=cert) as srv:
        trust = ssl.create_default_context(cafile=cert)
        if httpx.get(f"{srv.url}/oauth2/authorize", verify=trust).status_code == 404:
            pytest.skip("the OAuth door (/oauth2/authorize, issue 8) is not in this build")
        yield srv


def index(config: dict[str, str]) -> bytes:
    return (
        "<!doctype html><html lang='en'><head><title>Amplify app</title>"
        f"<script type='application/json' id='config'>{json.dumps(config)}</script>"
        "<script type='module' src='/app.js'></script></head>"
        "<body><main><h1>Amplify app</h1></main></body></html>"
    ).encode()


def wait_for(page: Any, script: str, ok: Any, timeout_s: float = 20) -> Any:
    deadline = time.monotonic() + timeout_s
    value = None
    while time.monotonic() < deadline:
        value = page.evaluate(script)
        if ok(value):
            return value
        page.wait_for_timeout(200)
    raise AssertionError(f"{script} never satisfied the test; last value {value!r}")


def test_amplify_sign_in_with_redirect_and_sign_out(
    tls_server: Server, chromium: Any, bundle: bytes, tmp_path: Path
) -> None:
    idp = tls_server.boto()
    pool = idp.create_user_pool(PoolName="amplify", AutoVerifiedAttributes=["email"])["UserPool"]
    idp.admin_create_user(
        UserPoolId=pool["Id"],
        Username="alice",
        MessageAction="SUPPRESS",
        TemporaryPassword="Temp0rary!",
        UserAttributes=[
            {"Name": "email", "Value": "alice@example.com"},
            {"Name": "email_verified", "Value": "true"},
        ],
    )
    idp.admin_set_user_password(UserPoolId=pool["Id"], Username="alice", Password=PASSWORD, Permanent=True)
    with app_server() as (app_url, files):
        client = idp.create_user_pool_client(
            UserPoolId=pool["Id"],
            ClientName="amplify-spa",
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=["openid", "email", "profile", "aws.cognito.signin.user.admin"],
            CallbackURLs=[f"{app_url}/"],
            LogoutURLs=[f"{app_url}/"],
            SupportedIdentityProviders=["COGNITO"],
        )["UserPoolClient"]
        domain = tls_server.url.removeprefix("https://")
        files["/"] = (
            index(
                {
                    "userPoolId": pool["Id"],
                    "clientId": client["ClientId"],
                    "domain": domain,
                    "appUrl": app_url,
                }
            ),
            "text/html",
        )
        files["/app.js"] = (bundle, "text/javascript")

        context = chromium.new_context(ignore_https_errors=True)  # the test's own self-signed certificate
        page = context.new_page()
        page.goto(f"{app_url}/")
        page.wait_for_function("window.amplifyReady === true")
        assert page.evaluate("window.amplifyWhoAmI()")["error"] == "UserUnAuthenticatedException"

        page.evaluate("window.amplifySignIn()")
        page.wait_for_url(f"{tls_server.url}/login?**")
        screenshot(page, "amplify-login")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{app_url}/**")
        page.wait_for_function("window.amplifyReady === true")
        me = wait_for(page, "window.amplifyWhoAmI()", lambda v: v.get("username") == "alice")
        assert me["idToken"] and me["accessToken"]
        assert "signInWithRedirect" in page.evaluate("window.hubEvents")
        # The tokens Amplify holds are the server's: GetUser accepts the access token.
        assert tls_server.boto(signed=False).get_user(AccessToken=me["accessToken"])["Username"] == "alice"
        session = [c for c in context.cookies(tls_server.url) if c["name"] == f"cognate_session_{pool['Id']}"]
        assert session and session[0]["secure"] and session[0]["httpOnly"] and session[0]["sameSite"] == "Lax"

        page.evaluate("window.amplifySignOut()")
        page.wait_for_url(f"{app_url}/**")
        page.wait_for_function("window.amplifyReady === true")
        assert (
            wait_for(page, "window.amplifyWhoAmI()", lambda v: "error" in v)["error"]
            == "UserUnAuthenticatedException"
        )
        assert not [c for c in context.cookies(tls_server.url) if c["name"].startswith("cognate_session_")]

        # Signed out of the pool too: the next sign-in asks for the password again.
        page.evaluate("window.amplifySignIn()")
        page.wait_for_url(f"{tls_server.url}/login?**")
        assert page.get_by_label("Password").is_visible()
        context.close()
    idp.close()
