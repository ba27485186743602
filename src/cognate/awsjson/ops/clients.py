"""App client operations: Create/Describe/Update/List/DeleteUserPoolClient."""

from __future__ import annotations

from typing import Any

from cognate.awsjson import wire
from cognate.awsjson.params import Params
from cognate.awsjson.registry import Auth, operation
from cognate.core.service import Core


@operation("CreateUserPoolClient", auth=Auth.IAM)
async def create_user_pool_client(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    client = await core.clients.create(pool, p.fields("UserPoolId"))
    return {"UserPoolClient": wire.client(client)}


@operation("DescribeUserPoolClient", auth=Auth.IAM)
async def describe_user_pool_client(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    client = await core.clients.get(p.str("ClientId"), pool.id)
    return {"UserPoolClient": wire.client(client)}


@operation("UpdateUserPoolClient", auth=Auth.IAM)
async def update_user_pool_client(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    client = await core.clients.update(pool, p.str("ClientId"), p.fields("UserPoolId", "ClientId"))
    return {"UserPoolClient": wire.client(client)}


@operation("ListUserPoolClients", auth=Auth.IAM)
async def list_user_pool_clients(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    clients, token = await core.clients.list(pool.id, p.int("MaxResults", 60), p.opt_str("NextToken"))
    out: dict[str, Any] = {"UserPoolClients": [wire.client_summary(c) for c in clients]}
    if token:
        out["NextToken"] = token
    return out


@operation("DeleteUserPoolClient", auth=Auth.IAM)
async def delete_user_pool_client(core: Core, p: Params) -> dict[str, Any]:
    await core.clients.delete(p.str("UserPoolId"), p.str("ClientId"))
    return {}
