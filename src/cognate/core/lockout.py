"""Account lockout after failed sign-ins, as Cognito documents it.

Developer guide, "Authentication flow" (REFERENCE.md 5i): after five failed
attempts the user is locked out for one second, doubling with each further failure
(2^(n-5) seconds) up to about 15 minutes; attempts during a lockout get
``Password attempts exceeded`` and don't count; 15 quiet minutes reset the count.
Attempts are counted before the password is checked, atomically in the store, so
concurrent attempts on any number of workers cannot slip past the threshold.
"""

from __future__ import annotations

from cognate.core.clock import Clock
from cognate.errors import NotAuthorizedException
from cognate.store.auth_sql import AuthStore

THRESHOLD = 5
MAX_LOCK_S = 900.0
QUIET_S = 900.0
EXCEEDED = "Password attempts exceeded"


def lock_seconds(failures: int) -> float:
    if failures < THRESHOLD:
        return 0.0
    return min(2.0 ** (failures - THRESHOLD), MAX_LOCK_S)


class Lockout:
    def __init__(self, auth_store: AuthStore, clock: Clock) -> None:
        self.auth_store = auth_store
        self.clock = clock

    async def attempt(self, pool_id: str, user_key: str) -> None:
        """Count an attempt, or refuse it while the user is locked out."""
        result = await self.auth_store.begin_attempt(pool_id, user_key, self.clock.now(), QUIET_S, lock_seconds)
        if not result.allowed:
            raise NotAuthorizedException(EXCEEDED)

    async def succeeded(self, pool_id: str, user_key: str) -> None:
        await self.auth_store.clear(pool_id, user_key)
