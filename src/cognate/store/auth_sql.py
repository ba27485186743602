"""Storage for sign-in: the atomic failed-attempt counter and first-key creation.

Kept beside ``sql.Store`` (sharing its engines and transactions). Each method is one
write transaction that holds the row lock while it decides -- ``BEGIN IMMEDIATE`` on
SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL -- so concurrent attempts on several
workers or nodes are counted one by one and none slips past a lockout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from cognate.core.entities import SigningKey
from cognate.store import schema as t
from cognate.store.sql import Store


@dataclass(frozen=True)
class Attempt:
    allowed: bool  # False: the user is locked out now; nothing was counted
    failures: int  # attempts counted in the current window, this one included
    locked_until: float


class AuthStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def begin_attempt(
        self,
        pool_id: str,
        user_key: str,
        now: float,
        quiet_s: float,
        lock_for: Callable[[int], float],
    ) -> Attempt:
        """Count a sign-in attempt before the password is checked.

        During a lockout nothing is counted (Cognito: such attempts "don't affect the
        duration of subsequent lockout periods"). After ``quiet_s`` quiet seconds the
        count restarts. When the new count reaches the threshold, ``lock_for(count)``
        seconds of lockout start at once, so concurrent attempts see it.
        A successful check calls ``clear`` and forgets the count.
        """
        L = t.lockouts.c
        where = (L.pool_id == pool_id, L.user_key == user_key)
        async with self.store.write() as conn:
            select = sa.select(L.failures, L.locked_until, L.last_failure).where(*where)
            if not self.store.is_sqlite:
                select = select.with_for_update()
            row = (await conn.execute(select)).first()
            if row is None:
                try:
                    async with conn.begin_nested():
                        await conn.execute(
                            t.lockouts.insert().values(
                                pool_id=pool_id,
                                user_key=user_key,
                                failures=0,
                                locked_until=0.0,
                                last_failure=0.0,
                            )
                        )
                except IntegrityError:
                    pass
                row = (await conn.execute(select)).first()
            assert row is not None
            if row.locked_until > now:
                return Attempt(False, row.failures, row.locked_until)
            failures = 1 if now - row.last_failure > quiet_s else row.failures + 1
            locked_until = now + lock_for(failures) if lock_for(failures) > 0 else 0.0
            await conn.execute(
                t.lockouts.update()
                .where(*where)
                .values(failures=failures, locked_until=locked_until, last_failure=now)
            )
        return Attempt(True, failures, locked_until)

    async def clear(self, pool_id: str, user_key: str) -> None:
        L = t.lockouts.c
        async with self.store.write() as conn:
            await conn.execute(t.lockouts.delete().where(L.pool_id == pool_id, L.user_key == user_key))

    async def insert_first_keys(self, pool_id: str, keys: Sequence[SigningKey]) -> bool:
        """Insert ``keys`` only if the pool has no active key yet (two workers may race)."""
        K = t.signing_keys.c
        async with self.store.write() as conn:
            if not self.store.is_sqlite:
                await conn.execute(sa.select(t.pools.c.id).where(t.pools.c.id == pool_id).with_for_update())
            found = (
                await conn.execute(sa.select(K.kid).where(K.pool_id == pool_id, K.retired.is_(None)).limit(1))
            ).first()
            if found is not None:
                return False
            for key in keys:
                await conn.execute(
                    t.signing_keys.insert().values(
                        kid=key.kid,
                        pool_id=key.pool_id,
                        purpose=key.purpose,
                        private_pem_enc=key.private_pem_enc,
                        public_jwk=key.public_jwk,
                        created=key.created,
                        retired=None,
                    )
                )
        return True
