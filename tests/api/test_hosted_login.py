"""The hosted login page in process: the form, its headers, sign-in, the browser session (issue 9)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cognate.core import browser_sessions
from cognate.core.context import admin_context
from cognate.core.service import Core
from cognate.hosted_ui.security import BROWSER_COOKIE
from cognate.store.cached import CachingStore
from tests.api.hosted_helpers import (
    CALLBACK,
    PASSWORD,
    Completions,
    add_user,
    authorize_params,
    browser,
    follow_path,
    open_form,
    setup,
    submit,
)
from tests.support.forms import form, labels

pytestmark = pytest.mark.anyio


async def test_login_form_has_the_contract_inputs_one_submit_and_the_carried_parameters(core: Core) -> None:
    _, client = await setup(core)
    async with browser(core) as b:
        r = await b.get("/login", params=authorize_params(client, nonce="n-1"))
        assert r.status_code == 200
        f = form(r.text, "/login")
        assert f.method == "post"
        assert f.submits == 1
        assert {"username", "password", "_csrf"} <= set(f.fields)
        assert f.fields["client_id"] == client.id and f.fields["redirect_uri"] == CALLBACK
        assert f.fields["state"] == "st-123" and f.fields["nonce"] == "n-1"
        by_name = {i["name"]: i for i in f.inputs if "name" in i}
        assert by_name["username"]["autocomplete"] == "username"
        assert by_name["password"]["autocomplete"] == "current-password"
        assert by_name["password"]["type"] == "password"
        assert labels(r.text) == {"username": "Username", "password": "Password"}
        assert 'href="/signup?' in r.text and 'href="/forgotPassword?' in r.text
        assert r.headers["set-cookie"].startswith(f"{BROWSER_COOKIE}=")
        assert "HttpOnly" in r.headers["set-cookie"] and "SameSite=Lax" in r.headers["set-cookie"]


async def test_every_page_refuses_framing_and_caching(core: Core) -> None:
    _, client = await setup(core)
    async with browser(core) as b:
        for path in ("/login", "/signup", "/forgotPassword", "/resendcode", "/confirm"):
            r = await b.get(path, params=authorize_params(client))
            assert r.status_code == 200, path
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
            assert r.headers["x-frame-options"] == "DENY"
            assert r.headers["cache-control"] == "no-store"
            assert r.headers["referrer-policy"] == "no-referrer"
            assert r.headers["x-content-type-options"] == "nosniff"
            assert "access-control-allow-origin" not in r.headers


@pytest.mark.parametrize(
    "change",
    [
        {"client_id": "nosuchclient0000000000000"},
        {"client_id": ""},
        {"redirect_uri": "https://evil.example/callback"},
        {"redirect_uri": CALLBACK + "/"},
        {"redirect_uri": CALLBACK.upper()},
        {"redirect_uri": ""},
        {"response_type": "id_token"},
        {"response_type": "token"},  # the client allows only the code flow
    ],
)
async def test_bad_parameters_get_an_error_page_never_a_redirect(core: Core, change: dict[str, str]) -> None:
    _, client = await setup(core)
    params = {**authorize_params(client), **change}
    async with browser(core) as b:
        r = await b.get("/login", params=params)
        assert r.status_code == 400
        assert "location" not in r.headers
        assert "<form" not in r.text
        assert "evil.example" not in r.text


async def test_client_not_enabled_for_oauth_gets_an_error_page(core: Core) -> None:
    _, client = await setup(core, AllowedOAuthFlowsUserPoolClient=False)
    async with browser(core) as b:
        r = await b.get("/login", params=authorize_params(client))
        assert r.status_code == 400


async def test_sign_in_ends_at_the_redirect_uri_with_a_fresh_browser_session(core: Core) -> None:
    pool, client = await setup(core)
    await add_user(core, pool)
    done = Completions()
    async with browser(core, done) as b:
        f = await open_form(b, "/login", authorize_params(client))
        r = await submit(b, f, username="alice", password=PASSWORD)
        assert r.status_code == 302
        assert r.headers["location"] == f"{CALLBACK}?code=code-for-alice&state=st-123"
        params, auth = done.calls[0]
        assert params["client_id"] == client.id and auth.user.username == "alice" and auth.amr == ("pwd",)
        cookie = next(
            c for c in r.headers.get_list("set-cookie") if c.startswith(browser_sessions.COOKIE_PREFIX)
        )
        assert cookie.startswith(browser_sessions.cookie_name(pool.id) + "=")
        for attribute in ("HttpOnly", "SameSite=Lax", "Max-Age=3600", "Path=/"):
            assert attribute in cookie
        assert "Secure" not in cookie  # plain HTTP

        # The next visit passes without the form...
        again = await b.get("/login", params=authorize_params(client, state="st-2"))
        assert again.status_code == 302
        assert again.headers["location"] == f"{CALLBACK}?code=code-for-alice&state=st-2"
        # ...unless the app asks for the form.
        forced = await b.get("/login", params=authorize_params(client, prompt="login"))
        assert forced.status_code == 200 and "<form" in forced.text


async def test_session_cookie_is_secure_under_tls(core: Core) -> None:
    pool, client = await setup(core)
    await add_user(core, pool)
    async with browser(core, Completions(), https=True) as b:
        f = await open_form(b, "/login", authorize_params(client))
        r = await submit(b, f, username="alice", password=PASSWORD)
        cookies = r.headers.get_list("set-cookie")
        assert all("Secure" in c for c in cookies)
        first = await b.get("/signup", params=authorize_params(client))
        assert "__Host-cognate_browser" in b.cookies  # set by the first page, kept since
        assert first.status_code == 200


async def test_session_lasts_one_hour(core: Core) -> None:
    pool, client = await setup(core)
    await add_user(core, pool)
    async with browser(core, Completions()) as b:
        await submit(
            b, await open_form(b, "/login", authorize_params(client)), username="alice", password=PASSWORD
        )
        core.clock.advance(3599)
        assert (await b.get("/login", params=authorize_params(client))).status_code == 302
        core.clock.advance(2)
        assert (await b.get("/login", params=authorize_params(client))).status_code == 200


async def test_global_sign_out_ends_the_browser_session(core: Core) -> None:
    pool, client = await setup(core)
    user = await add_user(core, pool)
    async with browser(core, Completions()) as b:
        await submit(
            b, await open_form(b, "/login", authorize_params(client)), username="alice", password=PASSWORD
        )
        core.clock.advance(1)
        await core.auth.global_sign_out(pool, user)
        assert (await b.get("/login", params=authorize_params(client))).status_code == 200


async def test_wrong_password_stays_on_the_page_with_cognitos_message(core: Core) -> None:
    pool, client = await setup(core)
    await add_user(core, pool)
    async with browser(core, Completions()) as b:
        f = await open_form(b, "/login", authorize_params(client))
        r = await submit(b, f, username="alice", password="wrong-Passw0rd!")
        assert r.status_code == 400
        assert "Incorrect username or password." in r.text
        again = form(r.text, "/login")
        assert again.fields["username"] == "alice" and again.fields["password"] == ""
        assert again.fields["redirect_uri"] == CALLBACK
        assert 'role="alert"' in r.text and 'id="form-error"' in r.text
        fields = {i["name"]: i for i in again.inputs if "name" in i}
        assert fields["password"]["aria-invalid"] == "true"
        assert fields["password"]["aria-describedby"] == "form-error"
        assert r.text.count("Incorrect username or password.") == 1


@pytest.mark.parametrize("prevent", ["ENABLED", "LEGACY"])
async def test_unknown_user_follows_prevent_user_existence_errors(core: Core, prevent: str) -> None:
    pool, client = await setup(core, PreventUserExistenceErrors=prevent)
    await add_user(core, pool)
    async with browser(core, Completions()) as b:
        f = await open_form(b, "/login", authorize_params(client))
        unknown = await submit(b, f, username="nobody", password="wrong-Passw0rd!")
        wrong = await submit(b, f, username="alice", password="wrong-Passw0rd!")
        assert unknown.status_code == wrong.status_code == 400
        if prevent == "ENABLED":
            assert "Incorrect username or password." in unknown.text
            assert unknown.text.replace("nobody", "alice") == wrong.text.replace(
                form(wrong.text, "/login").fields["_csrf"], form(unknown.text, "/login").fields["_csrf"]
            )
        else:
            assert "User does not exist." in unknown.text


async def test_lockout_holds_on_the_page(core: Core) -> None:
    pool, client = await setup(core)
    await add_user(core, pool)
    async with browser(core, Completions()) as b:
        f = await open_form(b, "/login", authorize_params(client))
        for _ in range(5):
            r = await submit(b, f, username="alice", password="wrong-Passw0rd!")
            assert "Incorrect username or password." in r.text
        r = await submit(b, f, username="alice", password=PASSWORD)
        assert r.status_code == 400 and "Password attempts exceeded" in r.text


async def test_unconfirmed_user_is_sent_to_confirm_the_account(core: Core) -> None:
    _, client = await setup(core)
    await core.signups.sign_up(admin_context(), client.id, "bob", PASSWORD, {})
    async with browser(core, Completions()) as b:
        f = await open_form(b, "/login", authorize_params(client))
        r = await submit(b, f, username="bob", password=PASSWORD)
        path, query = follow_path(r)
        assert path == "/confirm" and query["username"] == "bob" and query["redirect_uri"] == CALLBACK


async def test_the_browser_session_is_shared_by_every_worker(core: Core, tmp_path: Path) -> None:
    """Two workers (two cores over one database): signed in on one, known on the other."""
    pool, client = await setup(core)
    await add_user(core, pool)
    other_store = CachingStore(f"sqlite:///{tmp_path / 'cognate.db'}")
    other = Core(other_store, core.config, clock=core.clock)
    try:
        async with browser(core, Completions()) as first:
            f = await open_form(first, "/login", authorize_params(client))
            await submit(first, f, username="alice", password=PASSWORD)
            cookies = dict(first.cookies)
        async with browser(other, Completions()) as second:
            for name, value in cookies.items():
                second.cookies.set(name, value, domain="cognate.test")
            r = await second.get("/login", params=authorize_params(client))
            assert r.status_code == 302 and r.headers["location"].startswith(
                CALLBACK + "?code=code-for-alice"
            )
    finally:
        await other_store.close()
