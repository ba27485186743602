"""The browser session at /oauth2/authorize: prompt, max_age, and logout (OIDF Basic OP cases; issue 8)."""

from __future__ import annotations

import pytest

from cognate.core import browser_sessions
from tests.oauth.conftest import BASE, CALLBACK, LOGOUT_URL, Env, query_of

pytestmark = pytest.mark.anyio


async def sign_in_browser(env: Env) -> None:
    """A browser session as the hosted /login leaves it (the hosted pages' own code starts it)."""
    value = await env.core.browser_sessions.start(
        env.pool.id, env.user.sub, env.user.username, int(env.core.clock.now()), ("pwd",)
    )
    env.http.cookies.set(browser_sessions.cookie_name(env.pool.id), value)


async def authorize(env: Env, **params: str) -> str:
    response = await env.http.get("/oauth2/authorize", params=env.params(**params))
    assert response.status_code == 302, response.text
    return str(response.headers["location"])


async def test_a_signed_in_browser_gets_a_code_without_the_form(env: Env) -> None:
    await sign_in_browser(env)
    location = await authorize(env)
    assert location.startswith(CALLBACK) and "code" in query_of(location)


async def test_prompt_login_asks_again(env: Env) -> None:
    await sign_in_browser(env)
    assert (await authorize(env, prompt="login")).startswith(f"{BASE}/login?")


async def test_prompt_none_signed_in_and_signed_out(env: Env) -> None:
    assert query_of(await authorize(env, prompt="none"))["error"] == "login_required"
    await sign_in_browser(env)
    assert "code" in query_of(await authorize(env, prompt="none"))


async def test_max_age(env: Env) -> None:
    await sign_in_browser(env)
    env.core.clock.advance(2)
    assert (await authorize(env, max_age="1")).startswith(f"{BASE}/login?")
    assert "code" in query_of(await authorize(env, max_age="10000"))
    assert query_of(await authorize(env, max_age="1", prompt="none"))["error"] == "login_required"


async def test_auth_time_of_the_session_reaches_the_id_token(env: Env) -> None:
    await sign_in_browser(env)
    signed_at = int(env.core.clock.now())
    env.core.clock.advance(30)
    code = query_of(await authorize(env, scope="openid"))["code"]
    body = (
        await env.token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": CALLBACK,
                "client_id": env.public.id,
            }
        )
    ).json()
    claims = await env.core.tokens.verify(body["id_token"], token_use="id")
    assert claims["auth_time"] == signed_at


async def test_a_session_of_one_pool_does_not_sign_into_another(env: Env) -> None:
    await sign_in_browser(env)
    other = await env.core.pools.create({"PoolName": "other"})
    client = await env.core.clients.create(
        other,
        {
            "ClientName": "c",
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid"],
            "CallbackURLs": [CALLBACK],
        },
    )
    location = await authorize(env, client_id=client.id, scope="openid")
    assert location.startswith(f"{BASE}/login?")


async def test_a_disabled_or_signed_out_user_loses_the_session(env: Env) -> None:
    await sign_in_browser(env)
    env.core.clock.advance(1)
    await env.core.auth.global_sign_out(env.pool, env.user)
    assert (await authorize(env)).startswith(f"{BASE}/login?")


async def test_logout_ends_the_session(env: Env) -> None:
    await sign_in_browser(env)
    response = await env.http.get("/logout", params={"client_id": env.public.id, "logout_uri": LOGOUT_URL})
    assert response.status_code == 302 and response.headers["location"] == LOGOUT_URL
    cleared = response.headers["set-cookie"]
    assert cleared.startswith(browser_sessions.cookie_name(env.pool.id) + "=;") and "Max-Age=0" in cleared
    assert (await authorize(env)).startswith(f"{BASE}/login?")


async def test_an_unregistered_logout_uri_keeps_the_session(env: Env) -> None:
    await sign_in_browser(env)
    response = await env.http.get(
        "/logout", params={"client_id": env.public.id, "logout_uri": "https://evil.example.com/"}
    )
    assert response.status_code == 400 and "set-cookie" not in response.headers
    assert "code" in query_of(await authorize(env))


async def test_a_fault_after_the_redirect_uri_is_trusted_goes_back_as_server_error(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in_browser(env)

    async def broken(*_args: object, **_kw: object) -> str:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(env.core.authorization_codes, "issue", broken)
    found = query_of(await authorize(env))
    assert found["error"] == "server_error" and found["state"] == "st-123" and "code" not in found
    assert "fire" not in found.get("error_description", "")
