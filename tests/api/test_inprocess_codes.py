"""Codes expire on the pinned clock, through the AWS door in-process (issue 6): a sign-up code
lives 24 hours, a password-reset code one hour; no test sleeps to see it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.inprocess import InProcessApi

pytestmark = pytest.mark.anyio
PASSWORD = "Passw0rd!"


def code_for(api: InProcessApi, username: str) -> str:
    sent = [m for m in api.outbox() if m.get("username") == username and m.get("code")]
    assert sent, f"no code was sent to {username}"
    return str(sent[-1]["code"])


async def setup(api: InProcessApi) -> tuple[str, str]:
    pool = (await api.admin("CreateUserPool", {"PoolName": "p", "AutoVerifiedAttributes": ["email"]}))[
        "UserPool"
    ]["Id"]
    client = await api.admin("CreateUserPoolClient", {"UserPoolId": pool, "ClientName": "c"})
    return pool, client["UserPoolClient"]["ClientId"]


async def sign_up(api: InProcessApi, cid: str, name: str) -> dict[str, Any]:
    body = {
        "ClientId": cid,
        "Username": name,
        "Password": PASSWORD,
        "UserAttributes": [{"Name": "email", "Value": f"{name}@example.com"}],
    }
    return await api.ok("SignUp", body)


async def test_a_sign_up_code_lives_a_day(api: InProcessApi) -> None:
    _, cid = await setup(api)
    await sign_up(api, cid, "ann")
    api.clock.advance(24 * 3600)
    confirm = {"ClientId": cid, "Username": "ann", "ConfirmationCode": code_for(api, "ann")}
    await api.error("ConfirmSignUp", confirm, "ExpiredCodeException")
    await api.ok("ResendConfirmationCode", {"ClientId": cid, "Username": "ann"})
    api.clock.advance(24 * 3600 - 1)
    await api.ok("ConfirmSignUp", {**confirm, "ConfirmationCode": code_for(api, "ann")})


async def test_a_reset_code_lives_an_hour(api: InProcessApi) -> None:
    pool, cid = await setup(api)
    await sign_up(api, cid, "bob")
    await api.admin("AdminConfirmSignUp", {"UserPoolId": pool, "Username": "bob"})
    await api.admin(
        "AdminUpdateUserAttributes",
        {
            "UserPoolId": pool,
            "Username": "bob",
            "UserAttributes": [{"Name": "email_verified", "Value": "true"}],
        },
    )
    out = await api.ok("ForgotPassword", {"ClientId": cid, "Username": "bob"})
    assert out["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    reset = {
        "ClientId": cid,
        "Username": "bob",
        "ConfirmationCode": code_for(api, "bob"),
        "Password": "N3w-Passw0rd!",
    }
    api.clock.advance(3600)
    await api.error("ConfirmForgotPassword", reset, "ExpiredCodeException")
    await api.ok("ForgotPassword", {"ClientId": cid, "Username": "bob"})
    api.clock.advance(3599)
    await api.ok("ConfirmForgotPassword", {**reset, "ConfirmationCode": code_for(api, "bob")})
