"""GET /oauth2/authorize: what is a page, what is a redirect, and what the redirect carries (issue 8)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.oauth.conftest import BASE, CALLBACK, Env, fragment_of, query_of, verifier_and_challenge

pytestmark = pytest.mark.anyio


async def authorize(env: Env, **params: Any) -> Any:
    return await env.http.get("/oauth2/authorize", params=params)


def assert_page(response: Any) -> None:
    """An error page: never a redirect, never framed, no CORS."""
    assert response.status_code == 400, response.text
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-frame-options"] == "DENY"
    assert "access-control-allow-origin" not in response.headers


def assert_error_redirect(response: Any, error: str, state: str | None = "st-123") -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(CALLBACK + "?")
    found = query_of(location)
    assert found["error"] == error, found
    assert found.get("state") == state
    assert found["iss"].startswith(BASE + "/us-east-1_")
    assert "code" not in found
    return found


async def test_without_a_session_the_browser_goes_to_login_with_the_same_parameters(env: Env) -> None:
    params = env.params()
    response = await authorize(env, **params)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(f"{BASE}/login?")
    assert query_of(location) == params
    assert "access-control-allow-origin" not in response.headers


async def test_the_authorize_alias_answers_the_same(env: Env) -> None:
    response = await env.http.get("/authorize", params=env.params())
    assert response.status_code == 302 and "/login?" in response.headers["location"]


@pytest.mark.parametrize(
    "change",
    [
        {"client_id": ""},
        {"client_id": "nosuchclient00000000000000"},
        {"redirect_uri": ""},
        {"redirect_uri": "https://evil.example.com/callback"},
        {"redirect_uri": CALLBACK + "/more"},  # a longer path
        {"redirect_uri": "https://app.example.com:8443/callback"},  # another port
        {"redirect_uri": "http://app.example.com/callback"},  # another scheme
        {"redirect_uri": "https://app.example.com/callback/../callback"},
        {"redirect_uri": "https://app.example.com/callback/..;/callback"},
        {"redirect_uri": "https://app.example.com@evil.example.com/callback"},
        {"redirect_uri": "https://app.example.com%25@evil.example.com/callback"},
        {"redirect_uri": "https://evil.example.com%2F@app.example.com/callback"},
        {"redirect_uri": "https://app.example.com/%63allback"},  # encoded character
        {"redirect_uri": CALLBACK + "#frag"},
        {"redirect_uri": "https://APP.example.com/callback"},  # case
        {"redirect_uri": "https://app.example.com./callback"},  # trailing dot
        {"redirect_uri": CALLBACK + "?x=1"},
        {"redirect_uri": CALLBACK + "/"},
        {"identity_provider": "Google"},
        {"idp_identifier": "example.com"},
    ],
)
async def test_untrusted_client_or_redirect_uri_is_an_error_page_never_a_redirect(
    env: Env, change: dict[str, str]
) -> None:
    params = {**env.params(), **change}
    assert_page(await authorize(env, **{k: v for k, v in params.items() if v != ""}))


async def test_a_repeated_redirect_uri_is_an_error_page(env: Env) -> None:
    response = await env.http.get(
        f"/oauth2/authorize?client_id={env.public.id}&redirect_uri={CALLBACK}"
        "&redirect_uri=https://evil.example.com/cb&response_type=code"
    )
    assert_page(response)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"response_type": ""}, "invalid_request"),
        ({"response_type": "id_token"}, "unsupported_response_type"),
        ({"scope": "openid admin/everything"}, "invalid_scope"),
        ({"scope": "email"}, "invalid_scope"),  # email needs openid
        ({"code_challenge": "x" * 43}, "invalid_request"),  # no method
        ({"code_challenge_method": "S256"}, "invalid_request"),  # no challenge
        ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "x" * 43, "code_challenge_method": "S512"}, "invalid_request"),
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"prompt": "bogus"}, "invalid_request"),
        ({"max_age": "-1"}, "invalid_request"),
        ({"max_age": "ten"}, "invalid_request"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
        ({"request_uri": "https://evil.example.com/req.jwt"}, "request_uri_not_supported"),
        ({"prompt": "none"}, "login_required"),
    ],
)
async def test_after_the_redirect_uri_is_trusted_problems_go_back_to_it(
    env: Env, change: dict[str, str], error: str
) -> None:
    params = {**env.params(), **change}
    response = await authorize(env, **{k: v for k, v in params.items() if v != ""})
    found = assert_error_redirect(response, error)
    assert found.get("error_description")


async def test_a_client_without_the_flow_is_unauthorized_client(env: Env) -> None:
    response = await authorize(env, **env.params(env.confidential, response_type="token"))
    assert response.status_code == 302
    assert fragment_of(response.headers["location"])["error"] == "unauthorized_client"


async def test_an_error_redirect_without_state_carries_none(env: Env) -> None:
    params = env.params(response_type="id_token")
    del params["state"]
    assert_error_redirect(await authorize(env, **params), "unsupported_response_type", state=None)


async def test_an_implicit_error_goes_in_the_fragment(env: Env) -> None:
    response = await authorize(env, **env.params(response_type="token", scope="openid nope"))
    assert response.status_code == 302
    assert fragment_of(response.headers["location"])["error"] == "invalid_scope"


async def test_unknown_parameters_are_ignored(env: Env) -> None:
    response = await authorize(env, **env.params(ui_locales="fr-CA", login_hint="alice", foo="bar"))
    assert response.status_code == 302 and "/login?" in response.headers["location"]


async def test_a_code_comes_back_with_state_and_iss(env: Env) -> None:
    location = await env.location()
    found = query_of(location)
    assert location.startswith(CALLBACK + "?")
    assert set(found) == {"code", "state", "iss"}
    assert found["state"] == "st-123"
    assert found["iss"] == env.core.tokens.issuer(env.pool.id)
    assert len(found["code"]) >= 43


async def test_a_registered_uri_with_a_query_keeps_it(env: Env) -> None:
    loopback = "http://localhost:3000/cb"
    found = query_of(await env.location(redirect_uri=loopback))
    assert "code" in found


async def test_implicit_tokens_go_in_the_fragment(env: Env) -> None:
    location = await env.location(response_type="token", nonce="n-1")
    assert "?" not in location.split("#")[0]
    found = fragment_of(location)
    assert found["token_type"] == "Bearer" and found["state"] == "st-123" and found["iss"]
    assert "refresh_token" not in found and found["id_token"] and found["access_token"]


async def test_implicit_without_openid_has_no_id_token(env: Env) -> None:
    found = fragment_of(await env.location(response_type="token", scope="aws.cognito.signin.user.admin"))
    assert "id_token" not in found and found["access_token"]


async def test_no_scope_means_all_the_clients_scopes(env: Env) -> None:
    tokens = await env.tokens_by_code(scope="")
    claims = await env.core.tokens.verify(tokens["access_token"], token_use="access")
    assert set(claims["scope"].split()) == set(env.public.doc["AllowedOAuthScopes"])


async def test_tampered_parameters_at_completion_are_checked_again(env: Env) -> None:
    from cognate.errors import InvalidAuthorizationRequest

    with pytest.raises(InvalidAuthorizationRequest):
        await env.location(redirect_uri="https://evil.example.com/cb")
    # A sign-in of one client cannot complete another client's request.
    params = env.params(env.confidential)
    with pytest.raises(InvalidAuthorizationRequest):
        await env.authorizer.complete_authorization(params, env.signed_in(env.public))
    verifier, _ = verifier_and_challenge()
    bad = await env.location(code_challenge=verifier[:10], code_challenge_method="S256")
    assert query_of(bad)["error"] == "invalid_request"


async def test_post_to_authorize_is_read_like_get(env: Env) -> None:
    response = await env.http.post("/oauth2/authorize", data=env.params(response_type="id_token"))
    assert_error_redirect(response, "unsupported_response_type")


async def test_response_mode_fragment_and_refusals(env: Env) -> None:
    found = fragment_of(await env.location(response_mode="fragment"))
    assert "code" in found and found["state"] == "st-123"
    assert query_of(await env.location(response_mode="query"))["code"]
    response = await authorize(env, **env.params(response_mode="form_post"))
    assert_error_redirect(response, "invalid_request")
    token_in_query = await authorize(env, **env.params(response_type="token", response_mode="query"))
    assert token_in_query.status_code == 302
    assert fragment_of(token_in_query.headers["location"])["error"] == "invalid_request"
