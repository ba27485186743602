"""The steps a hosted sign-in can lead to, and the sign-up and recovery detours, in process (issue 9)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from cognate.core.context import admin_context
from cognate.core.mfa import Preference
from cognate.core.service import Core
from tests.api.hosted_helpers import (
    CALLBACK,
    PASSWORD,
    Completions,
    add_user,
    authorize_params,
    browser,
    follow_path,
    open_form,
    outbox_codes,
    setup,
    submit,
)
from tests.support.forms import form

pytestmark = pytest.mark.anyio
NEW_PASSWORD = "N3w-Passw0rd!"


async def login(b, client, username: str = "alice", password: str = PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    f = await open_form(b, "/login", authorize_params(client, **extra))
    return await submit(b, f, username=username, password=password)


async def test_new_password_required_then_the_app(core: Core) -> None:
    pool, client = await setup(core)
    await core.users.admin_create(
        pool, {"Username": "ann", "TemporaryPassword": "Temp0rary!", "MessageAction": "SUPPRESS"}
    )
    done = Completions()
    async with browser(core, done) as b:
        r = await login(b, client, "ann", "Temp0rary!")
        path, query = follow_path(r)
        assert path == "/forceChangePassword" and query["redirect_uri"] == CALLBACK and query["step"]
        page = await b.get(r.headers["location"])
        f = form(page.text, "/forceChangePassword")
        assert {i["name"]: i for i in f.inputs if "name" in i}["password"]["autocomplete"] == "new-password"
        mismatch = await submit(b, f, password=NEW_PASSWORD, password_confirm="other")
        assert mismatch.status_code == 400 and "do not match" in mismatch.text
        weak = await submit(b, f, password="short", password_confirm="short")
        assert weak.status_code == 400 and "Password" in weak.text
        r = await submit(b, f, password=NEW_PASSWORD, password_confirm=NEW_PASSWORD)
        assert r.status_code == 302 and r.headers["location"].startswith(CALLBACK + "?code=code-for-ann")
        # The step is finished: replaying it goes back to the login page.
        replay = await submit(b, f, password=NEW_PASSWORD, password_confirm=NEW_PASSWORD)
        assert follow_path(replay)[0] == "/login"
    user = await core.users.find(pool, "ann")
    assert user is not None and user.status == "CONFIRMED"


async def totp_user(core: Core, pool, username: str = "alice") -> str:  # type: ignore[no-untyped-def]
    await core.mfa.set_pool_config(pool.id, mode="OPTIONAL", software_token={"Enabled": True})
    pool = await core.pools.get(pool.id)
    user = await add_user(core, pool, username)
    secret = await core.mfa.associate(pool, user)
    user = await core.users.find(pool, username)
    user = await core.mfa.verify_software_token(pool, user, pyotp.TOTP(secret).now(), None)
    await core.mfa.set_preference(pool, user, None, Preference(enabled=True, preferred=True))
    return secret


async def test_totp_step_wrong_code_stays_then_the_app(core: Core) -> None:
    pool, client = await setup(core)
    secret = await totp_user(core, pool)
    done = Completions()
    async with browser(core, done) as b:
        r = await login(b, client)
        assert follow_path(r)[0] == "/mfa"
        page = await b.get(r.headers["location"])
        f = form(page.text, "/mfa")
        wrong = await submit(b, f, code="000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
        assert wrong.status_code == 400 and "Invalid code received for user" in wrong.text
        # The verification code used its time step up (RFC 6238 5.2): the next step's code.
        r = await submit(b, form(wrong.text, "/mfa"), code=pyotp.TOTP(secret).at(time.time() + 30))
        assert r.status_code == 302 and r.headers["location"].startswith(CALLBACK)
        assert done.calls[0][1].amr == ("pwd", "otp", "mfa")


async def test_sms_step_with_the_code_sent(core: Core, tmp_path: Path) -> None:
    pool, client = await setup(core)
    await core.mfa.set_pool_config(pool.id, mode="ON", sms={"SmsAuthenticationMessage": "Code {####}"})
    await add_user(core, await core.pools.get(pool.id), phone_number="+14255550100")
    async with browser(core, Completions()) as b:
        r = await login(b, client)
        page = await b.get(r.headers["location"])
        assert "+*******0100" in page.text
        r = await submit(b, form(page.text, "/mfa"), code=outbox_codes(tmp_path, "mfa")[-1])
        assert r.status_code == 302 and r.headers["location"].startswith(CALLBACK)


async def test_mfa_setup_shows_a_qr_code_of_the_otpauth_uri(core: Core) -> None:
    pool, client = await setup(core)
    await core.mfa.set_pool_config(pool.id, mode="ON", software_token={"Enabled": True})
    await add_user(core, await core.pools.get(pool.id))
    async with browser(core, Completions()) as b:
        r = await login(b, client)
        assert follow_path(r)[0] == "/mfaSetup"
        page = await b.get(r.headers["location"])
        assert "<svg" in page.text and "QR code" in page.text
        secret = re.search(r'<code id="secret-code">([A-Z2-7]+)</code>', page.text)
        assert secret is not None
        wrong = await submit(b, form(page.text, "/mfaSetup"), code="12345")
        assert wrong.status_code == 400
        assert secret.group(1) in wrong.text  # the same key: the app already holds it
        r = await submit(b, form(wrong.text, "/mfaSetup"), code=pyotp.TOTP(secret.group(1)).now())
        assert r.status_code == 302 and r.headers["location"].startswith(CALLBACK)
    user = await core.users.find(pool, "alice")
    assert user is not None and user.mfa.get("preferred") == "SOFTWARE_TOKEN_MFA"


async def test_sign_up_confirm_ends_at_the_app(core: Core, tmp_path: Path) -> None:
    _, client = await setup(core, pool_fields={"AutoVerifiedAttributes": ["email"]})
    done = Completions()
    async with browser(core, done) as b:
        f = await open_form(b, "/signup", authorize_params(client))
        assert {"username", "email", "password"} <= set(f.fields) and f.submits == 1
        r = await submit(b, f, username="carol", email="carol@example.com", password=PASSWORD)
        path, query = follow_path(r)
        assert path == "/confirm" and query["username"] == "carol" and query["state"] == "st-123"
        page = await b.get(r.headers["location"])
        assert "c***@e***" in page.text
        # A new code replaces the first.
        r = await submit(b, form(page.text, "/resendcode"))
        assert follow_path(r)[0] == "/confirm"
        page = await b.get(r.headers["location"])
        assert "new code" in page.text
        codes = outbox_codes(tmp_path, "verification")
        assert len(codes) == 2
        f = form(page.text, "/confirm")
        bad = await submit(b, f, code=codes[0] if codes[0] != codes[1] else "000000")
        assert bad.status_code == 400 and "Invalid verification code" in bad.text
        r = await submit(b, f, code=codes[1])
        assert (
            r.status_code == 302 and r.headers["location"] == f"{CALLBACK}?code=code-for-carol&state=st-123"
        )


async def test_confirming_in_another_browser_asks_to_sign_in(core: Core, tmp_path: Path) -> None:
    _, client = await setup(core, pool_fields={"AutoVerifiedAttributes": ["email"]})
    async with browser(core, Completions()) as b:
        f = await open_form(b, "/signup", authorize_params(client))
        r = await submit(b, f, username="dave", email="dave@example.com", password=PASSWORD)
        link = r.headers["location"]
    async with browser(core, Completions()) as other:
        page = await other.get(link)
        r = await submit(other, form(page.text, "/confirm"), code=outbox_codes(tmp_path)[-1])
        path, query = follow_path(r)
        assert path == "/login" and query["notice"] == "confirmed"


async def test_confirm_user_link(core: Core, tmp_path: Path) -> None:
    _, client = await setup(core, pool_fields={"AutoVerifiedAttributes": ["email"]})
    await core.signups.sign_up(
        admin_context(),
        client.id,
        "erin",
        PASSWORD,
        {"email": "e@x.io"},
    )
    async with browser(core, Completions()) as b:
        params = {
            **authorize_params(client),
            "user_name": "erin",
            "confirmation_code": outbox_codes(tmp_path)[-1],
        }
        r = await b.get("/confirmUser", params=params)
        assert follow_path(r)[0] == "/login"
        again = await b.get("/confirmUser", params=params)
        assert again.status_code == 400


async def test_forgot_password_then_signed_in_with_the_new_one(core: Core, tmp_path: Path) -> None:
    pool, client = await setup(core)
    await add_user(core, pool, email="alice@example.com", email_verified="true")
    async with browser(core, Completions()) as b:
        f = await open_form(b, "/forgotPassword", authorize_params(client))
        r = await submit(b, f, username="alice")
        path, query = follow_path(r)
        assert path == "/confirmforgotPassword" and query["username"] == "alice"
        page = await b.get(r.headers["location"])
        assert "a***@e***" in page.text
        f = form(page.text, "/confirmforgotPassword")
        names = {i["name"]: i for i in f.inputs if "name" in i}
        assert names["code"]["autocomplete"] == "one-time-code"
        bad = await submit(b, f, code="000000", password=NEW_PASSWORD, password_confirm=NEW_PASSWORD)
        assert bad.status_code == 400
        r = await submit(
            b,
            f,
            code=outbox_codes(tmp_path, "reset")[-1],
            password=NEW_PASSWORD,
            password_confirm=NEW_PASSWORD,
        )
        assert r.status_code == 302 and r.headers["location"].startswith(CALLBACK + "?code=code-for-alice")


async def test_forgot_password_of_an_unknown_user_looks_the_same(core: Core) -> None:
    pool, client = await setup(core, PreventUserExistenceErrors="ENABLED")
    await add_user(core, pool, email="alice@example.com", email_verified="true")
    async with browser(core, Completions()) as b:
        f = await open_form(b, "/forgotPassword", authorize_params(client))
        r = await submit(b, f, username="nobody")
        path, _ = follow_path(r)
        assert path == "/confirmforgotPassword"
        page = await b.get(r.headers["location"])
        r = await submit(
            b,
            form(page.text, "/confirmforgotPassword"),
            code="123456",
            password=NEW_PASSWORD,
            password_confirm=NEW_PASSWORD,
        )
        assert r.status_code == 400 and "Invalid verification code provided" in r.text


async def test_a_pool_that_confirms_by_link_emails_a_working_confirm_user_link(
    core: Core, tmp_path: Path
) -> None:
    pool, client = await setup(
        core,
        pool_fields={
            "AutoVerifiedAttributes": ["email"],
            "VerificationMessageTemplate": {
                "DefaultEmailOption": "CONFIRM_WITH_LINK",
                "EmailSubjectByLink": "Welcome",
                "EmailMessageByLink": "Hello {username}, {##confirm your account##}.",
            },
        },
    )
    async with browser(core, Completions()) as b:
        f = await open_form(b, "/signup", authorize_params(client))
        await submit(b, f, username="lena", email="lena@example.com", password=PASSWORD)
    mail = json.loads((tmp_path / "outbox.jsonl").read_text().splitlines()[-1])
    assert mail["subject"] == "Welcome"
    link = re.search(r'Hello lena, <a href="([^"]+)">confirm your account</a>\.', mail["body"])
    assert link is not None and link.group(1).startswith("http://cognate.test/confirmUser?")
    assert parse_qs(urlsplit(link.group(1)).query) == {
        "client_id": [client.id],
        "user_name": ["lena"],
        "confirmation_code": [mail["code"]],
    }
    async with browser(core) as mail_reader:  # another browser: the email's link alone
        r = await mail_reader.get(link.group(1).removeprefix("http://cognate.test"))
        assert r.status_code == 200 and "Your account is confirmed" in r.text
        assert (await mail_reader.get(link.group(1).removeprefix("http://cognate.test"))).status_code == 400
    user = await core.users.find(pool, "lena")
    assert user is not None and user.status == "CONFIRMED" and user.attributes["email_verified"] == "true"


async def test_a_pool_that_signs_in_by_email_asks_no_username(core: Core, tmp_path: Path) -> None:
    pool, client = await setup(
        core, pool_fields={"UsernameAttributes": ["email"], "AutoVerifiedAttributes": ["email"]}
    )
    async with browser(core, Completions()) as b:
        f = await open_form(b, "/signup", authorize_params(client))
        assert "username" not in f.fields and "email" in f.fields
        r = await submit(b, f, email="mia@example.com", password=PASSWORD)
        path, query = follow_path(r)
        assert path == "/confirm" and query["username"] == "mia@example.com"
        page = await b.get(r.headers["location"])
        assert '<label class="label-customizable" for="username">Email</label>' in page.text
        r = await submit(b, form(page.text, "/confirm"), code=outbox_codes(tmp_path)[-1])
        assert r.status_code == 302 and r.headers["location"].startswith(CALLBACK + "?code=")
    user = await core.users.find(pool, "mia@example.com")
    assert user is not None and user.status == "CONFIRMED"
