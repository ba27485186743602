"""The core calls the pages make: the same sign-in, challenge, sign-up, confirmation and
recovery flows as the AWS door's operations, never a copy of them.

Each page calls one function here; this module only adapts the page's fields to the
core's entry points. A sign-in step ends in the core's ``Authenticated`` (the page then
starts a browser session and asks the OAuth door for the code) or ``Challenge``.
"""

from __future__ import annotations

from cognate.core.codes import CodeDelivery
from cognate.core.context import RequestContext
from cognate.core.entities import Client, Pool
from cognate.core.outcome import Authenticated, Challenge, SignInStep
from cognate.core.service import Core
from cognate.core.signup import SignUpResult
from cognate.errors import NotAuthorizedException

__all__ = ["Authenticated", "Challenge", "SignInStep"]


async def password_sign_in(
    core: Core, ctx: RequestContext, pool: Pool, client: Client, username: str, password: str
) -> SignInStep:
    """The login form: the core's password sign-in (lockout, PreventUserExistenceErrors, MFA)."""
    return await core.auth.password_sign_in(ctx, pool, client, username, password)


async def after_confirmation(
    core: Core, ctx: RequestContext, pool: Pool, client: Client, username: str
) -> SignInStep:
    """Signing in the user who just confirmed the sign-up they began, with its password, in this browser.

    The password was proven at sign-up (the detour is bound to this browser), as Cognito's
    ConfirmSignUp Session lets USER_AUTH sign in without asking again; MFA and any pending
    challenge still follow (the core's sign-in after the first factor).
    """
    user = await core.users.find(pool, username)
    if user is None:
        raise NotAuthorizedException("Incorrect username or password.")
    return await core.auth.after_first_factor(ctx, pool, client, user, ("pwd",))


async def respond(
    core: Core, ctx: RequestContext, client: Client, challenge: Challenge, responses: dict[str, str]
) -> SignInStep:
    """A challenge answered on a page: RespondToAuthChallenge's flow."""
    return await core.auth.respond(ctx, client.id, challenge.name, responses, challenge.session)


async def associate_software_token(core: Core, session: str) -> str:
    """AssociateSoftwareToken by the Session of an MFA_SETUP challenge: the new secret."""
    pool, user = await core.auth.mfa_setup_user(session)
    return await core.mfa.associate(pool, user)


async def verify_software_token(core: Core, session: str, code: str, device_name: str | None) -> None:
    pool, user = await core.auth.mfa_setup_user(session)
    await core.mfa.verify_software_token(pool, user, code, device_name)
    await core.auth.mfa_setup_verified(session)  # the MFA_SETUP answer may pass now


async def sign_up(
    core: Core, ctx: RequestContext, client: Client, username: str, password: str, attributes: dict[str, str]
) -> SignUpResult:
    return await core.signups.sign_up(ctx, client.id, username, password, attributes)


async def confirm_sign_up(core: Core, ctx: RequestContext, client: Client, username: str, code: str) -> None:
    await core.signups.confirm(ctx, client.id, username, code)


async def resend_code(core: Core, ctx: RequestContext, client: Client, username: str) -> CodeDelivery:
    return await core.signups.resend(ctx, client.id, username)


async def forgot_password(core: Core, ctx: RequestContext, client: Client, username: str) -> CodeDelivery:
    return await core.account.forgot_password(ctx, client.id, username)


async def confirm_forgot_password(
    core: Core, ctx: RequestContext, client: Client, username: str, code: str, password: str
) -> None:
    await core.account.confirm_forgot_password(ctx, client.id, username, code, password)
