"""Failed sign-in attempts: the atomic counter behind Cognito's lockout (core/lockout.py).

Each method is one write transaction that holds the row lock while it decides --
``BEGIN IMMEDIATE`` on SQLite, the row lock of ``INSERT ... ON CONFLICT DO UPDATE``
on PostgreSQL -- so concurrent attempts on several workers or nodes are counted one
by one and none slips past a lockout. The statements are built once per store, with
bound parameters: building one with these CASE expressions costs more than running
it on SQLite.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

import sqlalchemy as sa

from cognate.core.entities import Lockout
from cognate.store import schema as t
from cognate.store.base import Attempt, Verdict
from cognate.store.engine import Database, prepared

# An attempt in flight for longer than this belonged to a worker that died.
PENDING_STALE_S = 60.0
# Failure counts are forgotten after 15 quiet minutes; their rows are removed after a day.
LOCKOUT_HORIZON_S = 86400.0

_STATE = prepared(
    sa.select(t.lockouts.c.failures, t.lockouts.c.locked_until).where(
        t.lockouts.c.pool_id == sa.bindparam("b_pool_id"),
        t.lockouts.c.user_key == sa.bindparam("b_user_key"),
    )
)


class AttemptRows(Database):
    @cached_property
    def _finish_statements(self) -> dict[Callable[[int], float] | None, Any]:
        """The outcome statements built so far, by lockout schedule (None: success)."""
        return {}

    @cached_property
    def _begin_attempt_sql(self) -> Any:
        L = t.lockouts.c
        now: Any = sa.bindparam("b_now", type_=sa.Float)
        quiet: Any = sa.bindparam("b_quiet_s", type_=sa.Float)
        threshold: Any = sa.bindparam("b_threshold", type_=sa.Integer)
        failures = sa.case((now - L.last_failure <= quiet, L.failures), else_=0)
        pending = sa.case((now - L.pending_since <= PENDING_STALE_S, L.pending), else_=0)
        admit = sa.and_(L.locked_until <= now, sa.or_(pending == 0, failures + pending < threshold))
        return prepared(
            self._insert(t.lockouts)
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
            greatest = sa.func.max if self.is_sqlite else sa.func.greatest
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
        return prepared(
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
        never read and written in two steps; only a refusal reads the row afterwards, to
        tell a lockout from a wait.
        """
        params = {
            "b_pool_id": pool_id,
            "b_user_key": user_key,
            "b_now": now,
            "b_quiet_s": quiet_s,
            "b_threshold": threshold,
        }
        async with self.write(single=True) as conn:
            row = (await conn.execute(self._begin_attempt_sql, params)).first()
        if row is not None:
            return Attempt(Verdict.ALLOWED, row.failures, row.locked_until)
        async with self.read() as conn:
            state = (await conn.execute(_STATE, {"b_pool_id": pool_id, "b_user_key": user_key})).one()
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
            stmt = self._finish_statements.get(None)
            if stmt is None:
                stmt = self._finish_statements[None] = self._finish_statement(None)
        else:
            stmt = self._finish_statements.get(lock_for)
            if stmt is None:
                stmt = self._finish_statements[lock_for] = self._finish_statement(lock_for)
        params = {"b_pool_id": pool_id, "b_user_key": user_key, "b_now": now, "b_quiet_s": quiet_s}
        async with self.write(single=True) as conn:
            row = (await conn.execute(stmt, params)).first()
        if row is None:
            return Attempt(Verdict.ALLOWED, 0, 0.0)
        return Attempt(Verdict.ALLOWED, row.failures, row.locked_until)

    async def get_lockout(self, pool_id: str, user_key: str) -> Lockout | None:
        L = t.lockouts.c
        async with self.read() as conn:
            row = (
                await conn.execute(
                    sa.select(L.failures, L.locked_until, L.last_failure).where(
                        L.pool_id == pool_id, L.user_key == user_key
                    )
                )
            ).first()
        return Lockout(row.failures, row.locked_until, row.last_failure) if row else None

    @staticmethod
    async def _purge_attempts(conn: Any, now: float) -> int:
        """Counters that can no longer matter: no lockout running, nothing in flight, and
        the last failure older than any quiet period (one day)."""
        lk = t.lockouts.c
        res = await conn.execute(
            t.lockouts.delete().where(
                lk.locked_until <= now,
                lk.last_failure <= now - LOCKOUT_HORIZON_S,
                lk.pending_since <= now - 3600,
            )
        )
        return int(res.rowcount or 0)


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
