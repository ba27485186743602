"""Challenge sessions: the opaque ``Session`` that links InitiateAuth to
RespondToAuthChallenge.

A session is a random token (stored under its hash) holding the flow's state; it
lives for the client's ``AuthSessionValidity`` minutes (3 by default) and is redeemed
by an atomic read-and-delete, so it is single-use across workers and nodes.
"""

from __future__ import annotations

import hashlib
from typing import Any

from cognate.core import ids
from cognate.core.clock import Clock
from cognate.errors import NotAuthorizedException
from cognate.store.base import TtlStore

KIND = "auth-session"
EXPIRED = "Invalid session for the user, session is expired."


def _key(session: str) -> str:
    return hashlib.sha256(session.encode()).hexdigest()


class Sessions:
    def __init__(self, store: TtlStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def start(self, doc: dict[str, Any], minutes: int) -> str:
        session = ids.opaque_token(96)
        ttl = minutes * 60
        # The expiry is decided on the core's clock; the store's TTL only collects garbage.
        await self.store.put(KIND, _key(session), {**doc, "expires_at": self.clock.now() + ttl}, ttl)
        return session

    def _live(self, doc: dict[str, Any] | None) -> dict[str, Any]:
        if doc is None or float(doc.get("expires_at", 0)) <= self.clock.now():
            raise NotAuthorizedException(EXPIRED)
        return doc

    async def peek(self, session: str | None) -> dict[str, Any]:
        if not session or len(session) > 4096:
            raise NotAuthorizedException(EXPIRED)
        return self._live(await self.store.get(KIND, _key(session)))

    async def update(self, session: str | None, changes: dict[str, Any]) -> dict[str, Any]:
        """Add ``changes`` to a live session's state (its expiry unchanged)."""
        doc = await self.peek(session)
        assert session is not None  # peek refused a missing one
        doc = {**doc, **changes}
        remaining = float(doc["expires_at"]) - self.clock.now()
        await self.store.put(KIND, _key(session), doc, max(remaining, 1.0))
        return doc

    async def redeem(self, session: str | None) -> dict[str, Any]:
        """Consume the session; a second redemption (or an expired one) is refused."""
        if not session or len(session) > 4096:
            raise NotAuthorizedException(EXPIRED)
        return self._live(await self.store.consume(KIND, _key(session)))
