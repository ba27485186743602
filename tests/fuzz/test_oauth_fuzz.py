"""The OAuth endpoints and the hosted forms under fire (issue 14): Hypothesis builds query
strings and form bodies from the parameters each endpoint reads (known-good values mixed
with wrong, empty, huge, repeated, Unicode and control-character ones, plus random names and
headers). The application must never answer 5xx; an OAuth error is a JSON ``error``.

The hosted forms are posted with this browser's real CSRF token (read from the GET), so
the fuzz reaches the handlers, not only the token check.
Bounded for CI; ``COGNATE_FUZZ_EXAMPLES=N`` runs N per endpoint.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.support import (
    Running,
    assert_sendable_headers,
    check_store_invariants,
    fuzz_settings,
    running_app,
)
from tests.support.forms import forms
from tests.support.inprocess import URL

CALLBACK = "https://app.example/callback"
PASSWORD = "Passw0rd!"

TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "\x00", "\r\n", "\u202e", "%00", "%zz", "../..", "null", "a=b&c", "openid x"]),
    st.sampled_from([50, 1500]).map(lambda n: "é" * n),  # 9 kB once encoded: httpx caps URLs at 64 kB
)
NAMES = [
    "client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge",
    "code_challenge_method", "grant_type", "code", "code_verifier", "refresh_token", "token",
    "token_type_hint", "client_secret", "logout_uri", "identity_provider", "idp_identifier",
    "prompt", "lang", "username", "password", "new_password", "email", "phone_number",
    "confirmation_code", "step", "session", "notice", "_csrf", "response_mode", "max_age",
]  # fmt: skip

ENDPOINTS = [
    ("GET", "/oauth2/authorize"),
    ("POST", "/oauth2/authorize"),
    ("POST", "/oauth2/token"),
    ("GET", "/oauth2/userInfo"),
    ("POST", "/oauth2/userInfo"),
    ("POST", "/oauth2/revoke"),
    ("POST", "/oauth2/introspect"),
    ("GET", "/logout"),
    ("POST", "/logout"),
]
PAGES = [
    "/login", "/forceChangePassword", "/mfa", "/mfaSetup", "/signup", "/confirm", "/confirmUser",
    "/resendcode", "/forgotPassword", "/confirmforgotPassword",
]  # fmt: skip


def params(known: dict[str, list[str]]) -> st.SearchStrategy[list[tuple[str, str]]]:
    def value(name: str) -> st.SearchStrategy[str]:
        good = known.get(name)
        return st.one_of(st.sampled_from(good), TEXT) if good else TEXT

    pair = st.one_of(
        st.sampled_from(NAMES).flatmap(lambda n: st.tuples(st.just(n), value(n))),
        st.tuples(TEXT, TEXT),
    )
    return st.lists(pair, max_size=6)


def headers() -> st.SearchStrategy[dict[str, str]]:
    auth = st.one_of(
        st.none(),
        st.sampled_from(["Basic", "Basic !!!", "Bearer", "Bearer x.y.z", "Negotiate abc", ""]),
        st.tuples(TEXT, TEXT).map(lambda p: "Basic " + base64.b64encode(f"{p[0]}:{p[1]}".encode()).decode()),
    )
    ctype = st.sampled_from(
        [None, "application/x-www-form-urlencoded", "application/json", "multipart/form-data", "text/plain"]
    )
    return st.builds(
        lambda a, c: {k: v for k, v in {"Authorization": a, "Content-Type": c}.items() if v is not None},
        auth,
        ctype,
    )


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[tuple[Running, dict[str, list[str]]]]:
    with running_app(tmp_path_factory.mktemp("oauthfuzz"), pytestconfig) as running:
        api = running.api
        pool_id = running.run(
            api.admin("CreateUserPool", {"PoolName": "p", "AutoVerifiedAttributes": ["email"]})
        )["UserPool"]["Id"]
        oauth = {
            "UserPoolId": pool_id,
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid", "email", "profile"],
            "CallbackURLs": [CALLBACK],
            "LogoutURLs": [CALLBACK],
            "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            "SupportedIdentityProviders": ["COGNITO"],
        }
        public = running.run(api.admin("CreateUserPoolClient", {**oauth, "ClientName": "pub"}))
        secret = running.run(
            api.admin("CreateUserPoolClient", {**oauth, "ClientName": "conf", "GenerateSecret": True})
        )
        public_id = public["UserPoolClient"]["ClientId"]
        running.run(
            api.admin(
                "AdminCreateUser",
                {
                    "UserPoolId": pool_id,
                    "Username": "ann",
                    "MessageAction": "SUPPRESS",
                    "TemporaryPassword": PASSWORD,
                    "UserAttributes": [{"Name": "email", "Value": "ann@example.com"}],
                },
            )
        )
        running.run(
            api.admin(
                "AdminSetUserPassword",
                {"UserPoolId": pool_id, "Username": "ann", "Password": PASSWORD, "Permanent": True},
            )
        )
        tokens = running.run(
            api.ok(
                "InitiateAuth",
                {
                    "ClientId": public_id,
                    "AuthFlow": "USER_PASSWORD_AUTH",
                    "AuthParameters": {"USERNAME": "ann", "PASSWORD": PASSWORD},
                },
            )
        )["AuthenticationResult"]
        steps = _step_users(running, pool_id, public_id)
        known = {
            "step_client": [public_id, steps],
            "client_id": [public_id, secret["UserPoolClient"]["ClientId"]],
            "client_secret": [secret["UserPoolClient"]["ClientSecret"]],
            "redirect_uri": [CALLBACK],
            "logout_uri": [CALLBACK],
            "response_type": ["code", "token"],
            "scope": ["openid", "openid email", "profile"],
            "code_challenge_method": ["S256", "plain"],
            "code_challenge": ["E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"],
            "grant_type": ["authorization_code", "refresh_token", "client_credentials"],
            "refresh_token": [tokens["RefreshToken"]],
            "token": [tokens["RefreshToken"], tokens["AccessToken"]],
            "token_type_hint": ["refresh_token", "access_token"],
            "username": ["ann"],
            "password": [PASSWORD],
            "email": ["ann@example.com"],
            "bearer": [tokens["AccessToken"]],
        }
        yield running, known
        check_store_invariants(api.data_dir)


REDIRECTS: dict[str, int] = {}


def _step_users(running: Running, pool_id: str, client_id: str) -> str:
    """Users whose hosted sign-in stops at a step: ``fay`` must choose a new password, ``tess``
    gives a TOTP code (pool MFA optional), ``sam`` of a second pool (MFA on) sets TOTP up.
    The second pool's client id."""
    api = running.api
    running.run(
        api.admin(
            "SetUserPoolMfaConfig",
            {
                "UserPoolId": pool_id,
                "MfaConfiguration": "OPTIONAL",
                "SoftwareTokenMfaConfiguration": {"Enabled": True},
            },
        )
    )
    running.run(
        api.admin(
            "AdminCreateUser",
            {
                "UserPoolId": pool_id,
                "Username": "fay",
                "MessageAction": "SUPPRESS",
                "TemporaryPassword": PASSWORD,
            },
        )
    )
    _permanent(running, pool_id, "tess")
    access = running.run(
        api.ok(
            "InitiateAuth",
            {
                "ClientId": client_id,
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": "tess", "PASSWORD": PASSWORD},
            },
        )
    )["AuthenticationResult"]["AccessToken"]
    TOTP["tess"] = pyotp.TOTP(
        running.run(api.ok("AssociateSoftwareToken", {"AccessToken": access}))["SecretCode"]
    )
    code = TOTP["tess"].at(api.clock.now())
    running.run(api.ok("VerifySoftwareToken", {"AccessToken": access, "UserCode": code}))
    running.run(
        api.admin(
            "AdminSetUserMFAPreference",
            {
                "UserPoolId": pool_id,
                "Username": "tess",
                "SoftwareTokenMfaSettings": {"Enabled": True, "PreferredMfa": True},
            },
        )
    )
    strict = running.run(api.admin("CreateUserPool", {"PoolName": "strict", "MfaConfiguration": "OFF"}))[
        "UserPool"
    ]["Id"]
    running.run(
        api.admin(
            "SetUserPoolMfaConfig",
            {
                "UserPoolId": strict,
                "MfaConfiguration": "ON",
                "SoftwareTokenMfaConfiguration": {"Enabled": True},
            },
        )
    )
    strict_client = running.run(
        api.admin(
            "CreateUserPoolClient",
            {
                "UserPoolId": strict,
                "ClientName": "web",
                "AllowedOAuthFlowsUserPoolClient": True,
                "AllowedOAuthFlows": ["code"],
                "AllowedOAuthScopes": ["openid"],
                "CallbackURLs": [CALLBACK],
                "SupportedIdentityProviders": ["COGNITO"],
            },
        )
    )["UserPoolClient"]["ClientId"]
    _permanent(running, strict, "sam")
    STEP_POOLS.update({"fay": pool_id, "tess": pool_id, "sam": strict})
    return str(strict_client)


def _permanent(running: Running, pool_id: str, name: str) -> None:
    api = running.api
    running.run(
        api.admin(
            "AdminCreateUser",
            {
                "UserPoolId": pool_id,
                "Username": name,
                "MessageAction": "SUPPRESS",
                "TemporaryPassword": PASSWORD,
            },
        )
    )
    running.run(
        api.admin(
            "AdminSetUserPassword",
            {"UserPoolId": pool_id, "Username": name, "Password": PASSWORD, "Permanent": True},
        )
    )


TOTP: dict[str, pyotp.TOTP] = {}
STEP_POOLS: dict[str, str] = {}
STEPS = {"/forceChangePassword": "fay", "/mfa": "tess", "/mfaSetup": "sam"}
STEP_COUNTS: dict[str, int] = {}


def _check(resp: Any, what: Any) -> None:
    assert resp.status_code < 500, (what, resp.status_code, resp.text[:500])
    assert_sendable_headers(resp)
    if 300 <= resp.status_code < 400:
        _check_redirect(resp.headers.get("location", ""), what)
    if resp.headers.get("content-type", "").startswith("application/json") and resp.status_code >= 400:
        body = resp.json()
        assert isinstance(body, dict) and ("error" in body or "__type" in body), resp.text[:300]


def _check_redirect(location: str, what: Any) -> None:
    """A redirect goes to this server's own pages or to a URI registered for the client."""
    where = urlsplit(location)
    target = f"{where.scheme}://{where.netloc}{where.path}"
    if not where.scheme and not where.netloc:
        assert location.startswith("/") and not location.startswith("//"), (location, what)
        kind = "own page"
    elif target.startswith(URL + "/"):
        kind = "own page"
    else:
        assert target in (CALLBACK,), ("redirect to an unregistered URI", location, what)
        kind = "registered URI"
    REDIRECTS[kind] = REDIRECTS.get(kind, 0) + 1


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_oauth_endpoint_never_5xx(app: tuple[Running, dict[str, list[str]]], method: str, path: str) -> None:
    running, known = app
    bearer = "Bearer " + known["bearer"][0]

    @fuzz_settings(default=15)
    @given(query=params(known), form=params(known), sent=headers(), use_bearer=st.booleans())
    def attempt(
        query: list[tuple[str, str]], form: list[tuple[str, str]], sent: dict[str, str], use_bearer: bool
    ) -> None:
        if use_bearer and path.endswith("userInfo"):
            sent = {**sent, "Authorization": bearer}
        url = path + ("?" + urlencode(query) if query else "")
        body = urlencode(form).encode() if method == "POST" else None
        http = running.api.http
        resp = running.run(http.request(method, url, content=body, headers=sent, follow_redirects=False))
        _check(resp, (method, url[:300], form[:5], sent))

    attempt()


@pytest.mark.parametrize("page", PAGES)
def test_hosted_page_never_5xx(app: tuple[Running, dict[str, list[str]]], page: str) -> None:
    running, known = app
    http = running.api.http
    start = {
        "client_id": known["client_id"][0],
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": "openid",
    }
    login = running.run(http.get("/login?" + urlencode(start)))
    assert login.status_code == 200, login.text[:300]
    hidden = {k: v for f in forms(login.text) for k, v in f.fields.items() if k == "_csrf"}
    assert hidden, "the login page carries a CSRF token"

    @fuzz_settings(default=10)
    @given(query=params(known), form=params(known), good_start=st.booleans(), csrf=st.booleans())
    def attempt(
        query: list[tuple[str, str]], form: list[tuple[str, str]], good_start: bool, csrf: bool
    ) -> None:
        q = list(start.items()) + query if good_start else query
        url = page + "?" + urlencode(q)
        got = running.run(http.get(url, follow_redirects=False))
        _check(got, ("GET", url[:300]))
        fields = (list(hidden.items()) if csrf else []) + form
        posted = running.run(
            http.post(
                url,
                content=urlencode(fields).encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                follow_redirects=False,
            )
        )
        if page != "/confirmUser":
            _check(posted, ("POST", url[:300], fields[:6]))

    attempt()


def _reach_step(running: Running, known: dict[str, list[str]], step: str) -> tuple[str, Any] | None:
    """Sign ``step``'s user in through /login as a fresh browser; the step page's URL and form."""
    api, http, user = running.api, running.api.http, STEPS[step]
    api.clock.advance(31)  # a fresh TOTP step
    http.cookies.clear()
    if user == "fay":  # back to FORCE_CHANGE_PASSWORD, whatever an earlier example achieved
        running.run(
            api.admin(
                "AdminSetUserPassword",
                {"UserPoolId": STEP_POOLS[user], "Username": user, "Password": PASSWORD, "Permanent": False},
            )
        )
    if user == "sam":  # a new user: an earlier example may have set the authenticator up
        running.run(api.admin("AdminDeleteUser", {"UserPoolId": STEP_POOLS[user], "Username": user}))
        _permanent(running, STEP_POOLS[user], user)
    client_id = known["step_client"][1 if user == "sam" else 0]
    start = {"client_id": client_id, "redirect_uri": CALLBACK, "response_type": "code", "scope": "openid"}
    page = running.run(http.get("/login?" + urlencode(start)))
    login = next(f for f in forms(page.text) if "password" in f.fields)
    sent = running.run(
        http.post(
            login.action or "/login?" + urlencode(start),
            data={**login.fields, "username": user, "password": PASSWORD},
        )
    )
    where = sent.headers.get("location", "")
    if sent.status_code not in (302, 303) or urlsplit(where).path != step:
        return None
    shown = running.run(http.get(where))
    found = [f for f in forms(shown.text) if urlsplit(f.action).path == step or not f.action]
    if shown.status_code != 200 or not found:
        return None
    STEP_COUNTS[step] = STEP_COUNTS.get(step, 0) + 1
    secret = re.search(r'<code id="secret-code">([A-Z2-7]+)</code>', shown.text)
    if secret:
        TOTP["sam"] = pyotp.TOTP(secret.group(1))
    return where, found[0]


@pytest.mark.parametrize("step", sorted(STEPS))
def test_hosted_step_forms_never_5xx(app: tuple[Running, dict[str, list[str]]], step: str) -> None:
    """New password, MFA code and MFA set-up pages, reached by a real sign-in, then posted with
    their hidden fields kept, tampered or dropped and fuzzed visible fields (right values too)."""
    running, known = app
    http = running.api.http

    @fuzz_settings(default=5)
    @given(data=st.data())
    def attempt(data: st.DataObject) -> None:
        reached = _reach_step(running, known, step)
        assert reached is not None, f"the sign-in did not reach {step}"
        url, page_form = reached
        user = STEPS[step]
        right = {
            "password": "N3w-Passw0rd!x",
            "password_confirm": "N3w-Passw0rd!x",
            "code": TOTP[user].at(running.api.clock.now()) if user in TOTP else "123456",
        }
        fields: list[tuple[str, str]] = []
        whole = data.draw(st.booleans(), label="the right answer")  # or a fuzzed one
        for name, value in page_form.fields.items():
            choice = (
                "right"
                if whole
                else data.draw(st.sampled_from(["keep", "right", "tamper", "drop"]), label=name)
            )
            if choice == "keep":
                fields.append((name, value))
            elif choice == "right":
                fields.append((name, right.get(name, value)))
            elif choice == "tamper":
                fields.append((name, data.draw(TEXT | st.just(value[:-1]) | st.just(value + "x"))))
        if not whole:
            fields += data.draw(params(known), label="extra")
        posted = running.run(
            http.post(
                page_form.action or url,
                content=urlencode(fields).encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                follow_redirects=False,
            )
        )
        _check(posted, (step, fields[:8]))

    attempt()
    assert STEP_COUNTS.get(step, 0) >= 1


def test_sign_in_still_works_after_the_fire(app: tuple[Running, dict[str, list[str]]]) -> None:
    """After the fuzz: the hosted login form, the code, the token endpoint and userInfo, end to end."""
    running, known = app
    http = running.api.http
    http.cookies.clear()
    assert running.run(http.get("/health")).status_code == 200
    start = {
        "client_id": known["client_id"][0],
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": "openid email",
        "state": "s1",
    }
    page = running.run(http.get("/login?" + urlencode(start)))
    assert page.status_code == 200, page.text[:300]
    login = next(f for f in forms(page.text) if "password" in f.fields)
    fields = {**login.fields, "username": "ann", "password": PASSWORD}
    back = running.run(http.post(login.action or "/login?" + urlencode(start), data=fields))
    assert back.status_code in (302, 303), back.text[:500]
    location = back.headers["location"]
    assert location.startswith(CALLBACK + "?"), location
    code = parse_qs(urlsplit(location).query)["code"][0]
    token = running.run(
        http.post(
            "/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "client_id": known["client_id"][0],
                "code": code,
                "redirect_uri": CALLBACK,
            },
        )
    )
    assert token.status_code == 200, token.text
    access = token.json()["access_token"]
    info = running.run(http.get("/oauth2/userInfo", headers={"Authorization": f"Bearer {access}"}))
    assert info.status_code == 200, info.text
    assert json.loads(info.text)["username"] == "ann"
    check_store_invariants(running.api.data_dir)
    print(f"\nhosted steps reached: {STEP_COUNTS}; redirects: {REDIRECTS}")


@pytest.mark.parametrize("path", ["/oauth2/authorize", "/logout"])
def test_a_multipart_body_without_its_boundary_is_a_400_page(
    app: tuple[Running, dict[str, list[str]]], path: str
) -> None:
    """Found by this fuzz: Starlette's parse error escaped as a 500 (fixed in oauth/form.py)."""
    running, known = app
    resp = running.run(
        running.api.http.post(
            f"{path}?client_id={known['client_id'][0]}",
            content=b"x",
            headers={"Content-Type": "multipart/form-data"},
        )
    )
    assert resp.status_code == 400, resp.text[:300]
    assert "not a valid form" in resp.text
