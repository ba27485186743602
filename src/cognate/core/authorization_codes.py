"""Authorization codes: issued at the authorize endpoint, redeemed once at the token endpoint.

RFC 6749 section 4.1.2 ("The authorization code MUST expire shortly after it is issued
... A maximum authorization code lifetime of 10 minutes is RECOMMENDED ... The client
MUST NOT use the authorization code more than once. If an authorization code is used
more than once, the authorization server MUST deny the request and SHOULD revoke (when
possible) all tokens previously issued based on that authorization code. The
authorization code is bound to the client identifier and redirection URI."); Cognito:
"a one time use code that is valid for five minutes"; RFC 9700 section 4.5 (PKCE binds
the code to the challenge).

A code is a random 256-bit string; the store keeps only its SHA-256, in the TTL store,
and redeems it by an atomic read-and-delete, so two workers or nodes never both redeem
it. The tokens a code leads to share an ``origin_jti`` chosen when the code is issued:
a second redemption marks that origin reused and revokes its refresh-token family
(which revokes the ID and access tokens too). The redeemer checks the mark after it
has stored its refresh token, so whichever of the two comes first, the family dies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from cognate.core import ids
from cognate.core.clock import Clock
from cognate.core.entities import Client
from cognate.core.outcome import Authenticated
from cognate.errors import InvalidGrantError

KIND = "authorization-code"
ORIGIN_KIND = "authorization-code-origin"
REUSED_KIND = "authorization-code-reused"
CODE_TTL_S = 300
# How long a spent code is remembered, so that a late replay still revokes what it issued.
REMEMBER_S = 3600
CONSUMED = "Authorization code has been consumed already or does not exist."


class Store(Protocol):
    async def put(self, kind: str, key: str, doc: Mapping[str, Any], ttl_s: float) -> None: ...

    async def get(self, kind: str, key: str) -> dict[str, Any] | None: ...

    async def consume(self, kind: str, key: str) -> dict[str, Any] | None: ...

    async def revoke_refresh_family(self, origin_jti: str, now: float) -> None: ...


@dataclass(frozen=True)
class CodeGrant:
    """What a redeemed code was issued for."""

    pool_id: str
    client_id: str
    sub: str
    redirect_uri: str
    scopes: tuple[str, ...]
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    amr: tuple[str, ...]
    origin_jti: str


def _key(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class AuthorizationCodes:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def issue(
        self,
        auth: Authenticated,
        *,
        redirect_uri: str,
        scopes: tuple[str, ...],
        nonce: str | None = None,
        code_challenge: str | None = None,
        code_challenge_method: str | None = None,
    ) -> str:
        """A new single-use code for ``auth``, bound to its client, redirect_uri and PKCE challenge."""
        code = ids.opaque_token(32)
        key = _key(code)
        origin = ids.uuid4()
        now = self.clock.now()
        doc = {
            "pool_id": auth.pool.id,
            "client_id": auth.client.id,
            "sub": auth.user.sub,
            "redirect_uri": redirect_uri,
            "scopes": list(scopes),
            "nonce": nonce,
            "code_challenge": code_challenge,
            "code_challenge_method": code_challenge_method,
            "auth_time": int(auth.auth_time),
            "amr": list(auth.amr),
            "origin_jti": origin,
            # The expiry is decided on the core's clock; the store's TTL only collects garbage.
            "expires_at": now + CODE_TTL_S,
        }
        await self.store.put(ORIGIN_KIND, key, {"origin_jti": origin}, REMEMBER_S)
        await self.store.put(KIND, key, doc, CODE_TTL_S)
        return code

    async def redeem(self, code: str, client: Client, redirect_uri: str | None) -> CodeGrant:
        """Consume ``code`` for ``client``; any mismatch is ``invalid_grant`` and the code is spent.

        A code presented again (or after it expired) revokes the tokens its first
        redemption issued.
        """
        if not code or len(code) > 512:
            raise InvalidGrantError(CONSUMED)
        key = _key(code)
        doc = await self.store.consume(KIND, key)
        if doc is None:
            await self._replayed(key)
            raise InvalidGrantError(CONSUMED)
        if float(doc.get("expires_at", 0)) <= self.clock.now():
            raise InvalidGrantError(CONSUMED)
        # Bound to its client (Zitadel GHSA-xqxv-4jc2-x56x) and to its redirect_uri (RFC 6749 4.1.3).
        if doc["client_id"] != client.id or doc["pool_id"] != client.pool_id:
            raise InvalidGrantError(CONSUMED)
        if redirect_uri != doc["redirect_uri"]:
            raise InvalidGrantError("redirect_uri does not match the one the code was issued for.")
        return CodeGrant(
            pool_id=doc["pool_id"],
            client_id=doc["client_id"],
            sub=doc["sub"],
            redirect_uri=doc["redirect_uri"],
            scopes=tuple(doc["scopes"]),
            nonce=doc.get("nonce"),
            code_challenge=doc.get("code_challenge"),
            code_challenge_method=doc.get("code_challenge_method"),
            auth_time=int(doc["auth_time"]),
            amr=tuple(doc.get("amr") or ()),
            origin_jti=doc["origin_jti"],
        )

    async def _replayed(self, key: str) -> None:
        origin = await self.store.get(ORIGIN_KIND, key)
        if origin is None:
            return  # never issued, or forgotten long ago
        await self.store.put(REUSED_KIND, origin["origin_jti"], {"at": self.clock.now()}, REMEMBER_S)
        await self.store.revoke_refresh_family(origin["origin_jti"], self.clock.now())

    async def confirm(self, grant: CodeGrant) -> None:
        """After the tokens of ``grant`` are stored: refuse them if the code was replayed meanwhile."""
        if await self.store.get(REUSED_KIND, grant.origin_jti) is not None:
            await self.store.revoke_refresh_family(grant.origin_jti, self.clock.now())
            raise InvalidGrantError(CONSUMED)
