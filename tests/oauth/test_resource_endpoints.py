"""userInfo, revoke, introspect, logout and discovery over HTTP (issue 8)."""

from __future__ import annotations

import pytest

from tests.oauth.conftest import API, BASE, CALLBACK, LOGOUT_URL, Env, basic, query_of

pytestmark = pytest.mark.anyio


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_userinfo_by_get_post_header_and_post_body(env: Env) -> None:
    tokens = await env.tokens_by_code(scope="openid email profile")
    access = tokens["access_token"]
    by_get = await env.http.get("/oauth2/userInfo", headers=bearer(access))
    assert by_get.status_code == 200, by_get.text
    body = by_get.json()
    assert (
        body["sub"] == env.user.sub
        and body["email"] == "alice@example.com"
        and body["email_verified"] is True
    )
    assert body["name"] == "Alice" and body["username"] == "alice"
    assert by_get.headers["access-control-allow-origin"] == "*"
    by_post = await env.http.post("/oauth2/userInfo", headers=bearer(access))
    assert by_post.json() == body
    in_body = await env.http.post("/oauth2/userInfo", data={"access_token": access})
    assert in_body.json() == body


async def test_userinfo_claims_follow_the_scopes(env: Env) -> None:
    only_email = await env.tokens_by_code(scope="openid email")
    body = (await env.http.get("/oauth2/userInfo", headers=bearer(only_email["access_token"]))).json()
    assert set(body) == {"sub", "email", "email_verified", "username"}
    phone = await env.tokens_by_code(scope="openid phone")
    body = (await env.http.get("/oauth2/userInfo", headers=bearer(phone["access_token"]))).json()
    assert set(body) == {"sub", "phone_number", "username"}
    bare = await env.tokens_by_code(scope="openid")
    assert set((await env.http.get("/oauth2/userInfo", headers=bearer(bare["access_token"]))).json()) == {
        "sub",
        "username",
    }


async def test_userinfo_refusals(env: Env) -> None:
    missing = await env.http.get("/oauth2/userInfo")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == 'Bearer realm="cognate"'
    junk = await env.http.get("/oauth2/userInfo", headers=bearer("junk.token.here"))
    assert junk.status_code == 401 and 'error="invalid_token"' in junk.headers["www-authenticate"]
    no_openid = await env.tokens_by_code(scope="aws.cognito.signin.user.admin")
    refused = await env.http.get("/oauth2/userInfo", headers=bearer(no_openid["access_token"]))
    assert refused.status_code == 403 and 'error="insufficient_scope"' in refused.headers["www-authenticate"]
    tokens = await env.tokens_by_code()
    twice = await env.http.post(
        "/oauth2/userInfo",
        headers=bearer(tokens["access_token"]),
        data={"access_token": tokens["access_token"]},
    )
    assert twice.status_code == 400 and 'error="invalid_request"' in twice.headers["www-authenticate"]
    id_token = await env.http.get("/oauth2/userInfo", headers=bearer(tokens["id_token"]))
    assert id_token.status_code == 401
    env.core.clock.advance(3601)
    expired = await env.http.get("/oauth2/userInfo", headers=bearer(tokens["access_token"]))
    assert expired.status_code == 401


async def test_userinfo_refuses_after_global_sign_out_and_disable(env: Env) -> None:
    tokens = await env.tokens_by_code()
    env.core.clock.advance(2)
    await env.core.auth.global_sign_out(env.pool, env.user)
    response = await env.http.get("/oauth2/userInfo", headers=bearer(tokens["access_token"]))
    assert response.status_code == 401


async def test_an_oversized_or_deeply_nested_token_is_refused_cleanly(env: Env) -> None:
    import base64

    nested = '{"a": ' + "[" * 5000 + '"x"' + "]" * 5000 + "}"
    payload = base64.urlsafe_b64encode(nested.encode()).rstrip(b"=").decode()
    deep = f"eyJhbGciOiJSUzI1NiJ9.{payload}.c2ln"
    for token in (deep, "a" * 100_000 + ".b.c"):
        response = await env.http.get("/oauth2/userInfo", headers=bearer(token))
        assert response.status_code in (400, 401), response.text
        response = await env.token(
            {"grant_type": "refresh_token", "refresh_token": token, "client_id": env.public.id}
        )
        assert response.status_code == 400


async def test_revoke_a_refresh_token_kills_its_family(env: Env) -> None:
    tokens = await env.tokens_by_code()
    response = await env.http.post(
        "/oauth2/revoke", data={"token": tokens["refresh_token"], "client_id": env.public.id}
    )
    assert response.status_code == 200 and response.text == ""
    assert response.headers["access-control-allow-origin"] == "*"
    userinfo = await env.http.get("/oauth2/userInfo", headers=bearer(tokens["access_token"]))
    assert userinfo.status_code == 401
    again = await env.http.post(
        "/oauth2/revoke", data={"token": tokens["refresh_token"], "client_id": env.public.id}
    )
    assert again.status_code == 200


async def test_revoke_refusals(env: Env) -> None:
    tokens = await env.tokens_by_code()
    unknown = await env.http.post("/oauth2/revoke", data={"token": "unknown", "client_id": env.public.id})
    assert unknown.status_code == 200
    access = await env.http.post(
        "/oauth2/revoke", data={"token": tokens["access_token"], "client_id": env.public.id}
    )
    assert access.status_code == 400 and access.json()["error"] == "unsupported_token_type"
    missing = await env.http.post("/oauth2/revoke", data={"client_id": env.public.id})
    assert missing.json()["error"] == "invalid_request"
    other = await env.http.post(
        "/oauth2/revoke", data={"token": tokens["refresh_token"]}, headers=basic(env.confidential)
    )
    assert other.status_code == 400 and other.json()["error"] == "unauthorized_client"
    no_secret = await env.http.post("/oauth2/revoke", data={"token": "x", "client_id": env.confidential.id})
    assert no_secret.json()["error"] == "invalid_client"


async def test_introspection(env: Env) -> None:
    tokens = await env.tokens_by_code(env.confidential, scope=f"openid email {API}/read")
    auth = basic(env.confidential)
    active = (
        await env.http.post("/oauth2/introspect", data={"token": tokens["access_token"]}, headers=auth)
    ).json()
    assert active["active"] is True and active["client_id"] == env.confidential.id
    assert active["scope"] == f"openid email {API}/read" and active["username"] == "alice"
    refresh = (
        await env.http.post("/oauth2/introspect", data={"token": tokens["refresh_token"]}, headers=auth)
    ).json()
    assert refresh["active"] is True and refresh["sub"] == env.user.sub
    ident = (
        await env.http.post("/oauth2/introspect", data={"token": tokens["id_token"]}, headers=auth)
    ).json()
    assert ident["active"] is True and ident["aud"] == env.confidential.id
    for junk in ("junk", "a.b.c"):
        body = (await env.http.post("/oauth2/introspect", data={"token": junk}, headers=auth)).json()
        assert body == {"active": False}
    await env.http.post("/oauth2/revoke", data={"token": tokens["refresh_token"]}, headers=auth)
    body = (
        await env.http.post("/oauth2/introspect", data={"token": tokens["access_token"]}, headers=auth)
    ).json()
    assert body == {"active": False}


async def test_introspection_needs_an_authenticated_client(env: Env) -> None:
    tokens = await env.tokens_by_code()
    public = await env.http.post(
        "/oauth2/introspect", data={"token": tokens["access_token"], "client_id": env.public.id}
    )
    assert public.status_code == 400 and public.json()["error"] == "invalid_client"
    anonymous = await env.http.post("/oauth2/introspect", data={"token": tokens["access_token"]})
    assert anonymous.json()["error"] == "invalid_client"


async def test_logout_to_a_registered_sign_out_url(env: Env) -> None:
    response = await env.http.get("/logout", params={"client_id": env.public.id, "logout_uri": LOGOUT_URL})
    assert response.status_code == 302 and response.headers["location"] == LOGOUT_URL


async def test_logout_then_sign_in_again(env: Env) -> None:
    params = {"client_id": env.public.id, "redirect_uri": CALLBACK, "response_type": "code", "state": "s"}
    response = await env.http.get("/logout", params=params)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(f"{BASE}/oauth2/authorize?") and query_of(location)["state"] == "s"


async def test_rp_initiated_logout(env: Env) -> None:
    tokens = await env.tokens_by_code()
    params = {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": LOGOUT_URL, "state": "bye"}
    response = await env.http.get("/logout", params=params)
    assert response.status_code == 302 and response.headers["location"] == f"{LOGOUT_URL}?state=bye"
    page = await env.http.get("/logout", params={"client_id": env.public.id})
    assert page.status_code == 200 and "signed out" in page.text


@pytest.mark.parametrize(
    "params",
    [
        {"logout_uri": "https://evil.example.com/"},
        {"logout_uri": LOGOUT_URL + "/x"},
        {"post_logout_redirect_uri": "https://evil.example.com/"},
        {"redirect_uri": "https://evil.example.com/cb", "response_type": "code"},
        {"redirect_uri": CALLBACK},
    ],
)
async def test_logout_never_follows_an_unregistered_uri(env: Env, params: dict[str, str]) -> None:
    response = await env.http.get("/logout", params={"client_id": env.public.id, **params})
    assert response.status_code == 400 and "location" not in response.headers


async def test_logout_needs_a_known_client(env: Env) -> None:
    for params in ({}, {"client_id": "nosuchclient00000000000000", "logout_uri": LOGOUT_URL}):
        response = await env.http.get("/logout", params=params)
        assert response.status_code == 400 and "location" not in response.headers


async def test_discovery_is_truthful(env: Env) -> None:
    doc = (await env.http.get(f"/{env.pool.id}/.well-known/openid-configuration")).json()
    assert doc["issuer"] == env.core.tokens.issuer(env.pool.id)
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["request_uri_parameter_supported"] is False
    for name in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "revocation_endpoint",
        "introspection_endpoint",
        "end_session_endpoint",
        "jwks_uri",
    ):
        path = doc[name].removeprefix(BASE)
        response = await env.http.request("GET" if name in ("jwks_uri",) else "POST", path)
        assert response.status_code != 404, name


async def test_scope_order_does_not_change_the_claims(env: Env) -> None:
    """OIDF Basic OP: scopes profile, email, phone in any order."""
    bodies = []
    for scope in ("openid profile email phone", "phone email profile openid", "email openid phone profile"):
        tokens = await env.tokens_by_code(scope=scope)
        bodies.append((await env.http.get("/oauth2/userInfo", headers=bearer(tokens["access_token"]))).json())
        ident = await env.core.tokens.verify(tokens["id_token"], token_use="id")
        assert ident["email"] == "alice@example.com"
    assert bodies[0] == bodies[1] == bodies[2]
    assert {"email", "phone_number", "name"} <= set(bodies[0])
