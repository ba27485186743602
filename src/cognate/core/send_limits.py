"""How many codes may be sent: per user and per source address.

Cognito limits the codes a user can ask for ("Recovering user accounts": "In a given
hour, we allow between 5 and 20 attempts for a user to request or enter a password
reset code") and answers ``LimitExceededException`` ("Attempt limit exceeded, please
try after some time."). Without a limit, anyone who knows a username or address can
have any number of messages sent to it, or one address can mail a whole pool.

Each code sent counts, in the store's atomic attempt counter (the one the sign-in
lockout uses, so every worker and node counts together), against two keys:

* the user and purpose (``send:reset:<sub>``): 5 codes freely, then a wait that starts
  at one minute and doubles with each further code, up to an hour; an hour without a
  code forgets the count. At most about ten codes an hour reach one user for one
  purpose (Cognito's "between 5 and 20").
* the pool and source address (``send-from:<address>``): 30 codes freely, then a wait of
  ten seconds doubling to an hour, forgotten after a quiet hour. The address is the
  peer's, or the one forwarded by a proxy of ``--trusted-proxies`` (forwarded.py).

A request refused by a limit sends nothing. Operator actions
(AdminResetUserPassword, AdminCreateUser's invitation) are not limited.
"""

from __future__ import annotations

from dataclasses import dataclass

from cognate.core.clock import Clock
from cognate.core.context import Door, RequestContext
from cognate.errors import LimitExceededException
from cognate.store.base import AttemptStore, Verdict

LIMIT = "Attempt limit exceeded, please try after some time."


@dataclass(frozen=True)
class Rule:
    free: int  # sends allowed before any wait
    first_wait_s: float
    max_wait_s: float
    quiet_s: float  # a quiet period this long forgets the count

    def wait(self, sent: int) -> float:
        if sent < self.free:
            return 0.0
        return min(self.first_wait_s * 2.0 ** (sent - self.free), self.max_wait_s)


PER_USER = Rule(free=5, first_wait_s=60.0, max_wait_s=3600.0, quiet_s=3600.0)
PER_ADDRESS = Rule(free=30, first_wait_s=10.0, max_wait_s=3600.0, quiet_s=3600.0)


class SendLimits:
    def __init__(self, auth_store: AttemptStore, clock: Clock) -> None:
        self.auth_store = auth_store
        self.clock = clock

    async def _count(self, pool_id: str, key: str, rule: Rule) -> None:
        now = self.clock.now()
        admitted = await self.auth_store.begin_attempt(pool_id, key, now, rule.quiet_s, rule.free)
        if admitted.verdict is not Verdict.ALLOWED:
            raise LimitExceededException(LIMIT)
        # A send is a "failure" of the counter: it counts, and past the free ones it waits.
        await self.auth_store.finish_attempt(
            pool_id, key, now, success=False, quiet_s=rule.quiet_s, lock_for=rule.wait
        )

    async def admit(self, ctx: RequestContext | None, pool_id: str, purpose: str, user_key: str) -> None:
        """Count one code about to be sent to ``user_key`` (a sub, or a name nobody has);
        LimitExceededException when a limit is reached (then nothing is counted or sent)."""
        if ctx is not None and ctx.door is Door.ADMIN:
            return
        # The user's count first: a request its limit refuses costs the address nothing,
        # so one user's limit (and clients retrying LimitExceededException) cannot use
        # up the budget of everyone behind the same address.
        await self._count(pool_id, f"send:{purpose}:{user_key}", PER_USER)
        if ctx is not None and ctx.source_ip:
            await self._count(pool_id, f"send-from:{ctx.source_ip}", PER_ADDRESS)
