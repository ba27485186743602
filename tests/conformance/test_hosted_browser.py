"""The hosted pages in a real browser (Debian's chromium, driven by Playwright) against a real server:
sign in, sign up with the emailed code, a resent code, password recovery, the new-password and TOTP
steps, MFA set-up by scanning the QR code; a screenshot of each page kept under test-artifacts/, and
axe-core run in each page with no serious finding (issue 9)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pyotp
import pytest

from tests.support.browser import (
    AXE,
    app_server,
    axe_violations,
    chromium,
    read_qr,
    requires_axe,
    requires_browser,
    screenshot,
)
from tests.support.server import Server

pytestmark = requires_browser
__all__ = ["chromium"]  # the module-scoped fixture

PASSWORD = "Passw0rd!"
NEW_PASSWORD = "N3w-Passw0rd!"


@pytest.fixture(scope="module")
def oauth_door(server: Server) -> None:
    if httpx.get(f"{server.url}/oauth2/authorize").status_code == 404:
        pytest.skip("the OAuth door (/oauth2/authorize, issue 8) is not in this build")


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    with app_server() as (url, _):
        yield url


@pytest.fixture
def app_client(idp: Any, pool: dict[str, Any], app_url: str) -> dict[str, Any]:
    idp.update_user_pool(UserPoolId=pool["Id"], AutoVerifiedAttributes=["email"])
    return idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="Example app",
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email", "profile"],
        CallbackURLs=[f"{app_url}/callback"],
        LogoutURLs=[f"{app_url}/signed-out"],
        SupportedIdentityProviders=["COGNITO"],
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]


@pytest.fixture
def plain_page(chromium: Any) -> Iterator[Any]:
    # bypass_csp only lets the test inject axe-core; test_csp_* below checks the policy itself.
    context = chromium.new_context(bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def page(plain_page: Any, oauth_door: None) -> Any:
    """A page for the flows that begin at the app's /oauth2/authorize."""
    return plain_page


class Pkce:
    def __init__(self) -> None:
        self.verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(self.verifier.encode()).digest()
        self.challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def callback(client: dict[str, Any]) -> str:
    return str(client["CallbackURLs"][0])


def authorize(server: Server, client: dict[str, Any], pkce: Pkce, **extra: str) -> str:
    params = {
        "client_id": client["ClientId"],
        "response_type": "code",
        "redirect_uri": callback(client),
        "scope": "openid email",
        "state": uuid.uuid4().hex,
        "nonce": uuid.uuid4().hex,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{server.url}/oauth2/authorize?{urlencode(params)}"


def arrived(server: Server, page: Any, client: dict[str, Any], pkce: Pkce, username: str) -> None:
    """At the app's callback with a code that the token endpoint turns into tokens for `username`."""
    page.wait_for_url(f"{callback(client)}?**")
    query = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert "error" not in query, query
    tokens = httpx.post(
        f"{server.url}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": callback(client),
            "client_id": client["ClientId"],
            "code_verifier": pkce.verifier,
        },
    )
    assert tokens.status_code == 200, tokens.text
    claims = json.loads(base64.urlsafe_b64decode(tokens.json()["id_token"].split(".")[1] + "=="))
    assert claims["cognito:username"] == username


def check_page(page: Any, name: str) -> None:
    screenshot(page, name)
    if not AXE.exists():  # the skip of test_axe_core_is_installed_for_the_page_checks says why
        return
    assert axe_violations(page) == [], name


def outbox_code(server: Server, username: str, kind: str) -> str:
    return [m for m in server.outbox() if m["username"] == username and m["kind"] == kind][-1]["code"]


def make_user(idp: Any, pool_id: str, username: str, password: str = PASSWORD, **attrs: str) -> None:
    idp.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        MessageAction="SUPPRESS",
        TemporaryPassword="Temp0rary!",
        UserAttributes=[{"Name": k, "Value": v} for k, v in attrs.items()],
    )
    if password:
        idp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True)


def submit_login(server: Server, page: Any, client: dict[str, Any], username: str, password: str) -> Pkce:
    """Go to the app's authorize URL and sign in on the login page; the PKCE pair of that authorize."""
    pkce = Pkce()
    page.goto(authorize(server, client, pkce))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    return pkce


def totp_pool(idp: Any, pool_id: str, mode: str) -> None:
    idp.set_user_pool_mfa_config(
        UserPoolId=pool_id, MfaConfiguration=mode, SoftwareTokenMfaConfiguration={"Enabled": True}
    )


def test_sign_in_then_the_next_authorize_passes_without_the_form(
    server: Server, idp: Any, pool: dict[str, Any], app_client: dict[str, Any], page: Any
) -> None:
    make_user(idp, pool["Id"], "alice", email="alice@example.com", email_verified="true")
    pkce = Pkce()
    page.goto(authorize(server, app_client, pkce))
    assert urlsplit(page.url).path == "/login"
    check_page(page, "login")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("Wr0ng-password!")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").wait_for()
    assert "Incorrect username or password." in page.get_by_role("alert").inner_text()
    check_page(page, "login-wrong-password")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    arrived(server, page, app_client, pkce, "alice")
    cookies = {c["name"]: c for c in page.context.cookies(server.url)}
    session = cookies[f"cognate_session_{pool['Id']}"]
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    # Signed in: the next authorize goes straight back to the app.
    again = Pkce()
    page.goto(authorize(server, app_client, again))
    arrived(server, page, app_client, again, "alice")


def test_keyboard_alone_signs_in(
    server: Server, idp: Any, pool: dict[str, Any], app_client: dict[str, Any], page: Any
) -> None:
    make_user(idp, pool["Id"], "kim")
    pkce = Pkce()
    page.goto(authorize(server, app_client, pkce))
    page.keyboard.press("Tab")  # the first field of the form comes first
    page.keyboard.type("kim")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    arrived(server, page, app_client, pkce, "kim")


def test_sign_up_with_the_emailed_code_after_asking_for_a_new_one(
    server: Server, pool: dict[str, Any], app_client: dict[str, Any], page: Any
) -> None:
    pkce = Pkce()
    page.goto(authorize(server, app_client, pkce))
    page.get_by_role("link", name="Need an account? Sign up").click()
    page.wait_for_url("**/signup?**")
    check_page(page, "signup")
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Email").fill("carol@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/confirm?**")
    check_page(page, "confirm")
    first = outbox_code(server, "carol", "verification")
    page.get_by_role("button", name="Resend code").click()
    page.wait_for_url("**notice=code_resent**")
    second = outbox_code(server, "carol", "verification")
    check_page(page, "confirm-code-resent")
    if first != second:
        page.get_by_label("Verification code").fill(first)
        page.get_by_role("button", name="Confirm account").click()
        page.get_by_role("alert").wait_for()
    page.get_by_label("Verification code").fill(second)
    page.get_by_role("button", name="Confirm account").click()
    arrived(server, page, app_client, pkce, "carol")


def test_password_recovery_ends_signed_in(
    server: Server, idp: Any, pool: dict[str, Any], app_client: dict[str, Any], page: Any
) -> None:
    make_user(idp, pool["Id"], "dora", email="dora@example.com", email_verified="true")
    pkce = Pkce()
    page.goto(authorize(server, app_client, pkce))
    page.get_by_role("link", name="Forgot your password?").click()
    check_page(page, "forgot-password")
    page.get_by_label("Username").fill("dora")
    page.get_by_role("button", name="Reset my password").click()
    page.wait_for_url("**/confirmforgotPassword?**")
    check_page(page, "confirm-forgot-password")
    page.get_by_label("Code").fill(outbox_code(server, "dora", "reset"))
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Enter new password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    arrived(server, page, app_client, pkce, "dora")


def test_new_password_step(
    server: Server, idp: Any, pool: dict[str, Any], app_client: dict[str, Any], page: Any
) -> None:
    make_user(idp, pool["Id"], "erin", password="")
    pkce = submit_login(server, page, app_client, "erin", "Temp0rary!")
    page.wait_for_url("**/forceChangePassword?**")
    check_page(page, "new-password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Enter new password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Send").click()
    arrived(server, page, app_client, pkce, "erin")


def test_totp_step(
    server: Server, idp: Any, pool: dict[str, Any], app_client: dict[str, Any], page: Any
) -> None:
    totp_pool(idp, pool["Id"], "OPTIONAL")
    make_user(idp, pool["Id"], "fay")
    tokens = idp.admin_initiate_auth(
        UserPoolId=pool["Id"],
        ClientId=app_client["ClientId"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "fay", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    public = server.boto(signed=False)
    secret = public.associate_software_token(AccessToken=tokens["AccessToken"])["SecretCode"]
    public.verify_software_token(AccessToken=tokens["AccessToken"], UserCode=pyotp.TOTP(secret).now())
    public.set_user_mfa_preference(
        AccessToken=tokens["AccessToken"], SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    pkce = submit_login(server, page, app_client, "fay", PASSWORD)
    page.wait_for_url("**/mfa?**")
    check_page(page, "mfa-totp")
    # The verification code used its time step up (RFC 6238 5.2): the next step's code.
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Sign in").click()
    arrived(server, page, app_client, pkce, "fay")


def test_mfa_set_up_by_scanning_the_qr_code(
    server: Server, idp: Any, pool: dict[str, Any], app_client: dict[str, Any], page: Any
) -> None:
    totp_pool(idp, pool["Id"], "ON")
    make_user(idp, pool["Id"], "gus")
    pkce = submit_login(server, page, app_client, "gus", PASSWORD)
    page.wait_for_url("**/mfaSetup?**")
    check_page(page, "mfa-setup")
    uri = read_qr(page, ".qr svg")
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp" and parts.path.endswith(":gus")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["issuer"] == "Example app"
    assert query["secret"] == page.locator("#secret-code").inner_text()
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(query["secret"]).now())
    page.get_by_role("button", name="Verify").click()
    arrived(server, page, app_client, pkce, "gus")
    user = idp.admin_get_user(UserPoolId=pool["Id"], Username="gus")
    assert user["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"


def test_an_unregistered_redirect_uri_gets_an_error_page(
    server: Server, app_client: dict[str, Any], plain_page: Any
) -> None:
    page = plain_page
    params = {
        "client_id": app_client["ClientId"],
        "response_type": "code",
        "redirect_uri": "https://evil.example/cb",
    }
    response = page.goto(f"{server.url}/login?{urlencode(params)}")
    assert response.status == 400 and urlsplit(page.url).netloc == urlsplit(server.url).netloc
    check_page(page, "error-redirect-mismatch")


def test_pages_refuse_to_be_framed(
    server: Server, chromium: Any, app_client: dict[str, Any], app_url: str
) -> None:
    context = chromium.new_context()
    login = f"{server.url}/login?" + urlencode(
        {"client_id": app_client["ClientId"], "response_type": "code", "redirect_uri": callback(app_client)}
    )
    page = context.new_page()
    page.goto(f"{app_url}/evil")  # another site frames the login page
    page.set_content(f'<iframe id="f" src="{login}"></iframe>')
    page.wait_for_timeout(500)
    framed = [f for f in page.frames if f != page.main_frame]
    assert framed, "the iframe element is there"
    assert all("<form" not in f.content() for f in framed)
    context.close()


def test_csp_blocks_a_script_injected_into_a_page(
    server: Server, chromium: Any, app_client: dict[str, Any]
) -> None:
    context = chromium.new_context()  # no CSP bypass here
    page = context.new_page()
    page.goto(
        f"{server.url}/login?"
        + urlencode(
            {
                "client_id": app_client["ClientId"],
                "response_type": "code",
                "redirect_uri": callback(app_client),
            }
        )
    )
    page.evaluate("""() => { const s = document.createElement('script');
                             s.textContent = 'window.injected = true'; document.body.appendChild(s); }""")
    assert page.evaluate("() => window.injected === true") is False
    context.close()


@requires_axe
def test_axe_core_is_installed_for_the_page_checks() -> None:
    """The flows above run axe-core in every page; this test says so when it cannot."""


def test_branding_is_applied_to_the_page(
    server: Server, idp: Any, pool: dict[str, Any], app_client: dict[str, Any], plain_page: Any
) -> None:
    page = plain_page
    from tests.conformance.test_ui_customization import png

    idp.create_user_pool_domain(UserPoolId=pool["Id"], Domain=f"d{uuid.uuid4().hex[:12]}")
    idp.set_ui_customization(
        UserPoolId=pool["Id"],
        ClientId=app_client["ClientId"],
        CSS=".submitButton-customizable { background-color: #5b21b6; }\n"
        ".banner-customizable { background-color: #ede9fe; }",
        ImageFile=png(8, 4),
    )
    params = {
        "client_id": app_client["ClientId"],
        "response_type": "code",
        "redirect_uri": callback(app_client),
    }
    page.goto(f"{server.url}/login?{urlencode(params)}")
    button = page.get_by_role("button", name="Sign in")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(91, 33, 182)"
    logo = page.get_by_role("img", name="Example app")
    assert logo.evaluate("img => img.complete && img.naturalWidth") == 8
    check_page(page, "login-branded")


def test_the_other_pages_are_accessible_too(
    server: Server, pool: dict[str, Any], app_client: dict[str, Any], plain_page: Any
) -> None:
    page = plain_page
    params = {
        "client_id": app_client["ClientId"],
        "response_type": "code",
        "redirect_uri": callback(app_client),
    }
    page.goto(f"{server.url}/resendcode?{urlencode(params)}")
    check_page(page, "resend-code")
    page.goto(
        f"{server.url}/confirmUser?{urlencode({**params, 'user_name': 'nobody', 'confirmation_code': '1'})}"
    )
    assert page.get_by_role("heading", level=1).inner_text() == "Confirm your account"
    check_page(page, "confirm-user-link-refused")


def test_sms_step(
    server: Server, idp: Any, pool: dict[str, Any], app_client: dict[str, Any], page: Any
) -> None:
    idp.set_user_pool_mfa_config(
        UserPoolId=pool["Id"],
        MfaConfiguration="ON",
        SmsMfaConfiguration={"SmsAuthenticationMessage": "Your code is {####}"},
    )
    make_user(idp, pool["Id"], "hal", phone_number="+14255550123", phone_number_verified="true")
    pkce = submit_login(server, page, app_client, "hal", PASSWORD)
    page.wait_for_url("**/mfa?**")
    assert "+*******0123" in page.locator("main").inner_text()
    check_page(page, "mfa-sms")
    page.get_by_label("Code from the SMS").fill(outbox_code(server, "hal", "mfa"))
    page.get_by_role("button", name="Sign in").click()
    arrived(server, page, app_client, pkce, "hal")
