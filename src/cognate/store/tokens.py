"""Refresh tokens (hashed, rotated, revoked by family) and the pools' signing keys (sealed).

API reference: InitiateAuth REFRESH_TOKEN_AUTH, GetTokensFromRefreshToken (rotation),
RevokeToken, GlobalSignOut / AdminUserGlobalSignOut. A refresh token is kept only as
its hash; rotation and revocation are single conditional statements, so two workers
never both rotate one token. Signing keys are stored sealed with the master key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, fields, replace
from typing import Any

import sqlalchemy as sa

from cognate.core.entities import RefreshToken, SigningKey
from cognate.store import schema as t
from cognate.store.base import Tx
from cognate.store.engine import Database, prepared

# Access and ID tokens live at most one day (Cognito's limit); a revoked refresh-token
# family is kept that long past its expiry so ``origin_revoked`` still refuses them.
REVOCATION_HORIZON_S = 86400.0

# A retired signing key is served in the JWKS for a day (core/keys.py: the longest ID or
# access token validity); its row is kept twice that, then removed.
RETIRED_KEY_HORIZON_S = 2 * 86400.0

_RT = t.refresh_tokens.c
_REFRESH_FIELDS = fields(RefreshToken)
_REFRESH_BY_HASH = prepared(t.refresh_tokens.select().where(_RT.token_hash == sa.bindparam("b_hash")))
_INSERT_REFRESH = prepared(
    t.refresh_tokens.insert().values(
        {c.name: sa.bindparam(f"b_{c.name}", type_=c.type) for c in t.refresh_tokens.columns}
    )
)
_ORIGIN_REVOKED = prepared(
    sa.select(_RT.revoked_at)
    .where(_RT.origin_jti == sa.bindparam("b_origin_jti"), _RT.revoked_at.is_not(None))
    .limit(1)
)


class TokenRows(Database):
    @staticmethod
    async def _purge_refresh_tokens(conn: Any, now: float) -> int:
        """Expired refresh tokens (a revoked family's are kept a day longer, see above)."""
        rt = t.refresh_tokens.c
        res = await conn.execute(
            t.refresh_tokens.delete().where(
                rt.expires <= now,
                sa.or_(rt.revoked_at.is_(None), rt.expires <= now - REVOCATION_HORIZON_S),
            )
        )
        return int(res.rowcount or 0)

    @staticmethod
    async def _purge_signing_keys(conn: Any, now: float) -> int:
        """Signing keys retired more than ``RETIRED_KEY_HORIZON_S`` ago (never an active one)."""
        sk = t.signing_keys.c
        res = await conn.execute(
            t.signing_keys.delete().where(sk.retired.is_not(None), sk.retired <= now - RETIRED_KEY_HORIZON_S)
        )
        return int(res.rowcount or 0)

    # --- refresh tokens -----------------------------------------------------------

    @staticmethod
    def _refresh(row: Any) -> RefreshToken:
        return RefreshToken(
            token_hash=row.token_hash,
            pool_id=row.pool_id,
            client_id=row.client_id,
            sub=row.sub,
            origin_jti=row.origin_jti,
            created=row.created,
            expires=row.expires,
            doc=row.doc,
            revoked_at=row.revoked_at,
            rotated_at=row.rotated_at,
        )

    async def insert_refresh_token(self, rt: RefreshToken) -> None:
        async with self.write(single=True) as conn:
            # The fields as they are (asdict would deep-copy the document, then it is serialised anyway).
            params = {f"b_{f.name}": getattr(rt, f.name) for f in _REFRESH_FIELDS}
            await conn.execute(_INSERT_REFRESH, params)

    async def get_refresh_token(self, token_hash: str) -> RefreshToken | None:
        async with self.read() as conn:
            row = (await conn.execute(_REFRESH_BY_HASH, {"b_hash": token_hash})).first()
        return self._refresh(row) if row else None

    async def rotate_refresh_token(self, old_hash: str, new: RefreshToken, now: float) -> bool:
        """Mark ``old_hash`` rotated (only if it was not already) and store ``new``: atomically."""
        async with self.write() as conn:
            res = await conn.execute(
                t.refresh_tokens.update()
                .where(
                    t.refresh_tokens.c.token_hash == old_hash,
                    t.refresh_tokens.c.rotated_at.is_(None),
                    t.refresh_tokens.c.revoked_at.is_(None),
                )
                .values(rotated_at=now)
            )
            if res.rowcount != 1:
                return False
            fresh = replace(new, revoked_at=None, rotated_at=None)
            await conn.execute(t.refresh_tokens.insert().values(**asdict(fresh)))
        return True

    async def revoke_refresh_family(self, origin_jti: str, now: float) -> None:
        async with self.write() as conn:
            await conn.execute(
                t.refresh_tokens.update()
                .where(t.refresh_tokens.c.origin_jti == origin_jti, t.refresh_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )

    async def origin_revoked(self, origin_jti: str) -> bool:
        async with self.read() as conn:
            return (await conn.execute(_ORIGIN_REVOKED, {"b_origin_jti": origin_jti})).first() is not None

    async def sign_out_user(self, pool_id: str, sub: str, now: float, *, tx: Tx | None = None) -> None:
        """Revoke every refresh token of the user and refuse tokens issued before ``now``."""
        async with self.write(tx) as conn:
            await conn.execute(
                t.refresh_tokens.update()
                .where(
                    t.refresh_tokens.c.pool_id == pool_id,
                    t.refresh_tokens.c.sub == sub,
                    t.refresh_tokens.c.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )
            await conn.execute(t.users.update().where(t.users.c.sub == sub).values(tokens_valid_after=now))

    # --- signing keys --------------------------------------------------------------

    async def insert_signing_key(self, key: SigningKey) -> None:
        async with self.write() as conn:
            await conn.execute(t.signing_keys.insert().values(**asdict(key)))

    async def rotate_signing_keys(self, new_keys: Sequence[SigningKey], now: float) -> None:
        """Retire the pool's current keys of the new keys' purposes and add the new ones."""
        async with self.write() as conn:
            for key in new_keys:
                await conn.execute(
                    t.signing_keys.update()
                    .where(
                        t.signing_keys.c.pool_id == key.pool_id,
                        t.signing_keys.c.purpose == key.purpose,
                        t.signing_keys.c.retired.is_(None),
                    )
                    .values(retired=now)
                )
                await conn.execute(t.signing_keys.insert().values(**asdict(replace(key, retired=None))))

    async def signing_keys(self, pool_id: str) -> list[SigningKey]:
        q = (
            t.signing_keys.select()
            .where(t.signing_keys.c.pool_id == pool_id)
            .order_by(t.signing_keys.c.created)
        )
        async with self.read() as conn:
            return [_signing_key(r) for r in await conn.execute(q)]

    async def newest_signing_key(self) -> SigningKey | None:
        """The newest signing key of any pool (what a start-up checks the master key against)."""
        q = t.signing_keys.select().order_by(t.signing_keys.c.created.desc()).limit(1)
        async with self.read() as conn:
            row = (await conn.execute(q)).first()
        return _signing_key(row) if row is not None else None

    async def insert_first_keys(self, pool_id: str, keys: Sequence[SigningKey]) -> bool:
        """Insert ``keys`` only if the pool has no active key yet (two workers may race)."""
        K = t.signing_keys.c
        async with self.write() as conn:
            if not self.is_sqlite:
                await conn.execute(sa.select(t.pools.c.id).where(t.pools.c.id == pool_id).with_for_update())
            found = (
                await conn.execute(sa.select(K.kid).where(K.pool_id == pool_id, K.retired.is_(None)).limit(1))
            ).first()
            if found is not None:
                return False
            for key in keys:
                await conn.execute(t.signing_keys.insert().values(**asdict(replace(key, retired=None))))
        return True


def _signing_key(r: Any) -> SigningKey:
    return SigningKey(
        kid=r.kid,
        pool_id=r.pool_id,
        purpose=r.purpose,
        private_pem_enc=r.private_pem_enc,
        public_jwk=r.public_jwk,
        created=r.created,
        retired=r.retired,
    )
