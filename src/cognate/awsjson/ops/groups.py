"""Group operations and memberships."""

from __future__ import annotations

from typing import Any

from cognate.awsjson import wire
from cognate.awsjson.params import Params
from cognate.awsjson.registry import Auth, operation
from cognate.core.service import Core


@operation("CreateGroup", auth=Auth.IAM)
async def create_group(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    group = await core.groups.create(pool, p.str("GroupName"), p.body)
    return {"Group": wire.group(group)}


@operation("GetGroup", auth=Auth.IAM)
async def get_group(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    return {"Group": wire.group(await core.groups.get(pool, p.str("GroupName")))}


@operation("UpdateGroup", auth=Auth.IAM)
async def update_group(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    return {"Group": wire.group(await core.groups.update(pool, p.str("GroupName"), p.body))}


@operation("DeleteGroup", auth=Auth.IAM)
async def delete_group(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    await core.groups.delete(pool, p.str("GroupName"))
    return {}


@operation("ListGroups", auth=Auth.IAM)
async def list_groups(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    groups, token = await core.groups.list(pool, p.int("Limit", 60), p.opt_str("NextToken"))
    out: dict[str, Any] = {"Groups": [wire.group(g) for g in groups]}
    if token:
        out["NextToken"] = token
    return out


@operation("AdminAddUserToGroup", auth=Auth.IAM)
async def admin_add_user_to_group(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    user = await core.users.get(pool, p.str("Username"))
    await core.groups.add_user(pool, p.str("GroupName"), user)
    return {}


@operation("AdminRemoveUserFromGroup", auth=Auth.IAM)
async def admin_remove_user_from_group(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    user = await core.users.get(pool, p.str("Username"))
    await core.groups.remove_user(pool, p.str("GroupName"), user)
    return {}


@operation("AdminListGroupsForUser", auth=Auth.IAM)
async def admin_list_groups_for_user(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    user = await core.users.get(pool, p.str("Username"))
    groups, token = await core.groups.page_of_user(pool, user, p.int("Limit", 60), p.opt_str("NextToken"))
    out: dict[str, Any] = {"Groups": [wire.group(g) for g in groups]}
    if token:
        out["NextToken"] = token
    return out


@operation("ListUsersInGroup", auth=Auth.IAM)
async def list_users_in_group(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    users, token = await core.groups.users_in(
        pool, p.str("GroupName"), p.int("Limit", 60), p.opt_str("NextToken")
    )
    out: dict[str, Any] = {"Users": [wire.user(u) for u in users]}
    if token:
        out["NextToken"] = token
    return out
