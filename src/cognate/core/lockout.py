"""Account lockout after failed sign-ins, as Cognito documents it.

Developer guide, "Authentication flow": after five failed
attempts the user is locked out for one second, doubling with each further failure
(2^(n-5) seconds) up to about 15 minutes; attempts during a lockout get
``Password attempts exceeded`` and don't count; 15 quiet minutes reset the count.

Attempts are admitted atomically in the store before the password is checked, and
those in flight count toward the threshold: concurrent guesses on any number of
workers cannot have more than five passwords checked before the lockout starts.
An attempt beyond that waits for one in flight to finish, so a user signing in
from several places at once with the right password is served, not locked out.

Waiting attempts of one process queue about first come, first served: each finish wakes
the oldest waiter alone (no herd of retries, and no waiter passed over time
after time, which is what made the tail latency of one busy account), and a newcomer
queues behind those already waiting. Finishes in other processes are noticed by the
oldest waiter polling the store.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cognate.core.clock import Clock
from cognate.core.events import NULL_EVENTS, Events
from cognate.errors import NotAuthorizedException
from cognate.store.base import AttemptStore, Verdict

THRESHOLD = 5
MAX_LOCK_S = 900.0
QUIET_S = 900.0
MAX_WAIT_S = 10.0
POLL_S = 0.05  # how often a waiter asks the store again (finishes in other processes)
EXCEEDED = "Password attempts exceeded"


def lock_seconds(failures: int) -> float:
    if failures < THRESHOLD:
        return 0.0
    return min(2.0 ** (failures - THRESHOLD), MAX_LOCK_S)


class Outcome:
    """Set ``success`` once the password is known to be right."""

    success: bool = False


class Lockout:
    events: Events = NULL_EVENTS  # Core sets its own

    def __init__(self, auth_store: AttemptStore, clock: Clock) -> None:
        self.auth_store = auth_store
        self.clock = clock
        # This process's attempts waiting for a place, by user, oldest first.
        self._waiting: dict[tuple[str, str], deque[asyncio.Future[None]]] = {}

    async def _try(self, pool_id: str, user_key: str) -> bool:
        """Ask the store for a place: True if admitted, False to wait; raises while locked out."""
        result = await self.auth_store.begin_attempt(pool_id, user_key, self.clock.now(), QUIET_S, THRESHOLD)
        if result.verdict is Verdict.LOCKED:
            self.events.lockout()
            raise NotAuthorizedException(EXCEEDED)
        return result.verdict is Verdict.ALLOWED

    def _hand_over(self, key: tuple[str, str]) -> None:
        """Wake the oldest waiter of this user (a place was freed)."""
        queue = self._waiting.get(key)
        while queue:
            waiter = queue.popleft()
            if not waiter.done():
                waiter.set_result(None)
                break
        if queue is not None and not queue:
            del self._waiting[key]

    async def _admit(self, pool_id: str, user_key: str) -> None:
        key = (pool_id, user_key)
        if not self._waiting.get(key) and await self._try(pool_id, user_key):
            return
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + MAX_WAIT_S
        turn: asyncio.Future[None] = loop.create_future()
        self._waiting.setdefault(key, deque()).append(turn)
        refused = False
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise NotAuthorizedException(EXCEEDED)
                await asyncio.wait([turn], timeout=min(POLL_S, remaining))
                if turn.done():
                    # Our turn. Out of the queue while we ask the store, so a place freed
                    # meanwhile wakes the next waiter, not us twice; back at the head if
                    # another attempt took the place first.
                    if await self._try(pool_id, user_key):
                        return
                    turn = loop.create_future()
                    self._waiting.setdefault(key, deque()).appendleft(turn)
                    continue
                if self._waiting[key][0] is not turn:
                    continue  # only the oldest waiter polls (for finishes in other processes)
                if await self._try(pool_id, user_key):
                    return
        except NotAuthorizedException:
            refused = True
            raise
        finally:
            queue = self._waiting.get(key)
            if queue is not None:
                if turn in queue:
                    queue.remove(turn)
                if not queue:
                    del self._waiting[key]
            if refused:  # locked out (or waited too long): the next waiter learns it at once too
                self._hand_over(key)

    @asynccontextmanager
    async def attempt(self, pool_id: str, user_key: str) -> AsyncIterator[Outcome]:
        """Admit one attempt (or refuse it while locked out); record its outcome on exit."""
        await self._admit(pool_id, user_key)
        outcome = Outcome()
        try:
            yield outcome
        finally:
            await asyncio.shield(
                self.auth_store.finish_attempt(
                    pool_id,
                    user_key,
                    self.clock.now(),
                    success=outcome.success,
                    quiet_s=QUIET_S,
                    lock_for=lock_seconds,
                )
            )
            self._hand_over((pool_id, user_key))
