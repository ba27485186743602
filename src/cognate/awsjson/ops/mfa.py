"""MFA operations: authenticator apps, preferences, and the pool's MFA configuration."""

from __future__ import annotations

from typing import Any

from cognate.awsjson import wire
from cognate.awsjson.params import Params
from cognate.awsjson.registry import Auth, operation
from cognate.core.entities import Pool, User
from cognate.core.mfa import Preference
from cognate.core.service import Core
from cognate.errors import InvalidParameterException


async def _token_or_session(core: Core, p: Params) -> tuple[Pool, User, str | None]:
    """The user named by AccessToken, or by the Session of an MFA_SETUP challenge."""
    token, session = p.opt_str("AccessToken"), p.opt_str("Session")
    if token:
        pool, user, _ = await core.auth.user_of_access_token(token)
        return pool, user, None
    if session:
        pool, user = await core.auth.mfa_setup_user(session)
        return pool, user, session
    raise InvalidParameterException("Either AccessToken or Session is required.")


@operation("AssociateSoftwareToken", auth=Auth.PUBLIC)
async def associate_software_token(core: Core, p: Params) -> dict[str, Any]:
    pool, user, session = await _token_or_session(core, p)
    out: dict[str, Any] = {"SecretCode": await core.mfa.associate(pool, user)}
    if session:
        out["Session"] = session
    return out


@operation("VerifySoftwareToken", auth=Auth.PUBLIC)
async def verify_software_token(core: Core, p: Params) -> dict[str, Any]:
    pool, user, session = await _token_or_session(core, p)
    await core.mfa.verify_software_token(pool, user, p.str("UserCode"), p.opt_str("FriendlyDeviceName"))
    out: dict[str, Any] = {"Status": "SUCCESS"}
    if session:
        await core.auth.mfa_setup_verified(session)
        out["Session"] = session
    return out


def _preference(p: Params, name: str) -> Preference | None:
    """SMSMfaSettings / SoftwareTokenMfaSettings (validated against the model already)."""
    settings = p.body.get(name)
    if not isinstance(settings, dict):
        return None
    enabled, preferred = settings.get("Enabled"), settings.get("PreferredMfa")
    return Preference(
        enabled=enabled if isinstance(enabled, bool) else None,
        preferred=preferred if isinstance(preferred, bool) else None,
    )


@operation("SetUserMFAPreference", auth=Auth.PUBLIC)
async def set_user_mfa_preference(core: Core, p: Params) -> dict[str, Any]:
    pool, user, _ = await core.auth.user_of_access_token(p.str("AccessToken"))
    await core.mfa.set_preference(
        pool, user, _preference(p, "SMSMfaSettings"), _preference(p, "SoftwareTokenMfaSettings")
    )
    return {}


@operation("AdminSetUserMFAPreference", auth=Auth.IAM)
async def admin_set_user_mfa_preference(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    user = await core.users.get(pool, p.str("Username"))
    await core.mfa.set_preference(
        pool, user, _preference(p, "SMSMfaSettings"), _preference(p, "SoftwareTokenMfaSettings")
    )
    return {}


@operation("SetUserPoolMfaConfig", auth=Auth.IAM)
async def set_user_pool_mfa_config(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.mfa.set_pool_config(
        p.str("UserPoolId"),
        mode=p.opt_str("MfaConfiguration"),
        sms=p.body.get("SmsMfaConfiguration"),
        software_token=p.body.get("SoftwareTokenMfaConfiguration"),
        email=p.body.get("EmailMfaConfiguration"),
    )
    return wire.mfa_config(pool)


@operation("GetUserPoolMfaConfig", auth=Auth.IAM)
async def get_user_pool_mfa_config(core: Core, p: Params) -> dict[str, Any]:
    return wire.mfa_config(await core.pools.get(p.str("UserPoolId")))
