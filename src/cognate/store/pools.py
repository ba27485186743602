"""Pools and what hangs on them: app clients, resource servers, domains.

API reference: CreateUserPool, CreateUserPoolClient, CreateResourceServer,
CreateUserPoolDomain and their Describe/Update/List/Delete companions. Each row
keeps the Cognito-shaped configuration the core validated (``doc``); a client's
secret is stored sealed (crypto/sealing.py), never in the clear.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from cognate.core.entities import Client, Domain, Pool, ResourceServer
from cognate.store import schema as t
from cognate.store.base import Conflict
from cognate.store.engine import Database, prepared

# Every table that holds rows of a pool (the pool's own row is deleted last).
POOL_TABLES = (
    t.clients,
    t.users,
    t.user_attrs,
    t.user_aliases,
    t.groups,
    t.user_groups,
    t.resource_servers,
    t.domains,
    t.refresh_tokens,
    t.signing_keys,
    t.lockouts,
    t.user_import_jobs,
    t.user_import_files,
    t.auth_events,  # the audit log outlives the pool: it records the deletion too
)


# Read by every administrative request: built once (building a statement costs more than
# running it on SQLite).
_POOL_BY_ID = prepared(t.pools.select().where(t.pools.c.id == sa.bindparam("b_id")))


class PoolRows(Database):
    # --- pools ------------------------------------------------------------------

    @staticmethod
    def _pool(row: Any) -> Pool:
        return Pool(id=row.id, name=row.name, created=row.created, modified=row.modified, doc=row.doc)

    async def insert_pool(self, pool: Pool) -> None:
        async with self.write() as conn:
            try:
                await conn.execute(
                    t.pools.insert().values(
                        id=pool.id, name=pool.name, created=pool.created, modified=pool.modified, doc=pool.doc
                    )
                )
            except IntegrityError as exc:
                raise Conflict(pool.id) from exc

    async def get_pool(self, pool_id: str) -> Pool | None:
        async with self.read() as conn:
            row = (await conn.execute(_POOL_BY_ID, {"b_id": pool_id})).first()
        return self._pool(row) if row else None

    async def update_pool(self, pool: Pool) -> None:
        async with self.write() as conn:
            await conn.execute(
                t.pools.update()
                .where(t.pools.c.id == pool.id)
                .values(name=pool.name, modified=pool.modified, doc=pool.doc)
            )

    async def list_pools(self, limit: int, after: str | None) -> list[Pool]:
        q = t.pools.select().order_by(t.pools.c.id).limit(limit)
        if after:
            q = q.where(t.pools.c.id > after)
        async with self.read() as conn:
            return [self._pool(r) for r in await conn.execute(q)]

    async def delete_pool(self, pool_id: str) -> None:
        """Delete a pool and everything in it, in one transaction."""
        async with self.write() as conn:
            for table in POOL_TABLES:
                await conn.execute(table.delete().where(table.c.pool_id == pool_id))
            await conn.execute(t.pools.delete().where(t.pools.c.id == pool_id))

    # --- clients ----------------------------------------------------------------

    @staticmethod
    def _client(row: Any, secret: str | None) -> Client:
        return Client(
            id=row.id,
            pool_id=row.pool_id,
            name=row.name,
            created=row.created,
            modified=row.modified,
            doc=row.doc,
            secret=secret,
        )

    async def insert_client(self, client: Client, secret_enc: str | None) -> None:
        async with self.write() as conn:
            try:
                await conn.execute(
                    t.clients.insert().values(
                        id=client.id,
                        pool_id=client.pool_id,
                        name=client.name,
                        secret_enc=secret_enc,
                        created=client.created,
                        modified=client.modified,
                        doc=client.doc,
                    )
                )
            except IntegrityError as exc:
                raise Conflict(client.id) from exc

    async def get_client(self, client_id: str) -> tuple[Client, str | None] | None:
        """The client and its encrypted secret (decrypted by the caller)."""
        async with self.read() as conn:
            row = (await conn.execute(t.clients.select().where(t.clients.c.id == client_id))).first()
        return (self._client(row, None), row.secret_enc) if row else None

    async def update_client(self, client: Client) -> None:
        async with self.write() as conn:
            await conn.execute(
                t.clients.update()
                .where(t.clients.c.id == client.id)
                .values(name=client.name, modified=client.modified, doc=client.doc)
            )

    async def list_clients(self, pool_id: str, limit: int, after: str | None) -> list[Client]:
        q = t.clients.select().where(t.clients.c.pool_id == pool_id).order_by(t.clients.c.id).limit(limit)
        if after:
            q = q.where(t.clients.c.id > after)
        async with self.read() as conn:
            return [self._client(r, None) for r in await conn.execute(q)]

    async def delete_client(self, client_id: str) -> None:
        async with self.write() as conn:
            await conn.execute(t.refresh_tokens.delete().where(t.refresh_tokens.c.client_id == client_id))
            await conn.execute(t.clients.delete().where(t.clients.c.id == client_id))

    # --- resource servers and domains ---------------------------------------------

    async def put_resource_server(self, rs: ResourceServer, *, create: bool) -> None:
        async with self.write() as conn:
            if create:
                try:
                    await conn.execute(
                        t.resource_servers.insert().values(
                            pool_id=rs.pool_id, identifier=rs.identifier, doc=rs.doc
                        )
                    )
                except IntegrityError as exc:
                    raise Conflict(rs.identifier) from exc
            else:
                await conn.execute(
                    t.resource_servers.update()
                    .where(
                        t.resource_servers.c.pool_id == rs.pool_id,
                        t.resource_servers.c.identifier == rs.identifier,
                    )
                    .values(doc=rs.doc)
                )

    async def list_resource_servers(self, pool_id: str) -> list[ResourceServer]:
        q = (
            t.resource_servers.select()
            .where(t.resource_servers.c.pool_id == pool_id)
            .order_by(t.resource_servers.c.identifier)
        )
        async with self.read() as conn:
            return [ResourceServer(r.pool_id, r.identifier, r.doc) for r in await conn.execute(q)]

    async def delete_resource_server(self, pool_id: str, identifier: str) -> None:
        async with self.write() as conn:
            await conn.execute(
                t.resource_servers.delete().where(
                    t.resource_servers.c.pool_id == pool_id, t.resource_servers.c.identifier == identifier
                )
            )

    async def insert_domain(self, domain: Domain) -> None:
        async with self.write() as conn:
            try:
                await conn.execute(
                    t.domains.insert().values(domain=domain.domain, pool_id=domain.pool_id, doc=domain.doc)
                )
            except IntegrityError as exc:
                raise Conflict(domain.domain) from exc

    async def get_domain(self, domain: str) -> Domain | None:
        async with self.read() as conn:
            r = (await conn.execute(t.domains.select().where(t.domains.c.domain == domain))).first()
        return Domain(r.domain, r.pool_id, r.doc) if r else None

    async def domains_of_pool(self, pool_id: str) -> list[Domain]:
        async with self.read() as conn:
            rows = await conn.execute(t.domains.select().where(t.domains.c.pool_id == pool_id))
            return [Domain(r.domain, r.pool_id, r.doc) for r in rows]

    async def update_domain(self, domain: Domain) -> None:
        """Replace the settings of a domain (its name and pool never change)."""
        async with self.write() as conn:
            await conn.execute(
                t.domains.update()
                .where(t.domains.c.domain == domain.domain, t.domains.c.pool_id == domain.pool_id)
                .values(doc=domain.doc)
            )

    async def delete_domain(self, domain: str) -> None:
        async with self.write() as conn:
            await conn.execute(t.domains.delete().where(t.domains.c.domain == domain))
