"""App clients: create, describe, update, list, delete, with Cognito's validation rules.

Source: Amazon Cognito API reference, CreateUserPoolClient / UpdateUserPoolClient
(token validity ranges and units, OAuth flows and scopes, callback URLs, explicit auth
flows, PreventUserExistenceErrors, RefreshTokenRotation). Secrets are encrypted at
rest with the master key.
"""

from __future__ import annotations

import copy
from typing import Any

from cognate.core import ids, paging, redirects
from cognate.core.clock import Clock
from cognate.core.entities import Client, Pool
from cognate.crypto.sealing import Sealer
from cognate.errors import (
    InvalidOAuthFlowException,
    InvalidParameterException,
    ResourceNotFoundException,
    ScopeDoesNotExistException,
)
from cognate.store.base import Conflict, Store

SYSTEM_SCOPES = {"openid", "email", "phone", "profile", "aws.cognito.signin.user.admin"}
DEFAULT_AUTH_FLOWS = ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"]
LEGACY_FLOWS = {"ADMIN_NO_SRP_AUTH", "CUSTOM_AUTH_FLOW_ONLY", "USER_PASSWORD_AUTH"}
UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
DEFAULT_UNITS = {"AccessToken": "hours", "IdToken": "hours", "RefreshToken": "days"}

# Fields CreateUserPoolClient/UpdateUserPoolClient accept besides ids, name and secret.
FIELDS = (
    "RefreshTokenValidity",
    "AccessTokenValidity",
    "IdTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
    "ExplicitAuthFlows",
    "SupportedIdentityProviders",
    "CallbackURLs",
    "LogoutURLs",
    "DefaultRedirectURI",
    "AllowedOAuthFlows",
    "AllowedOAuthScopes",
    "AllowedOAuthFlowsUserPoolClient",
    "AnalyticsConfiguration",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "EnablePropagateAdditionalUserContextData",
    "AuthSessionValidity",
    "RefreshTokenRotation",
)

SECRET_PURPOSE = "client-secret"


def validity_seconds(doc: dict[str, Any], which: str) -> int:
    """Lifetime in seconds of ``which`` ("AccessToken", "IdToken", "RefreshToken")."""
    units = {**DEFAULT_UNITS, **(doc.get("TokenValidityUnits") or {})}
    field = {
        "AccessToken": "AccessTokenValidity",
        "IdToken": "IdTokenValidity",
        "RefreshToken": "RefreshTokenValidity",
    }[which]
    default = {"AccessToken": 1, "IdToken": 1, "RefreshToken": 30}[which]
    value = doc.get(field) or default
    return int(value) * UNIT_SECONDS[units[which]]


class Clients:
    def __init__(self, store: Store, clock: Clock, sealer: Sealer) -> None:
        self.store = store
        self.clock = clock
        self.sealer = sealer

    def _validate(self, pool: Pool, doc: dict[str, Any], has_secret: bool, scopes_known: set[str]) -> None:
        # Token validity ranges (API reference: 5 minutes..1 day; refresh 60 minutes..10 years).
        for which, lo, hi in (
            ("AccessToken", 300, 86400),
            ("IdToken", 300, 86400),
            ("RefreshToken", 3600, 3650 * 86400),
        ):
            seconds = validity_seconds(doc, which)
            if not lo <= seconds <= hi:
                raise InvalidParameterException(f"Invalid range for token validity: {which}.")
        if validity_seconds(doc, "RefreshToken") <= max(
            validity_seconds(doc, "AccessToken"), validity_seconds(doc, "IdToken")
        ):
            raise InvalidParameterException(
                "Refresh token validity must be greater than the access and id token validities."
            )
        flows = doc.get("ExplicitAuthFlows") or []
        if any(f.startswith("ALLOW_") for f in flows) and any(f in LEGACY_FLOWS for f in flows):
            raise InvalidParameterException("ExplicitAuthFlows can not have both ALLOW_XXX and legacy values")
        # Redirect URLs: absolute, no fragment, HTTPS except localhost (Cognito's rule).
        callbacks = doc.get("CallbackURLs") or []
        redirects.check_registered(callbacks, "callback URL")
        redirects.check_registered(doc.get("LogoutURLs") or [], "logout URL")
        default_uri = doc.get("DefaultRedirectURI")
        if default_uri:
            redirects.check_registered([default_uri], "DefaultRedirectURI")
            if default_uri not in callbacks:
                raise InvalidParameterException("DefaultRedirectURI must be one of the CallbackURLs.")
        oauth_flows = doc.get("AllowedOAuthFlows") or []
        if "client_credentials" in oauth_flows:
            if len(oauth_flows) > 1:
                raise InvalidOAuthFlowException(
                    "client_credentials flow can not be selected along with code flow or implicit flow."
                )
            if not has_secret:
                raise InvalidOAuthFlowException(
                    "client_credentials flow can not be selected if client does not have a client secret."
                )
        scopes = doc.get("AllowedOAuthScopes") or []
        for scope in scopes:
            if scope not in SYSTEM_SCOPES and scope not in scopes_known:
                raise ScopeDoesNotExistException(f"Invalid scope requested: {scope}")
        if "client_credentials" in oauth_flows and any(s in SYSTEM_SCOPES for s in scopes):
            raise InvalidOAuthFlowException("client_credentials flow can only be used with custom scopes.")
        if doc.get("AllowedOAuthFlowsUserPoolClient"):
            if not oauth_flows:
                raise InvalidOAuthFlowException("AllowedOAuthFlows are required when OAuth is enabled.")
            if not scopes:
                raise InvalidOAuthFlowException("AllowedOAuthScopes are required when OAuth is enabled.")
            if any(f in ("code", "implicit") for f in oauth_flows) and not callbacks:
                raise InvalidParameterException(
                    "CallbackURLs are required when the code or implicit flow is allowed."
                )
        names = {a["Name"] for a in pool.doc["SchemaAttributes"]}
        for field, verb in (("ReadAttributes", "read"), ("WriteAttributes", "write")):
            for attr in doc.get(field) or []:
                if attr not in names or (verb == "write" and attr == "sub"):
                    raise InvalidParameterException(
                        f"Invalid {verb} attributes specified while creating a client"
                    )
        for idp in doc.get("SupportedIdentityProviders") or []:
            if idp != "COGNITO":
                raise InvalidParameterException(f"The provider {idp} does not exist for User Pool {pool.id}")
        asv = doc.get("AuthSessionValidity", 3)
        if not 3 <= int(asv) <= 15:
            raise InvalidParameterException("AuthSessionValidity must be between 3 and 15 minutes.")
        rotation = doc.get("RefreshTokenRotation") or {}
        grace = rotation.get("RetryGracePeriodSeconds", 0)
        if not 0 <= int(grace) <= 60:
            raise InvalidParameterException("RetryGracePeriodSeconds must be between 0 and 60.")

    async def _known_scopes(self, pool_id: str) -> set[str]:
        known = set()
        for rs in await self.store.list_resource_servers(pool_id):
            for scope in rs.doc.get("Scopes", []):
                known.add(f"{rs.identifier}/{scope['ScopeName']}")
        return known

    @staticmethod
    def _doc(fields: dict[str, Any]) -> dict[str, Any]:
        doc = {k: copy.deepcopy(v) for k, v in fields.items() if k in FIELDS}
        doc.setdefault("RefreshTokenValidity", 30)
        doc.setdefault("TokenValidityUnits", {})
        doc["TokenValidityUnits"] = {**DEFAULT_UNITS, **doc["TokenValidityUnits"]}
        doc.setdefault("ExplicitAuthFlows", list(DEFAULT_AUTH_FLOWS))
        doc.setdefault("AllowedOAuthFlowsUserPoolClient", False)
        doc.setdefault("PreventUserExistenceErrors", "LEGACY")
        doc.setdefault("EnableTokenRevocation", True)
        doc.setdefault("EnablePropagateAdditionalUserContextData", False)
        doc.setdefault("AuthSessionValidity", 3)
        if doc.get("RefreshTokenValidity") == 0:
            doc["RefreshTokenValidity"] = 30  # Cognito replaces 0 with 30 days
        return doc

    async def create(
        self,
        pool: Pool,
        fields: dict[str, Any],
        *,
        fixed_id: str | None = None,
        fixed_secret: str | None = None,
    ) -> Client:
        name = fields["ClientName"]
        secret = fixed_secret or fields.get("ClientSecret")
        if secret is None and fields.get("GenerateSecret"):
            secret = ids.client_secret()
        doc = self._doc(fields)
        self._validate(pool, doc, secret is not None, await self._known_scopes(pool.id))
        now = self.clock.now()
        sealed = self.sealer.seal(secret, SECRET_PURPOSE) if secret else None
        for _ in range(5):
            client = Client(
                id=fixed_id or ids.client_id(),
                pool_id=pool.id,
                name=name,
                created=now,
                modified=now,
                doc=doc,
                secret=secret,
            )
            try:
                await self.store.insert_client(client, sealed)
                return client
            except Conflict:
                if fixed_id:
                    raise InvalidParameterException(f"Client {fixed_id} already exists.") from None
        raise InvalidParameterException("Could not allocate a client id")  # pragma: no cover

    async def get(self, client_id: str, pool_id: str | None = None) -> Client:
        found = await self.store.get_client(client_id)
        if found is None or (pool_id is not None and found[0].pool_id != pool_id):
            raise ResourceNotFoundException(f"User pool client {client_id} does not exist.")
        client, sealed = found
        if sealed:
            return Client(
                id=client.id,
                pool_id=client.pool_id,
                name=client.name,
                created=client.created,
                modified=client.modified,
                doc=client.doc,
                secret=self.sealer.unseal(sealed, SECRET_PURPOSE),
            )
        return client

    async def update(self, pool: Pool, client_id: str, fields: dict[str, Any]) -> Client:
        """UpdateUserPoolClient: fields not given return to their defaults, as in Cognito."""
        current = await self.get(client_id, pool.id)
        doc = self._doc(fields)
        self._validate(pool, doc, current.secret is not None, await self._known_scopes(pool.id))
        updated = Client(
            id=current.id,
            pool_id=current.pool_id,
            name=fields.get("ClientName", current.name),
            created=current.created,
            modified=self.clock.now(),
            doc=doc,
            secret=current.secret,
        )
        await self.store.update_client(updated)
        return updated

    async def list(self, pool_id: str, limit: int, token: str | None) -> tuple[list[Client], str | None]:
        scope = f"ListUserPoolClients\n{pool_id}"
        clients = await self.store.list_clients(
            pool_id, limit + 1, paging.decode(token, scope) if token else None
        )
        more = len(clients) > limit
        clients = clients[:limit]
        return clients, (paging.encode(clients[-1].id, scope) if more and clients else None)

    async def delete(self, pool_id: str, client_id: str) -> None:
        await self.get(client_id, pool_id)
        await self.store.delete_client(client_id)
