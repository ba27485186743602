"""Storage for sign-in: the atomic failed-attempt counter and first-key creation.

Kept beside ``sql.Store`` (sharing its engines and transactions). Each method is one
write transaction that holds the row lock while it decides -- ``BEGIN IMMEDIATE`` on
SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL -- so concurrent attempts on several
workers or nodes are counted one by one and none slips past a lockout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from cognate.core.entities import SigningKey
from cognate.store import schema as t
from cognate.store.sql import Store


class Verdict(StrEnum):
    ALLOWED = "allowed"  # counted as in flight; call finish_attempt afterwards
    LOCKED = "locked"  # locked out now; nothing was counted
    WAIT = "wait"  # enough attempts are in flight to reach the threshold: try again shortly


@dataclass(frozen=True)
class Attempt:
    verdict: Verdict
    failures: int
    locked_until: float


# An attempt in flight for longer than this belonged to a worker that died.
PENDING_STALE_S = 60.0


class AuthStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def _locked_row(self, conn: Any, pool_id: str, user_key: str) -> Any:
        L = t.lockouts.c
        select = sa.select(L.failures, L.locked_until, L.last_failure, L.pending, L.pending_since).where(
            L.pool_id == pool_id, L.user_key == user_key
        )
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
                            pending=0,
                            pending_since=0.0,
                        )
                    )
            except IntegrityError:
                pass
            row = (await conn.execute(select)).first()
        return row

    async def begin_attempt(
        self, pool_id: str, user_key: str, now: float, quiet_s: float, threshold: int
    ) -> Attempt:
        """Admit a sign-in attempt before its password is checked.

        During a lockout nothing is counted (Cognito: such attempts "don't affect the
        duration of subsequent lockout periods"). Failures older than ``quiet_s`` are
        forgotten. Attempts in flight count toward the threshold until they finish, so
        concurrent guesses on any number of workers can never have more than
        ``threshold`` passwords checked before the lockout starts; a further attempt
        is told to wait until one finishes (a right password then goes through).
        """
        L = t.lockouts.c
        async with self.store.write() as conn:
            row = await self._locked_row(conn, pool_id, user_key)
            if row.locked_until > now:
                return Attempt(Verdict.LOCKED, row.failures, row.locked_until)
            failures = row.failures if now - row.last_failure <= quiet_s else 0
            pending = row.pending if now - row.pending_since <= PENDING_STALE_S else 0
            if pending > 0 and failures + pending >= threshold:
                # At the threshold, attempts are checked one at a time: the next one waits
                # for the outcome (and the lockout) of the one in flight.
                return Attempt(Verdict.WAIT, failures, row.locked_until)
            await conn.execute(
                t.lockouts.update()
                .where(L.pool_id == pool_id, L.user_key == user_key)
                .values(failures=failures, pending=pending + 1, pending_since=now)
            )
        return Attempt(Verdict.ALLOWED, failures, row.locked_until)

    async def finish_attempt(
        self,
        pool_id: str,
        user_key: str,
        now: float,
        *,
        success: bool,
        quiet_s: float,
        lock_for: Callable[[int], float],
    ) -> Attempt:
        """Record the outcome: a success forgets the failures; a failure counts and may lock."""
        L = t.lockouts.c
        async with self.store.write() as conn:
            row = await self._locked_row(conn, pool_id, user_key)
            pending = max(0, row.pending - 1)
            if success:
                failures, locked_until, last_failure = 0, 0.0, row.last_failure
            else:
                failures = (row.failures if now - row.last_failure <= quiet_s else 0) + 1
                last_failure = now
                lock = lock_for(failures)
                locked_until = max(row.locked_until, now + lock) if lock > 0 else row.locked_until
            await conn.execute(
                t.lockouts.update()
                .where(L.pool_id == pool_id, L.user_key == user_key)
                .values(
                    failures=failures, locked_until=locked_until, last_failure=last_failure, pending=pending
                )
            )
        return Attempt(Verdict.ALLOWED, failures, locked_until)

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
