"""User pool operations: CreateUserPool, DescribeUserPool, UpdateUserPool, ListUserPools,
DeleteUserPool, AddCustomAttributes, and the tag operations."""

from __future__ import annotations

from typing import Any

from cognate.awsjson import wire
from cognate.awsjson.params import Params
from cognate.awsjson.registry import Auth, operation
from cognate.core.service import Core


@operation("CreateUserPool", auth=Auth.IAM)
async def create_user_pool(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.create(p.fields())
    return {"UserPool": wire.pool(pool, core.pools.arn(pool.id), 0)}


@operation("DescribeUserPool", auth=Auth.IAM)
async def describe_user_pool(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    count = await core.users.count(pool)
    domain = await core.resources.domain_of_pool(pool)
    return {"UserPool": wire.pool(pool, core.pools.arn(pool.id), count, domain)}


@operation("UpdateUserPool", auth=Auth.IAM)
async def update_user_pool(core: Core, p: Params) -> dict[str, Any]:
    await core.pools.update(p.str("UserPoolId"), p.fields("UserPoolId"))
    return {}


@operation("ListUserPools", auth=Auth.IAM)
async def list_user_pools(core: Core, p: Params) -> dict[str, Any]:
    pools, token = await core.pools.list(p.int("MaxResults", 60), p.opt_str("NextToken"))
    out: dict[str, Any] = {"UserPools": [wire.pool_summary(x) for x in pools]}
    if token:
        out["NextToken"] = token
    return out


@operation("DeleteUserPool", auth=Auth.IAM)
async def delete_user_pool(core: Core, p: Params) -> dict[str, Any]:
    await core.pools.delete(p.str("UserPoolId"))
    return {}


@operation("AddCustomAttributes", auth=Auth.IAM)
async def add_custom_attributes(core: Core, p: Params) -> dict[str, Any]:
    await core.pools.add_custom_attributes(p.str("UserPoolId"), p.list("CustomAttributes"))
    return {}


@operation("TagResource", auth=Auth.IAM)
async def tag_resource(core: Core, p: Params) -> dict[str, Any]:
    await core.pools.tag(p.str("ResourceArn"), p.map("Tags"))
    return {}


@operation("UntagResource", auth=Auth.IAM)
async def untag_resource(core: Core, p: Params) -> dict[str, Any]:
    await core.pools.untag(p.str("ResourceArn"), p.list("TagKeys"))
    return {}


@operation("ListTagsForResource", auth=Auth.IAM)
async def list_tags_for_resource(core: Core, p: Params) -> dict[str, Any]:
    return {"Tags": await core.pools.tags(p.str("ResourceArn"))}
