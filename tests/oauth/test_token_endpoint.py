"""POST /oauth2/token: the three grants, client authentication, and every refusal (issue 8)."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import jwt
import pytest

from cognate.oauth.token_endpoint import TokenEndpoint
from tests.oauth.conftest import API, CALLBACK, Env, basic, verifier_and_challenge

pytestmark = pytest.mark.anyio


def assert_error(response: Any, error: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["access-control-allow-origin"] == "*"


async def code_request(env: Env, **extra: Any) -> dict[str, str]:
    verifier, challenge = verifier_and_challenge()
    code = await env.code(code_challenge=challenge, code_challenge_method="S256", nonce="n-0S6")
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
        "client_id": env.public.id,
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


async def test_code_with_pkce_gives_id_access_and_refresh_tokens(env: Env) -> None:
    response = await env.token(await code_request(env))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    ident = await env.core.tokens.verify(body["id_token"], token_use="id")
    assert (
        ident["nonce"] == "n-0S6" and ident["aud"] == env.public.id and ident["email"] == "alice@example.com"
    )
    access = await env.core.tokens.verify(body["access_token"], token_use="access")
    assert access["scope"] == "openid email profile" and access["origin_jti"] == ident["origin_jti"]
    assert (
        jwt.get_unverified_header(body["id_token"])["kid"]
        != jwt.get_unverified_header(body["access_token"])["kid"]
    )
    assert body["refresh_token"]


async def test_a_code_is_single_use_and_its_reuse_revokes_what_it_issued(env: Env) -> None:
    data = await code_request(env)
    first = (await env.token(data)).json()
    assert_error(await env.token(data), "invalid_grant")
    # The tokens of the first redemption are dead: access token, refresh token.
    from cognate.errors import NotAuthorizedException

    with pytest.raises(NotAuthorizedException):
        await env.core.tokens.verify(first["access_token"], token_use="access")
    again = await env.token(
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": env.public.id}
    )
    assert_error(again, "invalid_grant")


async def test_a_code_reused_after_30_seconds_still_revokes(env: Env) -> None:
    data = await code_request(env)
    first = (await env.token(data)).json()
    env.core.clock.advance(30)
    assert_error(await env.token(data), "invalid_grant")
    response = await env.http.get(
        "/oauth2/userInfo", headers={"Authorization": f"Bearer {first['access_token']}"}
    )
    assert response.status_code == 401


async def test_concurrent_redemptions_give_tokens_at_most_once(env: Env) -> None:
    data = await code_request(env)
    results = await asyncio.gather(*(env.token(data) for _ in range(4)))
    assert sorted(r.status_code for r in results) in ([200, 400, 400, 400], [400, 400, 400, 400])


async def test_a_code_expires_after_five_minutes(env: Env) -> None:
    data = await code_request(env)
    env.core.clock.advance(301)
    assert_error(await env.token(data), "invalid_grant")


@pytest.mark.parametrize(
    "change",
    [
        {"redirect_uri": "http://localhost:3000/cb"},  # another registered URI
        {"redirect_uri": None},
        {"code_verifier": None},  # challenge sent, verifier missing
        {"code_verifier": "A" * 43},  # wrong verifier
        {"code_verifier": "short"},
        {"code": "not-a-code"},
    ],
)
async def test_code_refusals(env: Env, change: dict[str, Any]) -> None:
    response = await env.token(await code_request(env, **change))
    expected = "invalid_request" if change == {"redirect_uri": None} else "invalid_grant"
    assert_error(response, expected)


async def test_pkce_downgrade_a_verifier_without_a_challenge_is_refused(env: Env) -> None:
    code = await env.code()
    verifier, _ = verifier_and_challenge()
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
        "client_id": env.public.id,
    }
    assert_error(await env.token(data), "invalid_grant")


async def test_a_code_redeemed_by_another_client_is_refused(env: Env) -> None:
    data = await code_request(env)
    del data["client_id"]
    assert_error(await env.token(data, basic(env.confidential)), "invalid_grant")
    # ... and it is spent: the rightful client cannot use it afterwards either.
    data["client_id"] = env.public.id
    assert_error(await env.token(data), "invalid_grant")


async def test_confidential_client_by_basic_and_by_post(env: Env) -> None:
    client = env.confidential
    tokens = await env.tokens_by_code(client, scope="openid email")
    assert tokens["id_token"]
    verifier, challenge = verifier_and_challenge()
    code = await env.code(client, scope="openid", code_challenge=challenge, code_challenge_method="S256")
    response = await env.token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
            "client_id": client.id,
            "client_secret": client.secret or "",
        }
    )
    assert response.status_code == 200, response.text


async def test_client_authentication_refusals(env: Env) -> None:
    data = {"grant_type": "refresh_token", "refresh_token": "x"}
    wrong = base64.b64encode(f"{env.confidential.id}:wrong".encode()).decode()
    response = await env.token(data, {"Authorization": f"Basic {wrong}"})
    assert_error(response, "invalid_client", 401)
    assert response.headers["www-authenticate"].startswith("Basic")
    assert_error(
        await env.token({**data, "client_id": env.confidential.id, "client_secret": "no"}), "invalid_client"
    )
    assert_error(await env.token({**data, "client_id": env.confidential.id}), "invalid_client")
    assert_error(await env.token({**data, "client_id": "nosuchclient00000000000000"}), "invalid_client")
    assert_error(await env.token(data), "invalid_client")
    assert_error(await env.token(data, {"Authorization": "Basic !!notbase64"}), "invalid_client", 401)
    both = {**data, "client_secret": env.confidential.secret or ""}
    assert_error(await env.token(both, basic(env.confidential)), "invalid_request")


async def test_malformed_requests(env: Env) -> None:
    assert_error(await env.http.post("/oauth2/token", json={"grant_type": "x"}), "invalid_request")
    assert_error(await env.token({"client_id": env.public.id}), "invalid_request")
    assert_error(
        await env.token({"grant_type": "password", "client_id": env.public.id}), "unsupported_grant_type"
    )
    repeated = await env.http.post(
        "/oauth2/token",
        content=f"grant_type=refresh_token&grant_type=refresh_token&client_id={env.public.id}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(repeated, "invalid_request")
    huge = await env.http.post(
        "/oauth2/token",
        content=b"grant_type=refresh_token&refresh_token=" + b"a" * 200_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(huge, "invalid_request")


async def test_refresh_gives_new_tokens_in_the_same_family(env: Env) -> None:
    first = await env.tokens_by_code()
    response = await env.token(
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": env.public.id}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "refresh_token" not in body  # no rotation configured
    old = await env.core.tokens.verify(first["access_token"], token_use="access")
    new = await env.core.tokens.verify(body["access_token"], token_use="access")
    assert new["origin_jti"] == old["origin_jti"] and new["scope"] == old["scope"]


async def test_refresh_cannot_widen_the_scope(env: Env) -> None:
    first = await env.tokens_by_code(scope="openid email")
    data = {
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
        "client_id": env.public.id,
    }
    assert_error(await env.token({**data, "scope": "openid email phone"}), "invalid_scope")
    assert (await env.token({**data, "scope": "openid"})).status_code == 200


async def test_a_refresh_token_of_another_client_is_refused(env: Env) -> None:
    first = await env.tokens_by_code()
    data = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    assert_error(await env.token(data, basic(env.confidential)), "invalid_grant")


async def test_refresh_rotation_returns_a_new_refresh_token(env: Env) -> None:
    doc = {**env.public.doc, "RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 0}}
    env.public = await env.core.clients.update(env.pool, env.public.id, {"ClientName": "spa", **doc})
    first = await env.tokens_by_code()
    data = {
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
        "client_id": env.public.id,
    }
    second = await env.token(data)
    assert second.status_code == 200 and second.json()["refresh_token"] != first["refresh_token"]
    assert_error(await env.token(data), "invalid_grant")


async def test_client_credentials(env: Env) -> None:
    response = await env.token(
        {"grant_type": "client_credentials", "scope": f"{API}/read"}, basic(env.machine)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    claims = await env.core.tokens.verify(body["access_token"], token_use="access")
    assert claims["sub"] == env.machine.id and claims["scope"] == f"{API}/read"
    everything = await env.token({"grant_type": "client_credentials"}, basic(env.machine))
    claims = await env.core.tokens.verify(everything.json()["access_token"], token_use="access")
    assert set(claims["scope"].split()) == {f"{API}/read", f"{API}/write"}


async def test_client_credentials_refusals(env: Env) -> None:
    grant = {"grant_type": "client_credentials"}
    assert_error(await env.token({**grant, "scope": "openid"}, basic(env.machine)), "invalid_scope")
    assert_error(await env.token({**grant, "scope": f"{API}/admin"}, basic(env.machine)), "invalid_scope")
    assert_error(await env.token({**grant, "client_id": env.public.id}), "unauthorized_client")
    assert_error(await env.token(grant, basic(env.confidential)), "unauthorized_client")
    machine_code = {**grant, "grant_type": "authorization_code", "code": "x", "redirect_uri": CALLBACK}
    assert_error(await env.token(machine_code, basic(env.machine)), "unauthorized_client")


async def test_cors_preflight_on_the_token_endpoint(env: Env) -> None:
    response = await env.http.options("/oauth2/token", headers={"Origin": "https://spa.example.com"})
    assert response.status_code == 204 and response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    amplify = await env.http.options(
        "/oauth2/token",
        headers={
            "Origin": "https://spa.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-amz-user-agent",
        },
    )
    assert amplify.headers["access-control-allow-headers"] == "content-type, x-amz-user-agent"
    odd = await env.http.options(
        "/oauth2/token", headers={"Origin": "https://x.example", "Access-Control-Request-Headers": "a b, <c>"}
    )
    assert "<c>" not in odd.headers["access-control-allow-headers"]


async def test_refresh_gives_an_id_token_only_when_the_grant_had_openid(env: Env) -> None:
    """A code granted without ``openid`` gave no ID token, and neither does its refresh,
    rotated or not; one granted with ``openid`` gives one each time."""
    for scope, with_id in (("aws.cognito.signin.user.admin", False), ("openid email", True)):
        first = await env.tokens_by_code(scope=scope)
        assert ("id_token" in first) is with_id
        data = {
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": env.public.id,
        }
        refreshed = (await env.token(data)).json()
        assert ("id_token" in refreshed) is with_id, refreshed
    doc = {**env.public.doc, "RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 0}}
    env.public = await env.core.clients.update(env.pool, env.public.id, {"ClientName": "spa", **doc})
    first = await env.tokens_by_code(scope="aws.cognito.signin.user.admin")
    data = {
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
        "client_id": env.public.id,
    }
    rotated = (await env.token(data)).json()
    assert "id_token" not in rotated and "refresh_token" in rotated
    again = (await env.token({**data, "refresh_token": rotated["refresh_token"]})).json()
    assert "id_token" not in again and "access_token" in again


async def test_a_client_that_leaves_mid_body_gets_no_answer_and_changes_nothing(env: Env) -> None:
    """The plain ASGI token endpoint reads the body itself: a disconnect ends the request."""
    sent: list[dict[str, Any]] = []
    messages = [
        {"type": "http.request", "body": b"grant_type=client_", "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    token = TokenEndpoint(lambda: env.core)
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/oauth2/token",
        "headers": [(b"content-type", b"application/x-www-form-urlencoded"), *basic_raw(env)],
        "client": ("192.0.2.1", 1234),
    }
    await token(scope, receive, send)
    assert sent == []


def basic_raw(env: Env) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode(), v.encode()) for k, v in basic(env.machine).items()]


async def test_the_token_endpoint_answers_only_post(env: Env) -> None:
    for method in ("GET", "PUT", "DELETE"):
        response = await env.http.request(method, "/oauth2/token")
        assert response.status_code == 405, (method, response.text)


async def test_a_client_secret_unsealed_once_is_checked_against_the_current_client(env: Env) -> None:
    """The unsealed secret is kept beside the client cache: a deleted client stops at once
    for this process's cache as for every other path, and a wrong secret stays wrong."""
    grant = {"grant_type": "client_credentials"}
    assert (await env.token(grant, basic(env.machine))).status_code == 200
    assert (await env.token(grant, basic(env.machine))).status_code == 200
    wrong = base64.b64encode(f"{env.machine.id}:{'x' * len(env.machine.secret or '')}".encode()).decode()
    assert_error(await env.token(grant, {"Authorization": f"Basic {wrong}"}), "invalid_client", 401)
    await env.core.clients.delete(env.pool.id, env.machine.id)
    assert_error(await env.token(grant, basic(env.machine)), "invalid_client", 401)
