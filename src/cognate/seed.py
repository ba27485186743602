"""The seed file (CONTRACT.md, "Seed file"): pools, clients, users created at start.

Idempotent: pools are matched by their fixed ``Id`` (or their name), clients by
``ClientId`` (or name), users by username; what exists is left as it is, so ids and
``sub`` survive restarts, and what was created through the API is never touched.
Everything goes through the core services, never raw SQL.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from cognate.core.entities import Pool
from cognate.core.service import Core
from cognate.errors import CognateError, ResourceNotFoundException

log = logging.getLogger("cognate.seed")

POOL_EXTRAS = ("Id", "Domain", "ResourceServers", "Groups", "Clients", "Users")


class SeedError(ValueError):
    """The seed file cannot be applied."""


def load(path: str) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise SeedError(f"cannot read seed file {path}: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("UserPools", []), list):
        raise SeedError("the seed file must be a JSON object with a UserPools list")
    return doc


async def apply(core: Core, doc: dict[str, Any]) -> None:
    from cognate.awsjson import validation

    for spec in doc.get("UserPools", []):
        try:
            validation.validate("CreateUserPool", {k: v for k, v in spec.items() if k not in POOL_EXTRAS})
            await _pool(core, spec)
        except CognateError as exc:
            raise SeedError(
                f"pool {spec.get('Id') or spec.get('PoolName')}: {exc.type_name}: {exc.message}"
            ) from exc


async def _find_pool(core: Core, spec: dict[str, Any]) -> Pool | None:
    if spec.get("Id"):
        try:
            return await core.pools.get(spec["Id"])
        except ResourceNotFoundException:
            return None
    token: str | None = None
    while True:
        pools, token = await core.pools.list(60, token)
        for pool in pools:
            if pool.name == spec["PoolName"]:
                return pool
        if not token:
            return None


async def _pool(core: Core, spec: dict[str, Any]) -> None:
    pool = await _find_pool(core, spec)
    if pool is None:
        fields = {k: v for k, v in spec.items() if k not in POOL_EXTRAS}
        pool = await core.pools.create(fields, fixed_id=spec.get("Id"))
        log.info("seed: created pool %s", pool.id)
    existing_rs = {rs.identifier for rs in await core.resources.servers(pool)}
    for rs in spec.get("ResourceServers", []):
        if rs["Identifier"] not in existing_rs:
            await core.resources.create_server(pool, rs)
    for group in spec.get("Groups", []):
        if await core.store.get_group(pool.id, group["GroupName"]) is None:
            await core.groups.create(pool, group["GroupName"], group)
    if spec.get("Domain") and await core.resources.get_domain(spec["Domain"]) is None:
        if await core.resources.domain_of_pool(pool) is None:
            await core.resources.create_domain(pool, spec["Domain"], {})
    await _clients(core, pool, spec.get("Clients", []))
    for user_spec in spec.get("Users", []):
        user = await core.users.find(pool, user_spec["Username"])
        if user is None:
            attrs = {a["Name"]: a["Value"] for a in user_spec.get("Attributes", [])}
            user = await core.users.create_confirmed(
                pool, user_spec["Username"], user_spec["Password"], attrs
            )
            log.info("seed: created user %s in %s", user.username, pool.id)
        for group_name in user_spec.get("Groups", []):
            await core.groups.add_user(pool, group_name, user)


async def _clients(core: Core, pool: Pool, specs: list[dict[str, Any]]) -> None:
    from cognate.awsjson import validation

    names = None
    for spec in specs:
        fixed = spec.get("ClientId")
        if fixed:
            try:
                await core.clients.get(fixed)
                continue
            except ResourceNotFoundException:
                pass
        else:
            if names is None:
                names = set()
                token: str | None = None
                while True:
                    clients, token = await core.clients.list(pool.id, 60, token)
                    names |= {c.name for c in clients}
                    if not token:
                        break
            if spec["ClientName"] in names:
                continue
        fields = {k: v for k, v in spec.items() if k not in ("ClientId", "ClientSecret")}
        validation.validate("CreateUserPoolClient", {"UserPoolId": pool.id, **fields})
        client = await core.clients.create(
            pool, fields, fixed_id=fixed, fixed_secret=spec.get("ClientSecret")
        )
        log.info("seed: created client %s in %s", client.id, pool.id)
