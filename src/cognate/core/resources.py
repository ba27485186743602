"""Resource servers (custom OAuth scopes) and user pool domains.

Source: Amazon Cognito API reference, CreateResourceServer / CreateUserPoolDomain /
UpdateUserPoolDomain: a domain's settings (``ManagedLoginVersion`` 1 for the classic
hosted UI or 2 for managed login; a custom domain's ``CustomDomainConfig``, its ACM
certificate) change; its name never does. (botocore 1.44.5's model only admits
prefix names, so the certificate is kept for whichever domain names one.)
"""

from __future__ import annotations

from typing import Any

from cognate.core.entities import Domain, Pool, ResourceServer
from cognate.errors import InvalidParameterException, ResourceNotFoundException
from cognate.store.base import Conflict, ResourceStore


class Resources:
    def __init__(self, store: ResourceStore) -> None:
        self.store = store

    async def create_server(self, pool: Pool, fields: dict[str, Any]) -> ResourceServer:
        ident = fields["Identifier"]
        doc = {"Name": fields["Name"], "Scopes": list(fields.get("Scopes") or [])}
        rs = ResourceServer(pool_id=pool.id, identifier=ident, doc=doc)
        try:
            await self.store.put_resource_server(rs, create=True)
        except Conflict:
            raise InvalidParameterException(f"{ident} already exists in user pool {pool.id}.") from None
        return rs

    async def servers(self, pool: Pool) -> list[ResourceServer]:
        return await self.store.list_resource_servers(pool.id)

    async def get_server(self, pool: Pool, identifier: str) -> ResourceServer:
        for rs in await self.servers(pool):
            if rs.identifier == identifier:
                return rs
        raise ResourceNotFoundException(f"Resource server {identifier} does not exist.")

    async def update_server(self, pool: Pool, fields: dict[str, Any]) -> ResourceServer:
        await self.get_server(pool, fields["Identifier"])
        rs = ResourceServer(
            pool.id,
            fields["Identifier"],
            {"Name": fields["Name"], "Scopes": list(fields.get("Scopes") or [])},
        )
        await self.store.put_resource_server(rs, create=False)
        return rs

    async def delete_server(self, pool: Pool, identifier: str) -> None:
        await self.get_server(pool, identifier)
        await self.store.delete_resource_server(pool.id, identifier)

    @staticmethod
    def _domain_doc(domain: str, fields: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
        doc = dict(current)
        version = fields.get("ManagedLoginVersion")
        if version is not None:
            if version not in (1, 2):
                raise InvalidParameterException("ManagedLoginVersion must be 1 or 2.")
            doc["ManagedLoginVersion"] = version
        config = fields.get("CustomDomainConfig")
        if config is not None:
            if not str(config.get("CertificateArn") or "").startswith("arn:"):
                raise InvalidParameterException("CustomDomainConfig needs a CertificateArn.")
            doc["CustomDomainConfig"] = dict(config)
        return doc

    async def create_domain(self, pool: Pool, domain: str, fields: dict[str, Any]) -> Domain:
        existing = await self.store.domains_of_pool(pool.id)
        if existing:
            raise InvalidParameterException(f"User pool {pool.id} already has a domain configured.")
        doc = self._domain_doc(domain, fields, {})
        d = Domain(domain=domain, pool_id=pool.id, doc=doc)
        try:
            await self.store.insert_domain(d)
        except Conflict:
            raise InvalidParameterException("Domain already exists.") from None
        return d

    async def get_domain(self, domain: str) -> Domain | None:
        return await self.store.get_domain(domain)

    async def domain_of_pool(self, pool: Pool) -> Domain | None:
        found = await self.store.domains_of_pool(pool.id)
        return found[0] if found else None

    async def update_domain(self, pool: Pool, domain: str, fields: dict[str, Any]) -> Domain:
        """UpdateUserPoolDomain: the managed-login version and the certificate, never the name."""
        current = await self.store.get_domain(domain)
        if current is None or current.pool_id != pool.id:
            raise ResourceNotFoundException("No such domain or user pool exists.")
        updated = Domain(
            domain=current.domain, pool_id=pool.id, doc=self._domain_doc(domain, fields, current.doc)
        )
        await self.store.update_domain(updated)
        return updated

    async def delete_domain(self, pool: Pool, domain: str) -> None:
        d = await self.store.get_domain(domain)
        if d is None or d.pool_id != pool.id:
            raise InvalidParameterException("No such domain or user pool exists.")
        await self.store.delete_domain(domain)
