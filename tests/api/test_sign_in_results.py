"""Sign-in steps end in ``Authenticated | Challenge`` and issue nothing themselves (issue 6).

One step (``Tokens.complete``) turns an ``Authenticated`` into the AWS door's tokens;
the OAuth door turns the same result into a code or a browser session.
"""

from __future__ import annotations

import pytest

from cognate.core.context import Door, RequestContext
from cognate.core.outcome import Authenticated, Challenge
from cognate.core.service import Core
from cognate.crypto import signing

pytestmark = pytest.mark.anyio
CTX = RequestContext(Door.AWS)
PASSWORD = "Passw0rd!"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


async def test_password_sign_in_is_authenticated_and_issues_nothing(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored: list[object] = []
    monkeypatch.setattr(core.store, "insert_refresh_token", stored.append)
    pool = await core.pools.create({"PoolName": "p"})
    client = await core.clients.create(pool, {"ClientName": "c", "ExplicitAuthFlows": FLOWS})
    user = await core.users.create_confirmed(pool, "ann", PASSWORD, {})
    step = await core.auth.initiate(
        CTX, client.id, "USER_PASSWORD_AUTH", {"USERNAME": "ann", "PASSWORD": PASSWORD}
    )
    assert isinstance(step, Authenticated)
    assert (step.user.sub, step.client.id, step.pool.id) == (user.sub, client.id, pool.id)
    assert step.amr == ("pwd",) and step.refresh is None
    assert step.auth_time == int(core.clock.now())
    assert stored == []  # no refresh token until a door completes the sign-in


async def test_refresh_is_authenticated_at_the_original_time(core: Core) -> None:
    pool = await core.pools.create({"PoolName": "p"})
    client = await core.clients.create(pool, {"ClientName": "c", "ExplicitAuthFlows": FLOWS})
    await core.users.create_confirmed(pool, "ann", PASSWORD, {})
    step = await core.auth.initiate(
        CTX, client.id, "USER_PASSWORD_AUTH", {"USERNAME": "ann", "PASSWORD": PASSWORD}
    )
    assert isinstance(step, Authenticated)
    first = await core.tokens.complete(CTX, step)
    assert first.refresh_token and first.id_token
    core.clock.advance(600)
    again = await core.auth.initiate(
        CTX, client.id, "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": first.refresh_token}
    )
    assert isinstance(again, Authenticated)
    assert again.refresh is not None and again.auth_time == step.auth_time and again.amr == ("pwd",)
    issued = await core.tokens.complete(CTX, again)
    assert issued.refresh_token is None and issued.id_token
    old, new = signing.unverified_claims(first.id_token), signing.unverified_claims(issued.id_token)
    assert new["auth_time"] == old["auth_time"] and new["origin_jti"] == old["origin_jti"]
    assert new["iat"] >= old["iat"] + 600


async def test_a_temporary_password_is_a_challenge_then_authenticated(core: Core) -> None:
    pool = await core.pools.create({"PoolName": "p"})
    client = await core.clients.create(pool, {"ClientName": "c", "ExplicitAuthFlows": FLOWS})
    await core.users.admin_create(
        pool, {"Username": "tim", "TemporaryPassword": "Temp0rary!", "MessageAction": "SUPPRESS"}
    )
    step = await core.auth.password_sign_in(RequestContext(Door.HOSTED), pool, client, "tim", "Temp0rary!")
    assert isinstance(step, Challenge) and step.name == "NEW_PASSWORD_REQUIRED" and step.session
    done = await core.auth.respond(
        CTX, client.id, "NEW_PASSWORD_REQUIRED", {"NEW_PASSWORD": "N3w-Passw0rd!"}, step.session
    )
    assert isinstance(done, Authenticated) and done.user.username == "tim" and done.amr == ("pwd",)
