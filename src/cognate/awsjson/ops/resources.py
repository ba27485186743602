"""Resource servers and user pool domains."""

from __future__ import annotations

from typing import Any

from cognate.awsjson import wire
from cognate.awsjson.params import Params
from cognate.awsjson.registry import Auth, operation
from cognate.core.service import Core
from cognate.errors import ResourceNotFoundException


@operation("CreateResourceServer", auth=Auth.IAM)
async def create_resource_server(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    return {"ResourceServer": wire.resource_server(await core.resources.create_server(pool, p.body))}


@operation("DescribeResourceServer", auth=Auth.IAM)
async def describe_resource_server(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    return {
        "ResourceServer": wire.resource_server(await core.resources.get_server(pool, p.str("Identifier")))
    }


@operation("UpdateResourceServer", auth=Auth.IAM)
async def update_resource_server(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    return {"ResourceServer": wire.resource_server(await core.resources.update_server(pool, p.body))}


@operation("DeleteResourceServer", auth=Auth.IAM)
async def delete_resource_server(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    await core.resources.delete_server(pool, p.str("Identifier"))
    return {}


@operation("ListResourceServers", auth=Auth.IAM)
async def list_resource_servers(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    return {"ResourceServers": [wire.resource_server(rs) for rs in await core.resources.servers(pool)]}


@operation("CreateUserPoolDomain", auth=Auth.IAM)
async def create_user_pool_domain(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    d = await core.resources.create_domain(pool, p.str("Domain"), p.body)
    return {"ManagedLoginVersion": d.doc.get("ManagedLoginVersion", 1)}


@operation("DescribeUserPoolDomain", auth=Auth.IAM)
async def describe_user_pool_domain(core: Core, p: Params) -> dict[str, Any]:
    d = await core.resources.get_domain(p.str("Domain"))
    if d is None:
        return {"DomainDescription": {}}
    return {
        "DomainDescription": {
            "UserPoolId": d.pool_id,
            "AWSAccountId": "000000000000",
            "Domain": d.domain,
            "CloudFrontDistribution": "",
            "Version": "1",
            "Status": "ACTIVE",
            "ManagedLoginVersion": d.doc.get("ManagedLoginVersion", 1),
            **({"CustomDomainConfig": d.doc["CustomDomainConfig"]} if "CustomDomainConfig" in d.doc else {}),
        }
    }


@operation("UpdateUserPoolDomain", auth=Auth.IAM)
async def update_user_pool_domain(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    d = await core.resources.update_domain(pool, p.str("Domain"), p.body)
    return {"ManagedLoginVersion": d.doc.get("ManagedLoginVersion", 1)}


@operation("DeleteUserPoolDomain", auth=Auth.IAM)
async def delete_user_pool_domain(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    if await core.resources.get_domain(p.str("Domain")) is None:
        raise ResourceNotFoundException("No such domain or user pool exists.")
    await core.resources.delete_domain(pool, p.str("Domain"))
    return {}
