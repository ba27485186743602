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
from cognate.errors import NotAuthorizedException
from cognate.store.sql import Store

KIND = "auth-session"
EXPIRED = "Invalid session for the user, session is expired."


def _key(session: str) -> str:
    return hashlib.sha256(session.encode()).hexdigest()


class Sessions:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def start(self, doc: dict[str, Any], minutes: int) -> str:
        session = ids.opaque_token(96)
        await self.store.put(KIND, _key(session), doc, minutes * 60)
        return session

    async def peek(self, session: str | None) -> dict[str, Any]:
        if not session or len(session) > 4096:
            raise NotAuthorizedException(EXPIRED)
        doc = await self.store.get(KIND, _key(session))
        if doc is None:
            raise NotAuthorizedException(EXPIRED)
        return doc

    async def redeem(self, session: str | None) -> dict[str, Any]:
        """Consume the session; a second redemption (or an expired one) is refused."""
        if not session or len(session) > 4096:
            raise NotAuthorizedException(EXPIRED)
        doc = await self.store.consume(KIND, _key(session))
        if doc is None:
            raise NotAuthorizedException(EXPIRED)
        return doc
