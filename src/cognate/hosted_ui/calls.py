"""The core calls the pages make: the same sign-in, challenge, sign-up, confirmation and
recovery flows as the AWS door's operations, never a copy of them.

Each page calls one function here; this module only adapts the page's fields to the
core's entry points and the core's results to what a page shows next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cognate.core.context import RequestContext
from cognate.core.entities import Client, Pool, User
from cognate.core.outcome import Challenge, SignInStep
from cognate.core.service import Core
from cognate.errors import NotAuthorizedException


@dataclass(frozen=True)
class SignedIn:
    """The user is authenticated: what the browser session and the authorization code need."""

    pool: Pool
    client: Client
    user: User
    auth_time: int
    amr: tuple[str, ...]
    auth: Any = None  # the core's own result, handed to complete_authorization


@dataclass(frozen=True)
class NextChallenge:
    name: str
    session: str | None
    parameters: dict[str, str] = field(default_factory=dict)
    sub: str = ""


Step = SignedIn | NextChallenge


async def _result(
    core: Core, pool: Pool, client: Client, user: User, outcome: SignInStep, amr: tuple[str, ...]
) -> Step:
    if isinstance(outcome, Challenge):
        return NextChallenge(outcome.name, outcome.session, dict(outcome.parameters), user.sub)
    fresh = await core.auth.users.store.get_user_by_sub(pool.id, user.sub) or outcome.user
    return SignedIn(pool, client, fresh, outcome.auth_time, outcome.amr or amr, auth=outcome)


async def password_sign_in(
    core: Core, ctx: RequestContext, pool: Pool, client: Client, username: str, password: str
) -> Step:
    """The login form: the core's password sign-in (lockout, PreventUserExistenceErrors, MFA)."""
    outcome = await core.auth.password_sign_in(ctx, pool, client, username, password)
    user = await core.users.find(pool, username)
    if user is None:  # pragma: no cover - the sign-in above proved the user exists
        raise NotAuthorizedException("Incorrect username or password.")
    return await _result(core, pool, client, user, outcome, ("pwd",))


async def after_confirmation(
    core: Core, ctx: RequestContext, pool: Pool, client: Client, username: str
) -> Step:
    """Signing in the user who just confirmed the sign-up they began in this browser."""
    user = await core.users.find(pool, username)
    if user is None:
        raise NotAuthorizedException("Incorrect username or password.")
    outcome = await core.auth.after_first_factor(ctx, pool, client, user, ("pwd",))
    return await _result(core, pool, client, user, outcome, ("pwd",))


async def respond(
    core: Core,
    ctx: RequestContext,
    pool: Pool,
    client: Client,
    challenge: NextChallenge,
    responses: dict[str, str],
) -> Step:
    """A challenge answered on a page: RespondToAuthChallenge's flow."""
    user = await core.auth.users.store.get_user_by_sub(pool.id, challenge.sub)
    if user is None:
        raise NotAuthorizedException("Invalid session for the user, session is expired.")
    outcome = await core.auth.respond(ctx, client.id, challenge.name, responses, challenge.session)
    amr = ("pwd", "mfa") if challenge.name in ("SOFTWARE_TOKEN_MFA", "SMS_MFA", "MFA_SETUP") else ("pwd",)
    return await _result(core, pool, client, user, outcome, amr)


async def associate_software_token(core: Core, session: str) -> str:
    """AssociateSoftwareToken by the Session of an MFA_SETUP challenge: the new secret."""
    pool, user = await core.auth.mfa_setup_user(session)
    return await core.mfa.associate(pool, user)


async def verify_software_token(core: Core, session: str, code: str, device_name: str | None) -> None:
    pool, user = await core.auth.mfa_setup_user(session)
    await core.mfa.verify_software_token(pool, user, code, device_name)


async def sign_up(
    core: Core, ctx: RequestContext, client: Client, username: str, password: str, attributes: dict[str, str]
) -> dict[str, Any]:
    req = {
        "Username": username,
        "Password": password,
        "UserAttributes": [{"Name": k, "Value": v} for k, v in attributes.items()],
    }
    return await core.signups.sign_up(ctx, client.id, req)


async def confirm_sign_up(core: Core, ctx: RequestContext, client: Client, username: str, code: str) -> None:
    await core.signups.confirm(ctx, client.id, {"Username": username, "ConfirmationCode": code})


async def resend_code(core: Core, ctx: RequestContext, client: Client, username: str) -> dict[str, Any]:
    return await core.signups.resend(ctx, client.id, {"Username": username})


async def forgot_password(core: Core, ctx: RequestContext, client: Client, username: str) -> dict[str, Any]:
    return await core.account.forgot_password(ctx, client.id, {"Username": username})


async def confirm_forgot_password(
    core: Core, ctx: RequestContext, client: Client, username: str, code: str, password: str
) -> None:
    await core.account.confirm_forgot_password(
        ctx, client.id, {"Username": username, "ConfirmationCode": code, "Password": password}
    )
