"""Cognito's tokens: RS256 ID and access JWTs, opaque refresh tokens, and their checks.

Claims follow the Cognito developer guide ("Understanding the ID token", "Understanding
the access token"; REFERENCE.md 5a): the ID token carries ``sub``, ``iss``, ``aud``,
``token_use=id``, ``auth_time``, ``iat``, ``exp``, ``jti``, ``origin_jti``, ``event_id``,
``cognito:username``, ``cognito:groups`` (when the user has groups) and the user's
attributes the client may read; the access token carries ``client_id``, ``username``,
``scope`` and no ``aud``. Refresh tokens are random, stored only as SHA-256 hashes
(they carry 256 bits of entropy, so a fast hash is the right one), and revocable: all
tokens that share an ``origin_jti`` die with their refresh token.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, replace
from typing import Any

from cognate.core import ids
from cognate.core.clients import validity_seconds
from cognate.core.clock import Clock
from cognate.core.entities import Client, Group, Pool, RefreshToken, User
from cognate.core.groups import Groups
from cognate.core.keys import SigningKeys
from cognate.crypto import signing
from cognate.errors import NotAuthorizedException, RefreshTokenReuseException
from cognate.store.cached import CachingStore

ADMIN_SCOPE = "aws.cognito.signin.user.admin"
BOOLEAN_CLAIMS = {"email_verified", "phone_number_verified"}
NUMBER_CLAIMS = {"updated_at"}


def refresh_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Issued:
    id_token: str | None
    access_token: str
    expires_in: int
    refresh_token: str | None = None


class _UnknownKey(Exception):
    """The token's kid is not in this process's key cache (yet): load the pool's keys."""


def precedence_order(groups: list[Group]) -> list[Group]:
    """``cognito:groups`` order: by Precedence (lowest first, none last), then name."""
    return sorted(groups, key=lambda g: (g.doc.get("Precedence") is None, g.doc.get("Precedence", 0), g.name))


def _claim_value(name: str, value: str) -> Any:
    if name in BOOLEAN_CLAIMS:
        return value == "true"
    if name in NUMBER_CLAIMS:
        try:
            return int(value)
        except ValueError:
            return value
    return value


class Tokens:
    def __init__(
        self, store: CachingStore, clock: Clock, keys: SigningKeys, groups: Groups, issuer_base: str
    ) -> None:
        self.store = store
        self.clock = clock
        self.keys = keys
        self.groups = groups
        self._issuer_base = issuer_base  # "{public-url}" or "https://cognito-idp.{region}.amazonaws.com"

    def issuer(self, pool_id: str) -> str:
        return f"{self._issuer_base}/{pool_id}"

    # --- issuing -------------------------------------------------------------------

    def _id_claims(self, pool: Pool, client: Client, user: User, groups: list[str]) -> dict[str, Any]:
        readable = client.doc.get("ReadAttributes")
        claims: dict[str, Any] = {}
        for name, value in user.attributes.items():
            if name.startswith("dev:") or name == "identities":
                continue
            if readable and name not in readable and name != "sub":
                continue
            claims[name] = _claim_value(name, value)
        if groups:
            claims["cognito:groups"] = groups
        claims["cognito:username"] = user.username
        claims["aud"] = client.id
        claims["token_use"] = "id"
        return claims

    async def issue(
        self,
        pool: Pool,
        client: Client,
        user: User,
        *,
        auth_time: int,
        scopes: list[str] | None = None,
        origin_jti: str | None = None,
        with_refresh: bool = True,
        with_id_token: bool = True,
        nonce: str | None = None,
    ) -> Issued:
        """Sign an ID and an access token; with ``with_refresh``, start a refresh-token family."""
        now = int(self.clock.now())
        keys = await self.keys.get(pool.id)
        groups = [g.name for g in precedence_order(await self.store.cached_groups_of_user(pool.id, user.sub))]
        origin = origin_jti or str(uuid.uuid4())
        event_id = str(uuid.uuid4())
        scope_list = scopes if scopes is not None else [ADMIN_SCOPE]
        access_ttl = validity_seconds(client.doc, "AccessToken")
        common = {
            "iss": self.issuer(pool.id),
            "origin_jti": origin,
            "event_id": event_id,
            "auth_time": auth_time,
        }
        access_claims: dict[str, Any] = {"sub": user.sub}
        if groups:
            access_claims["cognito:groups"] = groups
        access_claims.update(
            {
                "iss": common["iss"],
                "client_id": client.id,
                "origin_jti": origin,
                "event_id": event_id,
                "token_use": "access",
                "scope": " ".join(scope_list),
                "auth_time": auth_time,
                "exp": now + access_ttl,
                "iat": now,
                "jti": str(uuid.uuid4()),
                "username": user.username,
            }
        )
        access = keys.signers["access"].sign(access_claims)
        id_token = None
        if with_id_token:
            id_claims = self._id_claims(pool, client, user, groups)
            id_claims.update(common)
            if nonce:
                id_claims["nonce"] = nonce
            id_claims.update(
                {"exp": now + validity_seconds(client.doc, "IdToken"), "iat": now, "jti": str(uuid.uuid4())}
            )
            id_token = keys.signers["id"].sign(id_claims)
        refresh = None
        if with_refresh:
            refresh = ids.opaque_token(48)
            await self.store.insert_refresh_token(
                self.refresh_record(pool, client, user, refresh, origin, auth_time, scope_list)
            )
        return Issued(id_token=id_token, access_token=access, expires_in=access_ttl, refresh_token=refresh)

    async def client_credentials(self, pool: Pool, client: Client, scopes: list[str]) -> Issued:
        """An access token for the client itself (``client_credentials``): ``sub`` is the client id.

        Cognito developer guide, "Scopes, M2M, and resource servers": no user, no ID token,
        no refresh token; the access token carries the granted custom scopes.
        """
        now = int(self.clock.now())
        keys = await self.keys.get(pool.id)
        access_ttl = validity_seconds(client.doc, "AccessToken")
        claims = {
            "sub": client.id,
            "token_use": "access",
            "scope": " ".join(scopes),
            "auth_time": now,
            "iss": self.issuer(pool.id),
            "exp": now + access_ttl,
            "iat": now,
            "version": 2,
            "jti": str(uuid.uuid4()),
            "client_id": client.id,
        }
        return Issued(id_token=None, access_token=keys.signers["access"].sign(claims), expires_in=access_ttl)

    async def reissue(self, pool: Pool, client: Client, user: User, record: RefreshToken) -> Issued:
        """New ID and access tokens in a refresh token's family (``auth_time`` and scopes kept)."""
        return await self.issue(
            pool,
            client,
            user,
            auth_time=int(record.doc["auth_time"]),
            scopes=list(record.doc.get("scopes") or [ADMIN_SCOPE]),
            origin_jti=record.origin_jti,
            with_refresh=False,
        )

    async def rotate(
        self, pool: Pool, client: Client, user: User, record: RefreshToken, grace_s: float
    ) -> Issued:
        """Refresh-token rotation: a new refresh token replaces ``record`` (atomically, once).

        A retry within ``grace_s`` of the rotation gets tokens again; a later reuse is
        ``RefreshTokenReuseException`` (API reference, RefreshTokenRotationType).
        """
        now = self.clock.now()
        if record.rotated_at is not None and now - record.rotated_at > grace_s:
            raise RefreshTokenReuseException("Refresh token has already been used.")
        issued = await self.reissue(pool, client, user, record)
        new_token = ids.opaque_token(48)
        new_record = self.refresh_record(
            pool,
            client,
            user,
            new_token,
            record.origin_jti,
            int(record.doc["auth_time"]),
            record.doc.get("scopes") or [ADMIN_SCOPE],
        )
        if record.rotated_at is None and await self.store.rotate_refresh_token(
            record.token_hash, new_record, now
        ):
            return replace(issued, refresh_token=new_token)
        # Rotated already (perhaps by a twin request on another worker): a retry, or a reuse.
        current = await self.store.get_refresh_token(record.token_hash)
        if current is None or current.rotated_at is None or now - current.rotated_at > grace_s:
            raise RefreshTokenReuseException("Refresh token has already been used.")
        await self.store.insert_refresh_token(new_record)
        return replace(issued, refresh_token=new_token)

    def refresh_record(
        self,
        pool: Pool,
        client: Client,
        user: User,
        token: str,
        origin_jti: str,
        auth_time: int,
        scopes: list[str],
    ) -> RefreshToken:
        now = self.clock.now()
        return RefreshToken(
            token_hash=refresh_hash(token),
            pool_id=pool.id,
            client_id=client.id,
            sub=user.sub,
            origin_jti=origin_jti,
            created=now,
            expires=now + validity_seconds(client.doc, "RefreshToken"),
            doc={"auth_time": auth_time, "scopes": scopes, "username": user.username},
        )

    # --- checking --------------------------------------------------------------------

    async def _load_key(self, token: str) -> tuple[str, Any]:
        """The pool and key for a kid this process has not cached: the pool comes from the
        (unverified) issuer, the key only from that pool's own key set."""
        invalid = signing.InvalidToken("unknown key")
        header = signing.unverified_header(token)
        kid = header.get("kid")
        iss = signing.unverified_claims(token).get("iss")
        if not isinstance(kid, str) or not isinstance(iss, str) or "/" not in iss:
            raise invalid
        pool_id = iss.rsplit("/", 1)[1]
        key = await self.keys.public_key(pool_id, kid)
        if key is None:
            raise invalid
        return pool_id, key

    async def find_refresh(self, token: str, client: Client) -> RefreshToken:
        """The live refresh token of ``client``; NotAuthorizedException otherwise."""
        if not token or len(token) > 4096:
            raise NotAuthorizedException("Invalid Refresh Token")
        record = await self.store.cached_refresh_token(refresh_hash(token))
        # A token is bound to the client it was issued to (Zitadel GHSA-xqxv-4jc2-x56x).
        if record is None or record.client_id != client.id or record.pool_id != client.pool_id:
            raise NotAuthorizedException("Invalid Refresh Token")
        if record.revoked_at is not None:
            raise NotAuthorizedException("Refresh Token has been revoked")
        if record.expires <= self.clock.now():
            raise NotAuthorizedException("Refresh Token has expired")
        return record

    async def verify(self, token: str, *, token_use: str) -> dict[str, Any]:
        """Signature, issuer, expiry, ``token_use`` and revocation of one of our JWTs.

        The key is chosen by ``kid`` among the pool's own keys (never from the token),
        the algorithm is pinned to RS256, and the issuer must be exactly the pool's.
        """
        invalid = NotAuthorizedException("Invalid Access Token")
        if not token or len(token) > signing.MAX_TOKEN_BYTES:
            raise invalid
        chosen: list[str] = []

        def known_key(header: dict[str, Any]) -> Any:
            # The token is parsed once; its header only names which of our keys to use.
            kid = header.get("kid")
            found = self.keys.known_public_key(kid) if isinstance(kid, str) else None
            if found is None:
                raise _UnknownKey
            chosen.append(found[0])
            return found[1]

        try:
            try:
                claims = signing.verify_with(token, known_key)
                pool_id = chosen[0]
            except _UnknownKey:
                pool_id, key = await self._load_key(token)
                claims = signing.verify_with(token, key)
        except signing.InvalidToken as exc:
            if "expired" in str(exc).lower():
                raise NotAuthorizedException("Access Token has expired") from None
            raise invalid from None
        if claims.get("iss") != self.issuer(pool_id):
            raise invalid
        if claims.get("exp", 0) <= self.clock.now():
            raise NotAuthorizedException("Access Token has expired")
        if claims.get("token_use") != token_use:
            raise invalid
        origin = claims.get("origin_jti")
        if isinstance(origin, str) and await self.store.cached_origin_revoked(origin):
            raise NotAuthorizedException("Access Token has been revoked")
        return claims
