"""Sign-in and token operations: InitiateAuth, AdminInitiateAuth, RespondToAuthChallenge,
AdminRespondToAuthChallenge, GetTokensFromRefreshToken, GetUser, GlobalSignOut,
AdminUserGlobalSignOut, RevokeToken.

The client's proof (SECRET_HASH, ClientSecret) is checked by ``core.client_auth``
before the flow is called; the flow never sees it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cognate.awsjson import wire
from cognate.awsjson.params import Params
from cognate.awsjson.registry import Auth, operation
from cognate.core.attribute_access import readable
from cognate.core.client_auth import verify_client_secret
from cognate.core.context import RequestContext
from cognate.core.outcome import Challenge, SignInStep
from cognate.core.service import Core


def _strings(p: Params, name: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in p.map(name).items()}


async def _answer(core: Core, ctx: RequestContext, step: SignInStep) -> dict[str, Any]:
    """The next challenge, or the tokens of the signed-in user."""
    if isinstance(step, Challenge):
        return wire.challenge(step)
    return wire.signed_in(await core.tokens.complete(ctx, step))


async def _initiate(core: Core, p: Params, admin_pool_id: str | None) -> dict[str, Any]:
    client_id, flow = p.str("ClientId"), p.str("AuthFlow")
    params = _strings(p, "AuthParameters")
    secret_hash = params.pop("SECRET_HASH", None)
    await core.client_auth.initiate(p.ctx, client_id, flow, params, secret_hash, admin_pool_id=admin_pool_id)
    step = await core.auth.initiate(p.ctx, client_id, flow, params, admin_pool_id=admin_pool_id)
    return await _answer(core, p.ctx, step)


async def _respond(core: Core, p: Params, admin_pool_id: str | None) -> dict[str, Any]:
    client_id, challenge, session = p.str("ClientId"), p.str("ChallengeName"), p.opt_str("Session")
    responses = _strings(p, "ChallengeResponses")
    secret_hash = responses.pop("SECRET_HASH", None)
    await core.client_auth.respond(
        p.ctx, client_id, challenge, responses, session, secret_hash, admin_pool_id=admin_pool_id
    )
    step = await core.auth.respond(
        p.ctx, client_id, challenge, responses, session, admin_pool_id=admin_pool_id
    )
    return await _answer(core, p.ctx, step)


@operation("InitiateAuth", auth=Auth.PUBLIC)
async def initiate_auth(core: Core, p: Params) -> dict[str, Any]:
    return await _initiate(core, p, None)


@operation("AdminInitiateAuth", auth=Auth.IAM)
async def admin_initiate_auth(core: Core, p: Params) -> dict[str, Any]:
    return await _initiate(core, p, p.str("UserPoolId"))


@operation("RespondToAuthChallenge", auth=Auth.PUBLIC)
async def respond_to_auth_challenge(core: Core, p: Params) -> dict[str, Any]:
    return await _respond(core, p, None)


@operation("AdminRespondToAuthChallenge", auth=Auth.IAM)
async def admin_respond_to_auth_challenge(core: Core, p: Params) -> dict[str, Any]:
    return await _respond(core, p, p.str("UserPoolId"))


@operation("GetTokensFromRefreshToken", auth=Auth.PUBLIC)
async def get_tokens_from_refresh_token(core: Core, p: Params) -> dict[str, Any]:
    _, client = await core.client_auth.client(p.ctx, p.str("ClientId"))
    verify_client_secret(client, p.opt_str("ClientSecret"))
    auth = await core.auth.get_tokens_from_refresh(p.ctx, client.id, p.str("RefreshToken"))
    issued = await core.tokens.complete(p.ctx, auth)
    return {"AuthenticationResult": wire.authentication_result(issued)}


@operation("GetUser", auth=Auth.PUBLIC)
async def get_user(core: Core, p: Params) -> dict[str, Any]:
    _, user, claims = await core.auth.user_of_access_token(p.str("AccessToken"))
    _, client = await core.auth.client_of(str(claims["client_id"]))
    # What the user's client may read (ReadAttributes), never a developer-only attribute.
    shown = replace(user, attributes=readable(client, user.attributes))
    return {
        "Username": user.username,
        "UserAttributes": wire.admin_get_user(shown)["UserAttributes"],
        **wire.mfa_settings(user),
    }


@operation("GlobalSignOut", auth=Auth.PUBLIC)
async def global_sign_out(core: Core, p: Params) -> dict[str, Any]:
    pool, user, _ = await core.auth.user_of_access_token(p.str("AccessToken"))
    await core.auth.global_sign_out(pool, user)
    return {}


@operation("AdminUserGlobalSignOut", auth=Auth.IAM)
async def admin_user_global_sign_out(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    user = await core.users.get(pool, p.str("Username"))
    await core.auth.global_sign_out(pool, user)
    return {}


@operation("RevokeToken", auth=Auth.PUBLIC)
async def revoke_token(core: Core, p: Params) -> dict[str, Any]:
    _, client = await core.client_auth.client(p.ctx, p.str("ClientId"))
    verify_client_secret(client, p.opt_str("ClientSecret"))
    await core.auth.revoke(p.ctx, client.id, p.str("Token"))
    return {}
