"""The sign-in core with a pinned clock: expiry of sessions, temporary passwords and tokens,
lockout and its backoff, user states (issue 3)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from cognate.core.context import Door, RequestContext
from cognate.core.entities import UserStatus
from cognate.core.lockout import lock_seconds
from cognate.core.outcome import Challenge
from cognate.core.service import Core
from cognate.core.tokens import Issued
from cognate.core.users import username_key
from cognate.errors import (
    NotAuthorizedException,
    PasswordResetRequiredException,
    UserNotConfirmedException,
)

pytestmark = pytest.mark.anyio
PASSWORD = "Passw0rd!"
CTX = RequestContext(Door.AWS)
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


async def setup(core: Core, **client_fields: Any) -> tuple[Any, Any]:
    pool = await core.pools.create({"PoolName": "p"})
    client = await core.clients.create(pool, {"ClientName": "c", "ExplicitAuthFlows": FLOWS, **client_fields})
    return pool, client


async def password_auth(core: Core, client_id: str, username: str, password: str = PASSWORD) -> Any:
    """What InitiateAuth answers: the tokens (as the AWS door completes them), or the challenge."""
    step = await core.auth.initiate(
        CTX, client_id, "USER_PASSWORD_AUTH", {"USERNAME": username, "PASSWORD": password}
    )
    return step if isinstance(step, Challenge) else await core.tokens.complete(CTX, step)


async def test_session_expires_after_auth_session_validity(core: Core) -> None:
    pool, client = await setup(core, AuthSessionValidity=5)
    await core.users.admin_create(
        pool, {"Username": "ann", "TemporaryPassword": "Temp0rary!", "MessageAction": "SUPPRESS"}
    )
    first = await password_auth(core, client.id, "ann", "Temp0rary!")
    assert first.name == "NEW_PASSWORD_REQUIRED"
    core.clock.advance(5 * 60 + 1)
    with pytest.raises(NotAuthorizedException, match="session is expired"):
        await core.auth.respond(
            CTX,
            client.id,
            "NEW_PASSWORD_REQUIRED",
            {"USERNAME": "ann", "NEW_PASSWORD": "N3w-Passw0rd!"},
            first.session,
        )


async def test_session_is_bound_to_its_client_and_challenge(core: Core) -> None:
    pool, client = await setup(core)
    other = await core.clients.create(pool, {"ClientName": "other", "ExplicitAuthFlows": FLOWS})
    await core.users.admin_create(
        pool, {"Username": "ann", "TemporaryPassword": "Temp0rary!", "MessageAction": "SUPPRESS"}
    )
    first = await password_auth(core, client.id, "ann", "Temp0rary!")
    with pytest.raises(NotAuthorizedException):
        await core.auth.respond(
            CTX,
            other.id,
            "NEW_PASSWORD_REQUIRED",
            {"USERNAME": "ann", "NEW_PASSWORD": "N3w-Passw0rd!"},
            first.session,
        )
    with pytest.raises(NotAuthorizedException):
        await core.auth.respond(CTX, client.id, "SMS_MFA", {"USERNAME": "ann"}, first.session)


async def test_temporary_password_expires(core: Core) -> None:
    pool, client = await setup(core)
    await core.users.admin_create(
        pool, {"Username": "ann", "TemporaryPassword": "Temp0rary!", "MessageAction": "SUPPRESS"}
    )
    core.clock.advance(7 * 86400 + 1)  # TemporaryPasswordValidityDays defaults to 7
    with pytest.raises(NotAuthorizedException, match="Temporary password has expired"):
        await password_auth(core, client.id, "ann", "Temp0rary!")


async def test_access_token_expiry_is_checked(core: Core) -> None:
    pool, client = await setup(core)
    await core.users.create_confirmed(pool, "ann", PASSWORD, {})
    out = await password_auth(core, client.id, "ann")
    assert isinstance(out, Issued)
    await core.auth.user_of_access_token(out.access_token)
    core.clock.advance(3601)
    with pytest.raises(NotAuthorizedException, match="expired"):
        await core.auth.user_of_access_token(out.access_token)


async def test_refresh_token_expiry(core: Core) -> None:
    pool, client = await setup(core, RefreshTokenValidity=1)
    await core.users.create_confirmed(pool, "ann", PASSWORD, {})
    out = await password_auth(core, client.id, "ann")
    assert isinstance(out, Issued) and out.refresh_token
    core.clock.advance(86400 + 1)
    with pytest.raises(NotAuthorizedException, match="expired"):
        await core.auth.initiate(CTX, client.id, "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": out.refresh_token})


async def test_lockout_backoff_doubles_and_resets_after_quiet_period(core: Core) -> None:
    pool, client = await setup(core)
    await core.users.create_confirmed(pool, "ann", PASSWORD, {})
    for _ in range(4):
        with pytest.raises(NotAuthorizedException, match=r"Incorrect username or password\."):
            await password_auth(core, client.id, "ann", "Wrong-pass1!")
    # the fifth failure starts a 1 s lockout
    with pytest.raises(NotAuthorizedException, match=r"Incorrect username or password\."):
        await password_auth(core, client.id, "ann", "Wrong-pass1!")
    with pytest.raises(NotAuthorizedException, match="Password attempts exceeded"):
        await password_auth(core, client.id, "ann")  # even the right password is refused now
    core.clock.advance(1.01)
    with pytest.raises(NotAuthorizedException, match="Incorrect"):
        await password_auth(core, client.id, "ann", "Wrong-pass1!")  # sixth: 2 s
    core.clock.advance(1.5)
    with pytest.raises(NotAuthorizedException, match="Password attempts exceeded"):
        await password_auth(core, client.id, "ann")
    core.clock.advance(0.6)
    out = await password_auth(core, client.id, "ann")  # success clears the count
    assert isinstance(out, Issued)
    for _ in range(4):
        with pytest.raises(NotAuthorizedException, match="Incorrect"):
            await password_auth(core, client.id, "ann", "Wrong-pass1!")
    core.clock.advance(15 * 60 + 1)  # 15 quiet minutes reset the count
    for _ in range(4):
        with pytest.raises(NotAuthorizedException, match="Incorrect"):
            await password_auth(core, client.id, "ann", "Wrong-pass1!")
    assert isinstance(await password_auth(core, client.id, "ann"), Issued)


def test_lock_seconds_follow_cognito() -> None:
    assert [lock_seconds(n) for n in range(1, 9)] == [0, 0, 0, 0, 1, 2, 4, 8]
    assert lock_seconds(40) == 900


async def test_unconfirmed_and_reset_required(core: Core) -> None:
    pool, client = await setup(core)
    user = await core.users.create_confirmed(pool, "ann", PASSWORD, {})
    key = username_key(pool, "ann")
    await core.store.update_user(replace(user, status=UserStatus.UNCONFIRMED), key)
    for password in (PASSWORD, "Wrong-pass1!"):  # Cognito says so even for a wrong password
        with pytest.raises(UserNotConfirmedException):
            await password_auth(core, client.id, "ann", password)
    await core.store.update_user(replace(user, status=UserStatus.RESET_REQUIRED), key)
    with pytest.raises(PasswordResetRequiredException):
        await password_auth(core, client.id, "ann")


async def test_refresh_of_disabled_user_refused(core: Core) -> None:
    pool, client = await setup(core)
    user = await core.users.create_confirmed(pool, "ann", PASSWORD, {})
    out = await password_auth(core, client.id, "ann")
    assert isinstance(out, Issued) and out.refresh_token
    await core.users.set_enabled(pool, user, False)
    with pytest.raises(NotAuthorizedException):
        await core.auth.initiate(CTX, client.id, "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": out.refresh_token})
