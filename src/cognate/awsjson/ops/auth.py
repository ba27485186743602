"""Sign-in and token operations: InitiateAuth, AdminInitiateAuth, RespondToAuthChallenge,
AdminRespondToAuthChallenge, GetTokensFromRefreshToken, GetUser, GlobalSignOut,
AdminUserGlobalSignOut, RevokeToken."""

from __future__ import annotations

from typing import Any

from cognate.awsjson import wire
from cognate.awsjson.params import Params
from cognate.awsjson.registry import Auth, operation
from cognate.core.service import Core


def _strings(p: Params, name: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in p.map(name).items()}


@operation("InitiateAuth", auth=Auth.PUBLIC)
async def initiate_auth(core: Core, p: Params) -> dict[str, Any]:
    outcome = await core.auth.initiate(p.str("ClientId"), p.str("AuthFlow"), _strings(p, "AuthParameters"))
    return wire.auth_outcome(outcome)


@operation("AdminInitiateAuth", auth=Auth.IAM)
async def admin_initiate_auth(core: Core, p: Params) -> dict[str, Any]:
    outcome = await core.auth.initiate(
        p.str("ClientId"), p.str("AuthFlow"), _strings(p, "AuthParameters"), admin_pool_id=p.str("UserPoolId")
    )
    return wire.auth_outcome(outcome)


@operation("RespondToAuthChallenge", auth=Auth.PUBLIC)
async def respond_to_auth_challenge(core: Core, p: Params) -> dict[str, Any]:
    outcome = await core.auth.respond(
        p.str("ClientId"), p.str("ChallengeName"), _strings(p, "ChallengeResponses"), p.opt_str("Session")
    )
    return wire.auth_outcome(outcome)


@operation("AdminRespondToAuthChallenge", auth=Auth.IAM)
async def admin_respond_to_auth_challenge(core: Core, p: Params) -> dict[str, Any]:
    outcome = await core.auth.respond(
        p.str("ClientId"),
        p.str("ChallengeName"),
        _strings(p, "ChallengeResponses"),
        p.opt_str("Session"),
        admin_pool_id=p.str("UserPoolId"),
    )
    return wire.auth_outcome(outcome)


@operation("GetTokensFromRefreshToken", auth=Auth.PUBLIC)
async def get_tokens_from_refresh_token(core: Core, p: Params) -> dict[str, Any]:
    issued = await core.auth.get_tokens_from_refresh(
        p.str("ClientId"), p.str("RefreshToken"), p.opt_str("ClientSecret")
    )
    return {"AuthenticationResult": wire.authentication_result(issued)}


@operation("GetUser", auth=Auth.PUBLIC)
async def get_user(core: Core, p: Params) -> dict[str, Any]:
    _, user, _ = await core.auth.user_of_access_token(p.str("AccessToken"))
    return {
        "Username": user.username,
        "UserAttributes": wire.admin_get_user(user)["UserAttributes"],
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
    await core.auth.revoke(p.str("ClientId"), p.str("Token"), p.opt_str("ClientSecret"))
    return {}
