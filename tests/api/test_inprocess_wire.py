"""The AWS door in-process (httpx ASGI transport, pinned clock): the door fills the request
context, checks the client before the flow, and renders the core's results as Cognito does;
expiry is reached by moving the clock, never by sleeping (issue 6)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest

from tests.support.inprocess import InProcessApi

pytestmark = pytest.mark.anyio
PASSWORD = "Passw0rd!"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"]


def secret_hash(secret: str, name: str, client_id: str) -> str:
    mac = hmac.new(secret.encode(), (name + client_id).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


async def setup(api: InProcessApi, **client: Any) -> tuple[str, str, dict[str, Any]]:
    pool = (await api.admin("CreateUserPool", {"PoolName": "p"}))["UserPool"]["Id"]
    made = await api.admin(
        "CreateUserPoolClient", {"UserPoolId": pool, "ClientName": "c", "ExplicitAuthFlows": FLOWS, **client}
    )
    await api.admin("AdminCreateUser", {"UserPoolId": pool, "Username": "ann", "MessageAction": "SUPPRESS"})
    await api.admin(
        "AdminSetUserPassword",
        {"UserPoolId": pool, "Username": "ann", "Password": PASSWORD, "Permanent": True},
    )
    return pool, made["UserPoolClient"]["ClientId"], made["UserPoolClient"]


async def sign_in(api: InProcessApi, client_id: str, **extra: str) -> dict[str, Any]:
    out = await api.ok(
        "InitiateAuth",
        {
            "ClientId": client_id,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "ann", "PASSWORD": PASSWORD, **extra},
        },
    )
    result: dict[str, Any] = out["AuthenticationResult"]
    return result


async def test_a_bad_client_proof_is_cognitos_not_authorized(api: InProcessApi) -> None:
    _, cid, client = await setup(api, GenerateSecret=True)
    body = {
        "ClientId": cid,
        "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": "ann", "PASSWORD": PASSWORD},
    }
    message = await api.error("InitiateAuth", body, "NotAuthorizedException")
    assert message == f"Client {cid} is configured for secret but secret was not received"
    body["AuthParameters"]["SECRET_HASH"] = secret_hash("wrong", "ann", cid)
    assert await api.error("InitiateAuth", body, "NotAuthorizedException") == (
        f"Unable to verify secret hash for client {cid}"
    )
    await sign_in(api, cid, SECRET_HASH=secret_hash(client["ClientSecret"], "ann", cid))
    refresh = {"ClientId": cid, "Token": "x" * 40, "ClientSecret": "w" * 51}
    assert "Unable to verify" in await api.error("RevokeToken", refresh, "NotAuthorizedException")


async def test_an_errors_detail_is_logged_and_never_sent(
    api: InProcessApi, caplog: pytest.LogCaptureFixture
) -> None:
    _, cid, _ = await setup(api, GenerateSecret=True)
    body = {"ClientId": cid, "Token": "x" * 40, "ClientSecret": "w" * 51}
    with caplog.at_level("INFO", logger="cognate.awsjson"):
        resp = await api.call("RevokeToken", body)
    assert "ClientSecret does not match" in caplog.text
    assert "does not match" not in resp.text and "w" * 51 not in caplog.text


async def test_access_token_expires_on_the_pinned_clock(api: InProcessApi) -> None:
    _, cid, _ = await setup(api)
    tokens = await sign_in(api, cid)
    assert (await api.ok("GetUser", {"AccessToken": tokens["AccessToken"]}))["Username"] == "ann"
    api.clock.advance(3600)  # AccessTokenValidity: one hour, to the second
    message = await api.error("GetUser", {"AccessToken": tokens["AccessToken"]}, "NotAuthorizedException")
    assert message == "Access Token has expired"


async def test_refresh_keeps_auth_time_and_family(api: InProcessApi) -> None:
    """Moved from the conformance suite, where it slept 1.1 s."""
    import jwt

    _, cid, _ = await setup(api)
    first = await sign_in(api, cid)
    api.clock.advance(30)
    refreshed = (
        await api.ok(
            "InitiateAuth",
            {
                "ClientId": cid,
                "AuthFlow": "REFRESH_TOKEN_AUTH",
                "AuthParameters": {"REFRESH_TOKEN": first["RefreshToken"]},
            },
        )
    )["AuthenticationResult"]
    assert "RefreshToken" not in refreshed
    old, new = (jwt.decode(t["IdToken"], options={"verify_signature": False}) for t in (first, refreshed))
    assert new["auth_time"] == old["auth_time"] and new["iat"] == old["iat"] + 30
    assert new["origin_jti"] == old["origin_jti"] and new["jti"] != old["jti"]


async def test_refresh_token_rotation_grace(api: InProcessApi) -> None:
    """Moved from the conformance suite, where it slept 1.1 s; now the grace period itself is shown."""
    _, cid, _ = await setup(api, RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 10})
    first = (await sign_in(api, cid))["RefreshToken"]
    body = {"ClientId": cid, "AuthFlow": "REFRESH_TOKEN_AUTH", "AuthParameters": {"REFRESH_TOKEN": first}}
    assert "rotation is enabled" in await api.error("InitiateAuth", body, "NotAuthorizedException")
    out = await api.ok("GetTokensFromRefreshToken", {"ClientId": cid, "RefreshToken": first})
    second = out["AuthenticationResult"]["RefreshToken"]
    api.clock.advance(10)  # a retry within the grace period gets tokens again
    retry = await api.ok("GetTokensFromRefreshToken", {"ClientId": cid, "RefreshToken": first})
    assert retry["AuthenticationResult"]["RefreshToken"] not in (first, second)
    api.clock.advance(1)
    await api.error(
        "GetTokensFromRefreshToken", {"ClientId": cid, "RefreshToken": first}, "RefreshTokenReuseException"
    )
    third = await api.ok("GetTokensFromRefreshToken", {"ClientId": cid, "RefreshToken": second})
    assert third["AuthenticationResult"]["RefreshToken"] not in (first, second)


async def test_global_sign_out_then_a_fresh_sign_in(api: InProcessApi) -> None:
    """Moved from the conformance suite, where it slept 1.05 s."""
    _, cid, _ = await setup(api)
    tokens = await sign_in(api, cid)
    await api.ok("GlobalSignOut", {"AccessToken": tokens["AccessToken"]})
    assert await api.error("GetUser", {"AccessToken": tokens["AccessToken"]}, "NotAuthorizedException") == (
        "Access Token has been revoked"
    )
    body = {
        "ClientId": cid,
        "AuthFlow": "REFRESH_TOKEN_AUTH",
        "AuthParameters": {"REFRESH_TOKEN": tokens["RefreshToken"]},
    }
    await api.error("InitiateAuth", body, "NotAuthorizedException")
    api.clock.advance(1)  # tokens issued after the sign-out's second work again
    fresh = await sign_in(api, cid)
    assert (await api.ok("GetUser", {"AccessToken": fresh["AccessToken"]}))["Username"] == "ann"


async def test_challenge_session_expires(api: InProcessApi) -> None:
    pool, cid, _ = await setup(api, AuthSessionValidity=3)
    await api.admin(
        "AdminCreateUser",
        {
            "UserPoolId": pool,
            "Username": "tim",
            "TemporaryPassword": "Temp0rary!",
            "MessageAction": "SUPPRESS",
        },
    )
    body = {
        "ClientId": cid,
        "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": "tim", "PASSWORD": "Temp0rary!"},
    }
    first = await api.ok("InitiateAuth", body)
    assert first["ChallengeName"] == "NEW_PASSWORD_REQUIRED" and first["Session"]
    api.clock.advance(3 * 60)
    answer = {
        "ClientId": cid,
        "ChallengeName": "NEW_PASSWORD_REQUIRED",
        "Session": first["Session"],
        "ChallengeResponses": {"USERNAME": "tim", "NEW_PASSWORD": "N3w-Passw0rd!"},
    }
    assert "session is expired" in await api.error("RespondToAuthChallenge", answer, "NotAuthorizedException")


async def test_a_signature_is_checked_against_the_pinned_clock(api: InProcessApi) -> None:
    """IAM calls are signed at the clock's time; a clock moved past five minutes refuses the old signature."""
    resp = await api.call("ListUserPools", {"MaxResults": 1}, signed=True)
    assert resp.status_code == 200
    signed = api._sign(
        {
            "X-Amz-Target": "AWSCognitoIdentityProviderService.ListUserPools",
            "Content-Type": "application/x-amz-json-1.1",
        },
        b'{"MaxResults": 1}',
    )
    api.clock.advance(301)
    late = await api.http.post("/", content=b'{"MaxResults": 1}', headers=signed)
    assert (
        late.json()["__type"] == "InvalidSignatureException" and "Signature expired" in late.json()["message"]
    )


async def test_sign_up_answers_with_the_cores_result_as_cognitos_shapes(api: InProcessApi) -> None:
    pool = (await api.admin("CreateUserPool", {"PoolName": "p", "AutoVerifiedAttributes": ["email"]}))[
        "UserPool"
    ]["Id"]
    cid = (await api.admin("CreateUserPoolClient", {"UserPoolId": pool, "ClientName": "c"}))[
        "UserPoolClient"
    ]["ClientId"]
    body = {"ClientId": cid, "Username": "bob"}
    # SignUp's Password is optional in the model; without one it is a clear 400, never a 500.
    message = await api.error("SignUp", body, "InvalidParameterException")
    assert "Password" in message
    attributes = [{"Name": "email", "Value": "x@y.io"}, {"Name": "email", "Value": "bob@example.com"}]
    out = await api.ok("SignUp", {**body, "Password": PASSWORD, "UserAttributes": attributes})
    assert out["UserConfirmed"] is False and out["UserSub"]
    expected = {"Destination": "b***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    assert out["CodeDeliveryDetails"] == expected  # the last value of a name wins, as before
    again = await api.ok("ResendConfirmationCode", body)
    assert again == {"CodeDeliveryDetails": expected}
