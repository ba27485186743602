"""Account lockout after failed sign-ins, as Cognito documents it.

Developer guide, "Authentication flow" (REFERENCE.md 5i): after five failed
attempts the user is locked out for one second, doubling with each further failure
(2^(n-5) seconds) up to about 15 minutes; attempts during a lockout get
``Password attempts exceeded`` and don't count; 15 quiet minutes reset the count.

Attempts are admitted atomically in the store before the password is checked, and
those in flight count toward the threshold: concurrent guesses on any number of
workers cannot have more than five passwords checked before the lockout starts.
An attempt beyond that waits for one in flight to finish, so a user signing in
from several places at once with the right password is served, not locked out.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cognate.core.clock import Clock
from cognate.errors import NotAuthorizedException
from cognate.store.base import AttemptStore, Verdict

THRESHOLD = 5
MAX_LOCK_S = 900.0
QUIET_S = 900.0
MAX_WAIT_S = 10.0
EXCEEDED = "Password attempts exceeded"


def lock_seconds(failures: int) -> float:
    if failures < THRESHOLD:
        return 0.0
    return min(2.0 ** (failures - THRESHOLD), MAX_LOCK_S)


class Outcome:
    """Set ``success`` once the password is known to be right."""

    success: bool = False


class Lockout:
    def __init__(self, auth_store: AttemptStore, clock: Clock) -> None:
        self.auth_store = auth_store
        self.clock = clock
        # Attempts of this process waiting for one in flight to finish, by user: woken the
        # moment it does (those of other processes poll).
        self._finished: dict[tuple[str, str], asyncio.Event] = {}

    async def _wait_for_a_finish(self, key: tuple[str, str], poll_s: float) -> None:
        event = self._finished.setdefault(key, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), poll_s)

    def _announce_finish(self, key: tuple[str, str]) -> None:
        event = self._finished.pop(key, None)
        if event is not None:
            event.set()

    @asynccontextmanager
    async def attempt(self, pool_id: str, user_key: str) -> AsyncIterator[Outcome]:
        """Admit one attempt (or refuse it while locked out); record its outcome on exit."""
        delay, waited = 0.01, 0.0
        while True:
            result = await self.auth_store.begin_attempt(
                pool_id, user_key, self.clock.now(), QUIET_S, THRESHOLD
            )
            if result.verdict is Verdict.ALLOWED:
                break
            if result.verdict is Verdict.LOCKED or waited >= MAX_WAIT_S:
                raise NotAuthorizedException(EXCEEDED)
            started = time.monotonic()
            await self._wait_for_a_finish((pool_id, user_key), delay)
            waited += time.monotonic() - started
            delay = min(delay * 2, 0.1)
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
            self._announce_finish((pool_id, user_key))
