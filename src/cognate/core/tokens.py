"""Cognito's tokens: RS256 ID and access JWTs, opaque refresh tokens, and their checks.

Issuance is claims first (``build_claims`` -> ``TokenClaims``), then the pool's
PreTokenGeneration function (``Triggers.pre_token_generation``, which may add, change
or suppress claims), then ``sign``; client-credentials tokens (no user) take the same
path. Claims follow the Cognito developer guide ("Understanding the ID token", "Understanding
the access token"; claims as the guide lists them): the ID token carries ``sub``, ``iss``, ``aud``,
``token_use=id``, ``auth_time``, ``iat``, ``exp``, ``jti``, ``origin_jti``, ``event_id``,
``cognito:username``, ``cognito:groups`` (when the user has groups) and the user's
attributes the client may read; the access token carries ``client_id``, ``username``,
``scope`` and no ``aud``. Refresh tokens are random, stored only as SHA-256 hashes
(they carry 256 bits of entropy, so a fast hash is the right one), and revocable: all
tokens that share an ``origin_jti`` die with their refresh token.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

from cognate.core import ids
from cognate.core.clients import validity_seconds
from cognate.core.clock import Clock
from cognate.core.context import Door, RequestContext
from cognate.core.entities import Client, Group, Pool, RefreshToken, User
from cognate.core.groups import Groups
from cognate.core.keys import SigningKeys
from cognate.core.outcome import Authenticated
from cognate.core.token_overrides import TokenClaims
from cognate.core.triggers import Triggers
from cognate.crypto import signing
from cognate.errors import NotAuthorizedException, RefreshTokenReuseException
from cognate.store.base import Store

ADMIN_SCOPE = "aws.cognito.signin.user.admin"
BOOLEAN_CLAIMS = {"email_verified", "phone_number_verified"}
NUMBER_CLAIMS = {"updated_at"}


def _gives_id_token(record: RefreshToken) -> bool:
    """Whether refreshing ``record`` gives an ID token: as the grant that started its family did
    (an OAuth grant without ``openid`` gave none; the API's sign-ins always do)."""
    return bool(record.doc.get("id_token", True))


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
        self,
        store: Store,
        clock: Clock,
        keys: SigningKeys,
        groups: Groups,
        issuer_base: str,
        triggers: Triggers,
    ) -> None:
        self.triggers = triggers
        self.store = store
        self.clock = clock
        self.keys = keys
        self.groups = groups
        self._issuer_base = issuer_base  # "{public-url}" or "https://cognito-idp.{region}.amazonaws.com"

    def issuer(self, pool_id: str) -> str:
        return f"{self._issuer_base}/{pool_id}"

    # --- issuing -------------------------------------------------------------------

    async def complete(self, ctx: RequestContext, auth: Authenticated) -> Issued:
        """The AWS door's end of a sign-in: ID, access and refresh tokens for ``auth``.

        After a refresh token, the tokens are issued again within its family (same
        ``auth_time``, scopes and ``origin_jti``); with the client's RefreshTokenRotation
        on, a new refresh token replaces the one presented.
        """
        pool, client, user = auth.pool, auth.client, auth.user
        if auth.refresh is not None:
            rotation = client.doc.get("RefreshTokenRotation") or {}
            if rotation.get("Feature") != "ENABLED":
                if auth.refresh.rotated_at is not None:
                    # Replaced while rotation was on: turning rotation off revives nothing.
                    raise NotAuthorizedException("Invalid Refresh Token")
                return await self.reissue(pool, client, user, auth.refresh, ctx=ctx)
            grace = float(rotation.get("RetryGracePeriodSeconds") or 0)
            return await self.rotate(pool, client, user, auth.refresh, grace, ctx=ctx)
        return await self.issue(
            pool,
            client,
            user,
            auth_time=auth.auth_time,
            scopes=list(auth.scopes) if auth.scopes is not None else None,
            amr=auth.amr,
            ctx=ctx,
            source=auth.token_source,
        )

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

    def build_claims(
        self,
        pool: Pool,
        client: Client,
        user: User | None,
        *,
        now: int,
        auth_time: int,
        scopes: list[str],
        groups: list[str],
        origin_jti: str | None,
        with_id_token: bool,
        nonce: str | None = None,
    ) -> TokenClaims:
        """The claims of one issuance, nothing signed yet.

        With a user: Cognito's ID token (unless ``with_id_token`` is false) and access
        token of one ``origin_jti`` family. Without one (client credentials): only an
        access token whose ``sub`` is the client (developer guide, "Scopes, M2M, and
        resource servers").
        """
        access_ttl = validity_seconds(client.doc, "AccessToken")
        jti = ids.uuid4()
        if user is None:
            return TokenClaims(
                id=None,
                access={
                    "sub": client.id,
                    "token_use": "access",
                    "scope": " ".join(scopes),
                    "auth_time": auth_time,
                    "iss": self.issuer(pool.id),
                    "exp": now + access_ttl,
                    "iat": now,
                    "version": 2,
                    "jti": jti,
                    "client_id": client.id,
                },
            )
        origin = origin_jti or ids.uuid4()
        event_id = ids.uuid4()
        common = {
            "iss": self.issuer(pool.id),
            "origin_jti": origin,
            "event_id": event_id,
            "auth_time": auth_time,
        }
        access: dict[str, Any] = {"sub": user.sub}
        if groups:
            access["cognito:groups"] = groups
        access.update(
            {
                "iss": common["iss"],
                "client_id": client.id,
                "origin_jti": origin,
                "event_id": event_id,
                "token_use": "access",
                "scope": " ".join(scopes),
                "auth_time": auth_time,
                "exp": now + access_ttl,
                "iat": now,
                "jti": jti,
                "username": user.username,
            }
        )
        id_claims = None
        if with_id_token:
            id_claims = self._id_claims(pool, client, user, groups)
            id_claims.update(common)
            if nonce:
                id_claims["nonce"] = nonce
            id_claims.update(
                {"exp": now + validity_seconds(client.doc, "IdToken"), "iat": now, "jti": ids.uuid4()}
            )
        return TokenClaims(id=id_claims, access=access)

    async def sign(self, pool: Pool, claims: TokenClaims) -> tuple[str | None, str]:
        """(ID token or None, access token), each signed with the pool's key for its use."""
        keys = await self.keys.get(pool.id)
        id_token = keys.signers["id"].sign(claims.id) if claims.id is not None else None
        return id_token, keys.signers["access"].sign(claims.access)

    async def _mint(
        self,
        ctx: RequestContext | None,
        pool: Pool,
        client: Client,
        user: User | None,
        source: str,
        **build: Any,
    ) -> tuple[TokenClaims, str | None, str]:
        """Claims, then the PreTokenGeneration function (which may change them), then signatures."""
        now = int(self.clock.now())
        groups: list[str] = []
        if user is not None:
            groups = [
                g.name for g in precedence_order(await self.store.cached_groups_of_user(pool.id, user.sub))
            ]
        claims = self.build_claims(pool, client, user, now=now, groups=groups, **build)
        claims = await self.triggers.pre_token_generation(
            ctx or RequestContext(Door.OAUTH), pool, client, user, source, claims, groups
        )
        id_token, access = await self.sign(pool, claims)
        return claims, id_token, access

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
        amr: tuple[str, ...] = (),
        ctx: RequestContext | None = None,
        source: str | None = None,
    ) -> Issued:
        """Sign an ID and an access token; with ``with_refresh``, start a refresh-token family.

        ``source`` is PreTokenGeneration's ``triggerSource``: by default
        ``TokenGeneration_HostedAuth`` for the OAuth door and the hosted pages (and when no
        context is given), ``TokenGeneration_Authentication`` for the AWS API.
        """
        if source is None:
            aws = ctx is not None and ctx.door in (Door.AWS, Door.ADMIN)
            source = "TokenGeneration_Authentication" if aws else "TokenGeneration_HostedAuth"
        scope_list = scopes if scopes is not None else [ADMIN_SCOPE]
        claims, id_token, access = await self._mint(
            ctx,
            pool,
            client,
            user,
            source,
            auth_time=auth_time,
            scopes=scope_list,
            origin_jti=origin_jti,
            with_id_token=with_id_token,
            nonce=nonce,
        )
        refresh = None
        if with_refresh:
            refresh = ids.opaque_token(48)
            origin = str(claims.access["origin_jti"])
            await self.store.insert_refresh_token(
                self.refresh_record(
                    pool, client, user, refresh, origin, auth_time, scope_list, amr, id_token=with_id_token
                )
            )
        expires_in = validity_seconds(client.doc, "AccessToken")
        return Issued(id_token=id_token, access_token=access, expires_in=expires_in, refresh_token=refresh)

    async def client_credentials(
        self, ctx: RequestContext, pool: Pool, client: Client, scopes: list[str]
    ) -> Issued:
        """An access token for the client itself (the ``client_credentials`` grant).

        No user, no ID token, no refresh token; the same claims-then-sign path, so a
        PreTokenGeneration function of version 3 sees it (``TokenGeneration_ClientCredentials``).
        """
        _, _, access = await self._mint(
            ctx,
            pool,
            client,
            None,
            "TokenGeneration_ClientCredentials",
            auth_time=int(self.clock.now()),
            scopes=scopes,
            origin_jti=None,
            with_id_token=False,
        )
        return Issued(
            id_token=None, access_token=access, expires_in=validity_seconds(client.doc, "AccessToken")
        )

    async def reissue(
        self,
        pool: Pool,
        client: Client,
        user: User,
        record: RefreshToken,
        *,
        ctx: RequestContext | None = None,
    ) -> Issued:
        """New ID and access tokens in a refresh token's family (``auth_time`` and scopes kept)."""
        return await self.issue(
            pool,
            client,
            user,
            auth_time=int(record.doc["auth_time"]),
            scopes=list(record.doc.get("scopes") or [ADMIN_SCOPE]),
            origin_jti=record.origin_jti,
            with_refresh=False,
            with_id_token=_gives_id_token(record),
            ctx=ctx,
            source="TokenGeneration_RefreshTokens",
        )

    async def rotate(
        self,
        pool: Pool,
        client: Client,
        user: User,
        record: RefreshToken,
        grace_s: float,
        *,
        ctx: RequestContext | None = None,
    ) -> Issued:
        """Refresh-token rotation: a new refresh token replaces ``record`` (atomically, once).

        Exactly one request wins the rotation (one conditional UPDATE, across workers and
        nodes). With ``RetryGracePeriodSeconds`` 0 every other request presenting the
        token is a reuse (``RefreshTokenReuseException``, API reference,
        RefreshTokenRotationType), even one that started before the winner finished. With
        a grace period, a retry made within the period after the rotation (measured when
        the retry is decided, never before) gets tokens again; its new refresh token joins
        the same family (``origin_jti``), so revoking any of them revokes them all.
        """
        reuse = RefreshTokenReuseException("Refresh token has already been used.")
        now = self.clock.now()
        if record.rotated_at is not None and (grace_s <= 0 or now - record.rotated_at > grace_s):
            raise reuse
        issued = await self.reissue(pool, client, user, record, ctx=ctx)
        new_token = ids.opaque_token(48)
        new_record = self.refresh_record(
            pool,
            client,
            user,
            new_token,
            record.origin_jti,
            int(record.doc["auth_time"]),
            record.doc.get("scopes") or [ADMIN_SCOPE],
            tuple(record.doc.get("amr") or ()),
            id_token=_gives_id_token(record),
        )
        if record.rotated_at is None and await self.store.rotate_refresh_token(
            record.token_hash, new_record, now
        ):
            return replace(issued, refresh_token=new_token)
        # Rotated already (perhaps by a twin request on another worker): a retry, or a reuse.
        if grace_s <= 0:
            raise reuse
        current = await self.store.get_refresh_token(record.token_hash)
        if (
            current is None
            or current.rotated_at is None
            or current.revoked_at is not None
            or self.clock.now() - current.rotated_at > grace_s
        ):
            raise reuse
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
        amr: tuple[str, ...] = (),
        *,
        id_token: bool = True,
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
            doc={
                "auth_time": auth_time,
                "scopes": scopes,
                "username": user.username,
                "amr": list(amr),
                "id_token": id_token,
            },
        )

    # --- checking --------------------------------------------------------------------

    async def _load_key(self, token: str) -> tuple[str, Any]:
        """The pool and key for a kid this process has not cached: the pool comes from the
        (unverified) issuer, the key only from that pool's own key set.

        Nothing is created here: an issuer that is not exactly one of our pools', or a
        pool that does not exist, is refused before any key is read.
        """
        invalid = signing.InvalidToken("unknown key")
        header = signing.unverified_header(token)
        kid = header.get("kid")
        iss = signing.unverified_claims(token).get("iss")
        if not isinstance(kid, str) or not isinstance(iss, str) or "/" not in iss or len(kid) > 128:
            raise invalid
        pool_id = iss.rsplit("/", 1)[1]
        if iss != self.issuer(pool_id) or await self.store.cached_pool(pool_id) is None:
            raise invalid
        key = await self.keys.public_key(pool_id, kid)
        if key is None:
            raise invalid
        return pool_id, key

    async def lookup_refresh(self, token: str) -> RefreshToken | None:
        """The stored record of a refresh token in any state (introspection, revocation)."""
        if not token or len(token) > 4096:
            return None
        return await self.store.get_refresh_token(refresh_hash(token))

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
