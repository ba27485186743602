"""Attacks on the hosted pages, in process: CSRF on every form, session fixation, a session of one
pool offered to another, parameters tampered with between two steps, a step stolen by another browser."""

from __future__ import annotations

import pytest

from cognate.core import browser_sessions
from cognate.core.service import Core
from cognate.hosted_ui.security import BROWSER_COOKIE
from tests.api.hosted_helpers import (
    CALLBACK,
    OTHER_CALLBACK,
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
from tests.support.forms import form

pytestmark = pytest.mark.anyio

# Every form of the pages, with the page that shows it and what a user would type.
FORMS = [
    ("/login", "/login", {"username": "alice", "password": PASSWORD}),
    ("/signup", "/signup", {"username": "mallory", "password": PASSWORD}),
    ("/forgotPassword", "/forgotPassword", {"username": "alice"}),
    ("/resendcode", "/resendcode", {"username": "alice"}),
    ("/confirm", "/confirm", {"username": "alice", "code": "123456"}),
    (
        "/confirmforgotPassword?username=alice",
        "/confirmforgotPassword",
        {"code": "123456", "password": PASSWORD, "password_confirm": PASSWORD},
    ),
]


@pytest.mark.parametrize(("page", "action", "typed"), FORMS)
async def test_every_form_refuses_a_post_without_this_browsers_token(
    core: Core, page: str, action: str, typed: dict[str, str]
) -> None:
    pool, client = await setup(core)
    await add_user(core, pool)
    done = Completions()
    path, _, query = page.partition("?")
    params = {**authorize_params(client), **dict(p.split("=") for p in query.split("&") if p)}
    async with browser(core, done) as victim, browser(core, done) as attacker:
        f = await open_form(victim, path, params, action)
        theirs = await open_form(attacker, path, params, action)
        fields = {**f.fields, **typed}
        # No token at all.
        r = await victim.post(action, data={k: v for k, v in fields.items() if k != "_csrf"})
        assert r.status_code == 403 and "<form" not in r.text
        # The attacker's own (valid) token, sent from the victim's browser.
        r = await victim.post(action, data={**fields, "_csrf": theirs.fields["_csrf"]})
        assert r.status_code == 403
        # A right token, but no browser cookie (a cross-site POST that the browser sent without it).
        victim.cookies.delete(BROWSER_COOKIE)
        r = await victim.post(action, data=fields)
        assert r.status_code == 403
    assert done.calls == []


async def test_the_mfa_and_new_password_forms_refuse_a_post_without_the_token(core: Core) -> None:
    pool, client = await setup(core)
    await core.users.admin_create(
        pool, {"Username": "ann", "TemporaryPassword": "Temp0rary!", "MessageAction": "SUPPRESS"}
    )
    async with browser(core, Completions()) as b:
        f = await open_form(b, "/login", authorize_params(client))
        r = await submit(b, f, username="ann", password="Temp0rary!")
        step = form((await b.get(r.headers["location"])).text, "/forceChangePassword")
        fields = {**step.fields, "password": "N3w-Passw0rd!", "password_confirm": "N3w-Passw0rd!"}
        r = await b.post("/forceChangePassword", data={**fields, "_csrf": "forged"})
        assert r.status_code == 403
        assert (await b.post("/forceChangePassword", data=fields)).status_code == 302


async def test_a_planted_session_cookie_is_never_the_signed_in_one(core: Core) -> None:
    """Login fixation: the id the browser brought is replaced and forgotten at sign-in."""
    pool, client = await setup(core)
    await add_user(core, pool)
    await add_user(core, pool, "mallory")
    name = browser_sessions.cookie_name(pool.id)
    async with browser(core, Completions()) as attacker:
        await submit(
            attacker,
            await open_form(attacker, "/login", authorize_params(client)),
            username="mallory",
            password=PASSWORD,
        )
        planted = attacker.cookies[name]
    async with browser(core, Completions()) as victim:
        victim.cookies.set(name, planted, domain="cognate.test")
        f = await open_form(victim, "/login", authorize_params(client, prompt="login"))
        r = await submit(victim, f, username="alice", password=PASSWORD)
        assert r.headers["location"].startswith(CALLBACK + "?code=code-for-alice")
        fresh = victim.cookies[name]
    assert fresh != planted
    assert await core.browser_sessions.current(pool.id, planted) is None
    session = await core.browser_sessions.current(pool.id, fresh)
    assert session is not None and session.username == "alice"


async def test_a_session_of_one_pool_signs_nobody_into_another(core: Core) -> None:
    pool_a, client_a = await setup(core)
    pool_b, client_b = await setup(core)
    await add_user(core, pool_a)
    await add_user(core, pool_b)
    async with browser(core, Completions()) as b:
        await submit(
            b, await open_form(b, "/login", authorize_params(client_a)), username="alice", password=PASSWORD
        )
        value = b.cookies[browser_sessions.cookie_name(pool_a.id)]
        assert (await b.get("/login", params=authorize_params(client_a))).status_code == 302
        # The other pool's page ignores pool A's cookie...
        r = await b.get("/login", params=authorize_params(client_b))
        assert r.status_code == 200 and "<form" in r.text
        # ...even under pool B's cookie name.
        b.cookies.set(browser_sessions.cookie_name(pool_b.id), value, domain="cognate.test")
        r = await b.get("/login", params=authorize_params(client_b))
        assert r.status_code == 200 and "<form" in r.text
    assert await core.browser_sessions.current(pool_b.id, value) is None
    assert await core.browser_sessions.current(pool_a.id, value) is not None


@pytest.mark.parametrize(
    "change", [{"redirect_uri": OTHER_CALLBACK}, {"state": "other"}, {"client_id": "second"}]
)
async def test_parameters_changed_mid_detour_are_refused(core: Core, change: dict[str, str]) -> None:
    pool, client = await setup(core)
    second = await core.clients.create(
        pool,
        {
            "ClientName": "second",
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid"],
            "CallbackURLs": [CALLBACK, OTHER_CALLBACK],
        },
    )
    await core.users.admin_create(
        pool, {"Username": "ann", "TemporaryPassword": "Temp0rary!", "MessageAction": "SUPPRESS"}
    )
    done = Completions()
    async with browser(core, done) as b:
        r = await submit(
            b, await open_form(b, "/login", authorize_params(client)), username="ann", password="Temp0rary!"
        )
        step = form((await b.get(r.headers["location"])).text, "/forceChangePassword")
        tampered = {k: (second.id if v == "second" else v) for k, v in change.items()}
        r = await b.post(
            "/forceChangePassword",
            data={
                **step.fields,
                **tampered,
                "password": "N3w-Passw0rd!",
                "password_confirm": "N3w-Passw0rd!",
            },
        )
        assert r.status_code == 400 and "location" not in r.headers
    assert done.calls == []


async def test_a_step_taken_to_another_browser_is_worthless(core: Core) -> None:
    pool, client = await setup(core)
    await core.users.admin_create(
        pool, {"Username": "ann", "TemporaryPassword": "Temp0rary!", "MessageAction": "SUPPRESS"}
    )
    done = Completions()
    async with browser(core, done) as victim, browser(core, done) as attacker:
        r = await submit(
            victim,
            await open_form(victim, "/login", authorize_params(client)),
            username="ann",
            password="Temp0rary!",
        )
        link = r.headers["location"]
        stolen = await attacker.get(link)
        assert follow_path(stolen)[0] == "/login"  # no such step for this browser
    assert done.calls == []


async def test_a_redirect_uri_outside_the_registration_is_never_followed_even_after_sign_in(
    core: Core,
) -> None:
    pool, client = await setup(core)
    await add_user(core, pool)
    done = Completions()
    async with browser(core, done) as b:
        f = await open_form(b, "/login", authorize_params(client))
        r = await b.post(
            "/login",
            data={
                **f.fields,
                "redirect_uri": "https://evil.example/cb",
                "username": "alice",
                "password": PASSWORD,
            },
        )
        assert r.status_code == 400 and "location" not in r.headers
    assert done.calls == []


async def test_forms_that_are_not_the_pages_own_are_refused_cleanly(core: Core) -> None:
    _, client = await setup(core)
    async with browser(core, Completions()) as b:
        f = await open_form(b, "/login", authorize_params(client))
        big = await b.post("/login", data={**f.fields, "username": "a" * (70 * 1024), "password": "x"})
        assert big.status_code == 413
        many = await b.post("/login", data={**f.fields, **{f"f{i}": "x" for i in range(100)}})
        assert many.status_code == 400
        multipart = await b.post("/login", data=f.fields, files={"file": ("x.txt", b"x")})
        assert multipart.status_code == 415
        bad_utf8 = await b.post(
            "/login",
            content=b"username=%FF%FE&password=x&"
            + "&".join(f"{k}={v}" for k, v in f.fields.items()).encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert bad_utf8.status_code in (400, 403)
        for r in (big, many, multipart, bad_utf8):
            assert "Traceback" not in r.text and r.headers["x-frame-options"] == "DENY"
