"""The seed file (docs/seed-file.md): pools, clients, users created at start.

Idempotent: pools are matched by their fixed ``Id`` (or their name), clients by
``ClientId`` (or name), users by username; what exists is left as it is, so ids and
``sub`` survive restarts, and what was created through the API is never touched.
Everything goes through the core services, never raw SQL.

The whole file is checked before anything is written: keys, and shapes against
botocore's model of the matching operation, as the API would check them; then
``check_whole`` applies it to a throw-away store in a temporary folder, so what only
the core can judge (a password against the pool's policy, attributes against the
schema, a group a user names, a callback URL) stops the start with a message naming
the place before the real store changes. A seed file is self-contained: the groups
its users join are the ones it declares.

Users are created confirmed. Their email or phone number is verified only when the
file says so (``email_verified`` / ``phone_number_verified`` set to ``"true"``, as
with AdminCreateUser): an unverified one cannot receive a ForgotPassword code, which
the seed says in the log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import tempfile
from pathlib import Path
from typing import Any

from cognate.awsjson import validation
from cognate.core.context import admin_context
from cognate.core.entities import Pool
from cognate.core.service import Core
from cognate.errors import CognateError, ResourceNotFoundException

log = logging.getLogger("cognate.seed")

POOL_EXTRAS = ("Id", "Domain", "ResourceServers", "Groups", "Clients", "Users")
CLIENT_EXTRAS = ("ClientId", "ClientSecret")
USER_KEYS = ("Username", "Password", "Attributes", "Groups")
# Stands in for the pool id while checking shapes of things created inside a pool.
_PLACEHOLDER_POOL = "us-east-1_SeedCheck"
_POOL_ID = re.compile(r"^[\w-]+_[0-9a-zA-Z]+$")
_CLIENT_ID = re.compile(r"^[\w+]+$")


class SeedError(ValueError):
    """The seed file cannot be applied."""


def load(path: str) -> dict[str, Any]:
    """Read and check the seed file; raise SeedError naming what is wrong and where."""
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise SeedError(f"cannot read seed file {path}: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("UserPools", []), list):
        raise SeedError(f"seed file {path}: must be a JSON object with a UserPools list")
    unknown = sorted(set(doc) - {"UserPools"})
    if unknown:
        raise SeedError(f"seed file {path}: unknown key {unknown[0]!r} (expected UserPools)")
    for i, spec in enumerate(doc.get("UserPools", [])):
        where = f"seed file {path}: UserPools[{i}]"
        if isinstance(spec, dict) and isinstance(spec.get("PoolName"), str):
            where += f" ({spec['PoolName']})"
        check_pool(spec, where)
    return doc


# --- checks ---------------------------------------------------------------------------


def _members(operation: str) -> set[str]:
    model = validation.operation_model(operation)
    return set(model.input_shape.members) if model is not None and model.input_shape is not None else set()


def _shape(operation: str, body: dict[str, Any], where: str) -> None:
    try:
        validation.validate(operation, body)
    except CognateError as exc:
        raise SeedError(f"{where}: {exc.type_name}: {exc.message}") from None


def _object(value: Any, where: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SeedError(f"{where}: must be a JSON object")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise SeedError(f"{where}: unknown key {unknown[0]!r}")
    return value


def _list(spec: dict[str, Any], key: str, where: str) -> list[Any]:
    value = spec.get(key, [])
    if not isinstance(value, list):
        raise SeedError(f"{where}: {key} must be a list")
    return value


def check_pool(spec: Any, where: str) -> None:
    pool_fields = _members("CreateUserPool")
    spec = _object(spec, where, pool_fields | set(POOL_EXTRAS))
    _shape("CreateUserPool", {k: v for k, v in spec.items() if k not in POOL_EXTRAS}, where)
    pool_id = spec.get("Id")
    if pool_id is not None and (
        not isinstance(pool_id, str) or len(pool_id) > 55 or not _POOL_ID.match(pool_id)
    ):
        raise SeedError(f"{where}: Id {pool_id!r} is not a user pool id (like us-east-1_AbCdEf123)")
    if "Domain" in spec:
        _shape("CreateUserPoolDomain", {"UserPoolId": _PLACEHOLDER_POOL, "Domain": spec["Domain"]}, where)
    for i, rs in enumerate(_list(spec, "ResourceServers", where)):
        here = f"{where}: ResourceServers[{i}]"
        rs = _object(rs, here, _members("CreateResourceServer") - {"UserPoolId"})
        _shape("CreateResourceServer", {**rs, "UserPoolId": _PLACEHOLDER_POOL}, here)
    group_names = set()
    for i, group in enumerate(_list(spec, "Groups", where)):
        here = f"{where}: Groups[{i}]"
        group = _object(group, here, _members("CreateGroup") - {"UserPoolId"})
        _shape("CreateGroup", {**group, "UserPoolId": _PLACEHOLDER_POOL}, here)
        group_names.add(group["GroupName"])
    for i, client in enumerate(_list(spec, "Clients", where)):
        here = f"{where}: Clients[{i}]"
        client = _object(client, here, _members("CreateUserPoolClient") - {"UserPoolId"} | set(CLIENT_EXTRAS))
        client_id = client.get("ClientId")
        if client_id is not None and (
            not isinstance(client_id, str)
            or not 1 <= len(client_id) <= 128
            or not _CLIENT_ID.match(client_id)
        ):
            raise SeedError(f"{here}: ClientId {client_id!r} is not a client id (letters, digits, _ and +)")
        fields = {k: v for k, v in client.items() if k != "ClientId"}
        _shape("CreateUserPoolClient", {**fields, "UserPoolId": _PLACEHOLDER_POOL}, here)
    for i, user in enumerate(_list(spec, "Users", where)):
        here = f"{where}: Users[{i}]"
        user = _object(user, here, set(USER_KEYS))
        for key in ("Username", "Password"):
            if not isinstance(user.get(key), str) or not user[key]:
                raise SeedError(f"{here}: {key} is required (a string)")
        _shape(
            "AdminCreateUser",
            {
                "UserPoolId": _PLACEHOLDER_POOL,
                "Username": user["Username"],
                "UserAttributes": user.get("Attributes", []),
            },
            here,
        )
        _shape(
            "AdminSetUserPassword",
            {"UserPoolId": _PLACEHOLDER_POOL, "Username": user["Username"], "Password": user["Password"]},
            here,
        )
        groups = _list(user, "Groups", here)
        if not all(isinstance(g, str) for g in groups):
            raise SeedError(f"{here}: Groups must be a list of group names")


def check_whole(doc: dict[str, Any], region: str = "us-east-1", path: str = "") -> None:
    """Apply ``doc`` to a throw-away store: SeedError names what the core refuses, nothing real is touched."""
    try:
        asyncio.run(_dry_run(doc, region))
    except SeedError as exc:
        text = str(exc).removeprefix("seed: ")
        raise SeedError(f"seed file {path}: {text}" if path else text) from None


async def _dry_run(doc: dict[str, Any], region: str) -> None:
    from cognate.core.service import CoreConfig
    from cognate.crypto.sealing import new_master_key
    from cognate.store.cached import CachingStore

    with tempfile.TemporaryDirectory(prefix="cognate-seed-check-") as tmp:
        store = CachingStore(f"sqlite:///{Path(tmp) / 'check.db'}")
        try:
            await store.migrate()
            config = CoreConfig(
                region=region,
                data_dir=Path(tmp),
                public_url="http://localhost",
                issuer_style="local",
                master_key=new_master_key(),
                password_hash_cost="low",  # the policy is checked on the password, not on its hash
            )
            quiet = log.disabled
            log.disabled = True
            try:
                await apply(Core(store, config), doc, audited=False)
            finally:
                log.disabled = quiet
        finally:
            await store.close()


# --- applying -----------------------------------------------------------------------------


async def apply(core: Core, doc: dict[str, Any], *, audited: bool = True) -> None:
    """Create what the (checked) seed document describes and does not exist yet; each
    creation is an entry of the audit log (actor ``seed``) unless ``audited`` is False."""
    for spec in doc.get("UserPools", []):
        try:
            await _pool(_Seeding(core, audited), spec)
        except CognateError as exc:
            raise SeedError(f"seed: pool {_label(spec)}: {exc.type_name}: {exc.message}") from exc


def _label(spec: dict[str, Any]) -> str:
    return f"{spec.get('PoolName')}" + (f" ({spec['Id']})" if spec.get("Id") else "")


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


class _Seeding:
    """The core the seed writes through, and its audit entries."""

    def __init__(self, core: Core, audited: bool) -> None:
        self.core = core
        self.audited = audited

    async def created(self, operation: str, target: dict[str, str], fields: list[str]) -> None:
        """One entry per creation: names of the fields only (never a password or a secret)."""
        if self.audited:
            await self.core.audit.record(
                admin_context(), actor="seed", operation=operation, target=target, fields=fields
            )


async def _pool(seeding: _Seeding, spec: dict[str, Any]) -> None:
    core = seeding.core
    pool = await _find_pool(core, spec)
    if pool is None:
        fields = {k: v for k, v in spec.items() if k not in POOL_EXTRAS}
        pool = await core.pools.create(fields, fixed_id=spec.get("Id"))
        log.info("seed: created pool %s", pool.id)
        await seeding.created("CreateUserPool", {"UserPoolId": pool.id}, list(fields))
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
    await _clients(seeding, pool, spec.get("Clients", []))
    for user_spec in spec.get("Users", []):
        user = await core.users.find(pool, user_spec["Username"])
        if user is None:
            attrs = {a["Name"]: a.get("Value", "") for a in user_spec.get("Attributes", [])}
            user = await core.users.create_confirmed(
                pool, user_spec["Username"], user_spec["Password"], attrs
            )
            log.info("seed: created user %s in %s", user.username, pool.id)
            await seeding.created(
                "AdminCreateUser",
                {"UserPoolId": pool.id, "Username": user.username},
                ["Password", *(f"UserAttributes.{name}" for name in attrs)],
            )
            unverified = [
                name
                for name in ("email", "phone_number")
                if user.attributes.get(name) and user.attributes.get(f"{name}_verified") != "true"
            ]
            if unverified:
                log.info(
                    "seed: %s of user %s is not verified, so ForgotPassword cannot reach it "
                    '(set %s to "true" in the seed file to verify it)',
                    " and ".join(unverified),
                    user.username,
                    " / ".join(f"{n}_verified" for n in unverified),
                )
        for group_name in user_spec.get("Groups", []):
            try:
                await core.groups.add_user(pool, group_name, user)
            except ResourceNotFoundException:
                who = f"pool {_label(spec)}: user {user_spec['Username']}"
                raise SeedError(f"seed: {who}: group {group_name!r} does not exist") from None


async def _clients(seeding: _Seeding, pool: Pool, specs: list[dict[str, Any]]) -> None:
    core = seeding.core
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
        fields = {k: v for k, v in spec.items() if k not in CLIENT_EXTRAS}
        client = await core.clients.create(
            pool, fields, fixed_id=fixed, fixed_secret=spec.get("ClientSecret")
        )
        log.info("seed: created client %s in %s", client.id, pool.id)
        await seeding.created(
            "CreateUserPoolClient",
            {"UserPoolId": pool.id, "ClientId": client.id},
            [k for k in spec if k != "ClientId"],
        )
