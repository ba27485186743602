"""Storage for sign-in: the atomic failed-attempt counter and first-key creation.

Kept beside ``sql.Store`` (sharing its engines and transactions). Each method is one
write transaction that holds the row lock while it decides -- ``BEGIN IMMEDIATE`` on
SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL -- so concurrent attempts on several
workers or nodes are counted one by one and none slips past a lockout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

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
    """The statements are built once, with bound parameters: building a statement with
    these CASE expressions costs more than running it on SQLite."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._begin = self._begin_statement()
        self._state = sa.select(t.lockouts.c.failures, t.lockouts.c.locked_until).where(
            t.lockouts.c.pool_id == sa.bindparam("b_pool_id"),
            t.lockouts.c.user_key == sa.bindparam("b_user_key"),
        )
        self._success = self._finish_statement(None)
        self._failures: dict[Callable[[int], float], Any] = {}

    def _begin_statement(self) -> Any:
        L = t.lockouts.c
        now: Any = sa.bindparam("b_now", type_=sa.Float)
        quiet: Any = sa.bindparam("b_quiet_s", type_=sa.Float)
        threshold: Any = sa.bindparam("b_threshold", type_=sa.Integer)
        failures = sa.case((now - L.last_failure <= quiet, L.failures), else_=0)
        pending = sa.case((now - L.pending_since <= PENDING_STALE_S, L.pending), else_=0)
        admit = sa.and_(L.locked_until <= now, sa.or_(pending == 0, failures + pending < threshold))
        return (
            self.store._insert(t.lockouts)
            .values(
                pool_id=sa.bindparam("b_pool_id"),
                user_key=sa.bindparam("b_user_key"),
                failures=0,
                locked_until=0.0,
                last_failure=0.0,
                pending=1,
                pending_since=now,
            )
            .on_conflict_do_update(
                index_elements=[L.pool_id, L.user_key],
                set_={"failures": failures, "pending": pending + 1, "pending_since": now},
                where=admit,
            )
            .returning(L.failures, L.locked_until)
        )

    def _finish_statement(self, lock_for: Callable[[int], float] | None) -> Any:
        """The outcome's UPDATE: success (``lock_for`` None) or failure with its lockout CASE."""
        L = t.lockouts.c
        now: Any = sa.bindparam("b_now", type_=sa.Float)
        quiet: Any = sa.bindparam("b_quiet_s", type_=sa.Float)
        values: dict[str, Any] = {"pending": sa.case((L.pending > 0, L.pending - 1), else_=0)}
        if lock_for is None:
            values.update(failures=0, locked_until=0.0)
        else:
            greatest = sa.func.max if self.store.is_sqlite else sa.func.greatest
            counted = sa.case((now - L.last_failure <= quiet, L.failures), else_=0) + 1
            steps = _lock_steps(lock_for)
            values.update(
                failures=counted,
                last_failure=now,
                locked_until=sa.case(
                    *[(counted == n, greatest(L.locked_until, now + lock_for(n))) for n in steps],
                    (counted > max(steps or [0]), now + _longest(lock_for)),
                    else_=L.locked_until,
                ),
            )
        return (
            t.lockouts.update()
            .where(L.pool_id == sa.bindparam("b_pool_id"), L.user_key == sa.bindparam("b_user_key"))
            .values(**values)
            .returning(L.failures, L.locked_until)
        )

    async def begin_attempt(
        self, pool_id: str, user_key: str, now: float, quiet_s: float, threshold: int
    ) -> Attempt:
        """Admit a sign-in attempt before its password is checked.

        During a lockout nothing is counted (Cognito: such attempts "don't affect the
        duration of subsequent lockout periods"). Failures older than ``quiet_s`` are
        forgotten. Attempts in flight count toward the threshold until they finish, so
        concurrent guesses on any number of workers can never have more than
        ``threshold`` passwords checked before the lockout starts; at the threshold a
        further attempt is told to wait until the one in flight finishes.

        One upsert decides and counts (its WHERE is the admission rule), so the row is
        never read and written in two steps.
        """
        params = {
            "b_pool_id": pool_id,
            "b_user_key": user_key,
            "b_now": now,
            "b_quiet_s": quiet_s,
            "b_threshold": threshold,
        }
        async with self.store.write() as conn:
            row = (await conn.execute(self._begin, params)).first()
            if row is not None:
                return Attempt(Verdict.ALLOWED, row.failures, row.locked_until)
            state = (await conn.execute(self._state, {"b_pool_id": pool_id, "b_user_key": user_key})).one()
        if state.locked_until > now:
            return Attempt(Verdict.LOCKED, state.failures, state.locked_until)
        return Attempt(Verdict.WAIT, state.failures, state.locked_until)

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
        """Record the outcome in one statement: a success forgets the failures; a failure
        counts and may lock (``lock_for(n)`` seconds, written out as a CASE over n)."""
        if success:
            stmt = self._success
        else:
            if lock_for not in self._failures:
                self._failures[lock_for] = self._finish_statement(lock_for)
            stmt = self._failures[lock_for]
        params = {"b_pool_id": pool_id, "b_user_key": user_key, "b_now": now, "b_quiet_s": quiet_s}
        async with self.store.write() as conn:
            row = (await conn.execute(stmt, params)).first()
        if row is None:
            return Attempt(Verdict.ALLOWED, 0, 0.0)
        return Attempt(Verdict.ALLOWED, row.failures, row.locked_until)

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
                await conn.execute(t.signing_keys.insert().values(**asdict(replace(key, retired=None))))
        return True


def _lock_steps(lock_for: Callable[[int], float]) -> list[int]:
    """The failure counts at which the lockout grows (it stops growing at its ceiling)."""
    steps: list[int] = []
    previous = 0.0
    for n in range(1, 64):
        seconds = lock_for(n)
        if seconds > 0:
            steps.append(n)
            if seconds == previous:
                break
        previous = seconds
    return steps


def _longest(lock_for: Callable[[int], float]) -> float:
    return lock_for(max(_lock_steps(lock_for) or [1]))
