"""Administrative user operations and ListUsers."""

from __future__ import annotations

from typing import Any

from cognate.awsjson import wire
from cognate.awsjson.params import Params
from cognate.awsjson.registry import Auth, operation
from cognate.core.entities import Pool, User
from cognate.core.service import Core


async def _pool_user(core: Core, p: Params) -> tuple[Pool, User]:
    pool = await core.pools.get(p.str("UserPoolId"))
    return pool, await core.users.get(pool, p.str("Username"))


@operation("AdminCreateUser", auth=Auth.IAM)
async def admin_create_user(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    user = await core.users.admin_create(pool, p.body, p.ctx)
    return {"User": wire.user(user)}


@operation("AdminGetUser", auth=Auth.IAM)
async def admin_get_user(core: Core, p: Params) -> dict[str, Any]:
    _, user = await _pool_user(core, p)
    return wire.admin_get_user(user)


@operation("AdminSetUserPassword", auth=Auth.IAM)
async def admin_set_user_password(core: Core, p: Params) -> dict[str, Any]:
    pool, user = await _pool_user(core, p)
    await core.users.set_password(pool, user, p.str("Password"), permanent=p.bool("Permanent"))
    return {}


@operation("AdminUpdateUserAttributes", auth=Auth.IAM)
async def admin_update_user_attributes(core: Core, p: Params) -> dict[str, Any]:
    pool, user = await _pool_user(core, p)
    await core.users.update_attributes(pool, user, p.list("UserAttributes"))
    return {}


@operation("AdminDeleteUserAttributes", auth=Auth.IAM)
async def admin_delete_user_attributes(core: Core, p: Params) -> dict[str, Any]:
    pool, user = await _pool_user(core, p)
    await core.users.delete_attributes(pool, user, p.list("UserAttributeNames"))
    return {}


@operation("AdminDeleteUser", auth=Auth.IAM)
async def admin_delete_user(core: Core, p: Params) -> dict[str, Any]:
    pool, user = await _pool_user(core, p)
    await core.users.delete(pool, user)
    return {}


@operation("AdminDisableUser", auth=Auth.IAM)
async def admin_disable_user(core: Core, p: Params) -> dict[str, Any]:
    pool, user = await _pool_user(core, p)
    await core.users.set_enabled(pool, user, False)
    return {}


@operation("AdminEnableUser", auth=Auth.IAM)
async def admin_enable_user(core: Core, p: Params) -> dict[str, Any]:
    pool, user = await _pool_user(core, p)
    await core.users.set_enabled(pool, user, True)
    return {}


@operation("AdminConfirmSignUp", auth=Auth.IAM)
async def admin_confirm_sign_up(core: Core, p: Params) -> dict[str, Any]:
    pool, user = await _pool_user(core, p)
    await core.users.admin_confirm(pool, user)
    return {}


@operation("ListUsers", auth=Auth.IAM)
async def list_users(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    only = p.list("AttributesToGet") if "AttributesToGet" in p.body else None
    users, token = await core.users.list(
        pool, p.opt_str("Filter"), p.int("Limit", 60), p.opt_str("PaginationToken"), only
    )
    out: dict[str, Any] = {"Users": [wire.user(u, None if only is None else set(only)) for u in users]}
    if token:
        out["PaginationToken"] = token
    return out


@operation("AdminListUserAuthEvents", auth=Auth.IAM)
async def admin_list_user_auth_events(core: Core, p: Params) -> dict[str, Any]:
    """Always served: Cognito needs threat protection on (else UserPoolAddOnNotEnabledException)."""
    pool, user = await _pool_user(core, p)
    events, next_token = await core.auth_events.page(
        pool, user, p.int("MaxResults", 0), p.opt_str("NextToken")
    )
    out: dict[str, Any] = {"AuthEvents": [wire.auth_event(e) for e in events]}
    if next_token:
        out["NextToken"] = next_token
    return out


@operation("AdminUpdateAuthEventFeedback", auth=Auth.IAM)
async def admin_update_auth_event_feedback(core: Core, p: Params) -> dict[str, Any]:
    pool, user = await _pool_user(core, p)
    await core.auth_events.admin_feedback(pool, user, p.str("EventId"), p.str("FeedbackValue"))
    return {}
