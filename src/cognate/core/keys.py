"""Per-pool RS256 signing keys: one for ID tokens, one for access tokens (Cognito signs
them with different keys), sealed at rest with the master key.

Rotation (``cognate keys rotate``) adds a new pair and retires the old one; a retired
key stays in the JWKS until every token it signed has expired (at most one day, the
longest ID/access token validity). Parsed keys are cached per process for
``CACHE_TTL_S`` seconds: that is the bound (docs/deployment.md) within which a rotation
made by another process or node is served in this process's JWKS and used for signing
here. A ``kid`` not in the cache triggers a reload, so verifiers see it at once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from cognate.core.clock import Clock
from cognate.core.entities import SigningKey
from cognate.crypto import signing
from cognate.crypto.sealing import Sealer
from cognate.store.base import KeyStore

PURPOSE = "signing-key"
PURPOSES = ("id", "access")
MAX_TOKEN_LIFETIME_S = 86400  # the longest ID/access token validity
CACHE_TTL_S = 5.0  # how long a rotation elsewhere may go unseen here (tests/api/test_key_propagation.py)


@dataclass(frozen=True)
class PoolKeys:
    signers: dict[str, signing.Signer]  # purpose -> newest active key
    public: dict[str, Any]  # kid -> public key object (for verification)
    jwks: list[dict[str, Any]]
    loaded: float


class SigningKeys:
    def __init__(self, store: KeyStore, clock: Clock, sealer: Sealer) -> None:
        self.store = store
        self.clock = clock
        self.sealer = sealer
        self._cache: dict[str, PoolKeys] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._kid_pool: dict[str, str] = {}  # every kid seen -> its pool (kids are thumbprints)
        # Parsed keys by kid: a reload after the cache lifetime re-reads rows, not PEMs.
        self._parsed_private: dict[str, signing.Signer] = {}
        self._parsed_public: dict[str, Any] = {}

    async def _new_pair(self, pool_id: str) -> list[SigningKey]:
        now = self.clock.now()
        out = []
        for purpose in PURPOSES:
            pem = await asyncio.to_thread(signing.generate_private_pem)
            jwk = signing.public_jwk(pem)
            out.append(
                SigningKey(
                    kid=jwk["kid"],
                    pool_id=pool_id,
                    purpose=purpose,
                    private_pem_enc=self.sealer.seal(pem, PURPOSE),
                    public_jwk=jwk,
                    created=now,
                )
            )
        return out

    async def _load(self, pool_id: str, *, create: bool = True) -> PoolKeys:
        rows = await self.store.signing_keys(pool_id)
        if not any(r.retired is None for r in rows):
            if not create:
                # Verifying never makes keys (nor caches their absence as a key set).
                return PoolKeys(signers={}, public={}, jwks=[], loaded=self.clock.now())
            await self.store.insert_first_keys(pool_id, await self._new_pair(pool_id))
            rows = await self.store.signing_keys(pool_id)
        now = self.clock.now()
        signers: dict[str, signing.Signer] = {}
        public: dict[str, Any] = {}
        jwks: list[dict[str, Any]] = []
        for row in rows:  # oldest first: the newest active key wins
            if row.retired is not None and row.retired + MAX_TOKEN_LIFETIME_S < now:
                continue
            jwks.append(row.public_jwk)
            if row.kid not in self._parsed_public:
                self._parsed_public.update(signing.load_public_keys([row.public_jwk]))
            public[row.kid] = self._parsed_public[row.kid]
            if row.retired is None:
                if row.kid not in self._parsed_private:
                    pem = self.sealer.unseal(row.private_pem_enc, PURPOSE)
                    self._parsed_private[row.kid] = signing.Signer.from_pem(row.kid, pem)
                signers[row.purpose] = self._parsed_private[row.kid]
        keys = PoolKeys(signers=signers, public=public, jwks=jwks, loaded=now)
        self._cache[pool_id] = keys
        for kid in public:
            self._kid_pool[kid] = pool_id
        return keys

    async def get(self, pool_id: str, *, fresh: bool = False) -> PoolKeys:
        cached = self._cache.get(pool_id)
        if not fresh and cached and self.clock.now() - cached.loaded < CACHE_TTL_S:
            return cached
        lock = self._locks.setdefault(pool_id, asyncio.Lock())
        async with lock:
            cached = self._cache.get(pool_id)
            if not fresh and cached and self.clock.now() - cached.loaded < CACHE_TTL_S:
                return cached
            return await self._load(pool_id)

    def known_public_key(self, kid: str) -> tuple[str, Any] | None:
        """(pool, key) for a kid in a pool's current key set, from this process's cache only."""
        pool_id = self._kid_pool.get(kid)
        cached = self._cache.get(pool_id) if pool_id else None
        if pool_id is None or cached is None or self.clock.now() - cached.loaded >= CACHE_TTL_S:
            return None
        key = cached.public.get(kid)
        return (pool_id, key) if key is not None else None

    async def public_key(self, pool_id: str, kid: str) -> Any | None:
        """The verification key ``kid`` of an existing pool's own key set; never creates keys.

        A kid unknown to the cache re-reads the pool's rows once (a rotation made by
        another process); the caller has checked that the pool exists.
        """
        cached = self._cache.get(pool_id)
        if cached is not None and self.clock.now() - cached.loaded < CACHE_TTL_S and kid in cached.public:
            return cached.public[kid]
        lock = self._locks.setdefault(pool_id, asyncio.Lock())
        async with lock:
            keys = await self._load(pool_id, create=False)
        return keys.public.get(kid)

    async def rotate(self, pool_id: str) -> list[str]:
        """Add a new key pair and retire the current one; returns the new kids."""
        await self.get(pool_id)  # make sure a first pair exists
        pair = await self._new_pair(pool_id)
        await self.store.rotate_signing_keys(pair, self.clock.now())
        self._cache.pop(pool_id, None)
        return [k.kid for k in pair]
