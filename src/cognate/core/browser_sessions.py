"""Browser sessions of the hosted pages: who signed in with this browser, for which pool.

Cognito's managed login sets "session cookies valid for 1 hour": while it lives, the next
``/oauth2/authorize`` (or ``/login``) of the same pool passes without the form (developer
guide, "The ID token"; "Quotas": hosted UI session cookie, 1 hour). One host serves every
pool here, so there is one cookie per pool (its name carries the pool id) and a session of
one pool is never read for another: the record names its pool, and ``current`` checks it.

The cookie holds a random token (256 bits); the store keeps only its SHA-256, in the TTL
store (kind ``browser-session``), so every worker and node sees the same sessions and a
leaked database holds no usable cookie. A sign-in always starts a *fresh* session and
deletes the one the browser brought (no session fixation: OWASP Session Management Cheat
Sheet, "Renew the Session ID After Any Privilege Level Change"). The lifetime is absolute
(1 hour from sign-in), as Cognito's. A user deleted, disabled or signed out everywhere
(GlobalSignOut, AdminUserGlobalSignOut) since the session began loses it.

Cookie attributes (RFC 6265bis): ``HttpOnly``; ``SameSite=Lax`` (the session must ride the
top-level navigation from the app to ``/oauth2/authorize``, which ``Strict`` would drop);
``Secure`` when served over TLS; ``Path=/``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

from cognate.core import ids
from cognate.core.clock import Clock
from cognate.store.base import Store

KIND = "browser-session"
LIFETIME_S = 3600
COOKIE_PREFIX = "cognate_session_"
_POOL_ID = re.compile(r"^[\w-]+_[0-9a-zA-Z]+$")
_MAX_COOKIE = 256


def cookie_name(pool_id: str) -> str:
    """One cookie per pool: ``cognate_session_us-east-1_AbC123``."""
    if not _POOL_ID.match(pool_id):
        raise ValueError(f"not a pool id: {pool_id!r}")
    return COOKIE_PREFIX + pool_id


def _attributes(secure: bool) -> str:
    return "; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")


def set_cookie_header(pool_id: str, value: str, *, secure: bool) -> str:
    """The ``Set-Cookie`` value that hands the browser its session."""
    return f"{cookie_name(pool_id)}={value}; Max-Age={LIFETIME_S}" + _attributes(secure)


def clear_cookie_header(pool_id: str, *, secure: bool) -> str:
    """The ``Set-Cookie`` value that makes the browser forget the pool's session."""
    return f"{cookie_name(pool_id)}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT" + _attributes(secure)


def _key(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class BrowserSession:
    key: str  # SHA-256 of the cookie value
    pool_id: str
    sub: str
    username: str
    auth_time: int
    amr: tuple[str, ...]
    created: float
    expires_at: float


class BrowserSessions:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def start(
        self,
        pool_id: str,
        sub: str,
        username: str,
        auth_time: int,
        amr: tuple[str, ...],
        *,
        replacing: str | None = None,
    ) -> str:
        """A new session (a fresh cookie value); the one the browser brought, if any, is deleted."""
        if replacing:
            await self.end(pool_id, replacing)
        value = ids.opaque_token(32)
        now = self.clock.now()
        await self.store.put(
            KIND,
            _key(value),
            {
                "pool_id": pool_id,
                "sub": sub,
                "username": username,
                "auth_time": auth_time,
                "amr": list(amr),
                "created": now,
                "expires_at": now + LIFETIME_S,
            },
            LIFETIME_S,
        )
        return value

    async def current(self, pool_id: str, value: str | None) -> BrowserSession | None:
        """The live session this cookie value names for this pool, or None."""
        if not value or len(value) > _MAX_COOKIE:
            return None
        key = _key(value)
        doc = await self.store.get(KIND, key)
        if doc is None or not hmac.compare_digest(str(doc.get("pool_id", "")), pool_id):
            return None
        now = self.clock.now()
        if float(doc.get("expires_at", 0)) <= now:
            return None
        user = await self.store.get_user_by_sub(pool_id, str(doc["sub"]))
        if user is None or not user.enabled or user.tokens_valid_after > float(doc["created"]):
            await self.store.delete(KIND, key)
            return None
        return BrowserSession(
            key=key,
            pool_id=pool_id,
            sub=user.sub,
            username=user.username,
            auth_time=int(doc["auth_time"]),
            amr=tuple(doc.get("amr") or ()),
            created=float(doc["created"]),
            expires_at=float(doc["expires_at"]),
        )

    async def end(self, pool_id: str, value: str | None) -> None:
        """Sign the browser out of the pool (``/logout``); a session of another pool is left alone."""
        if not value or len(value) > _MAX_COOKIE:
            return
        key = _key(value)
        doc = await self.store.get(KIND, key)
        if doc is not None and hmac.compare_digest(str(doc.get("pool_id", "")), pool_id):
            await self.store.delete(KIND, key)


DETOUR_KIND = "hosted-detour"


class Detours:
    """Server-side state of a multi-page step (a challenge to answer, a sign-up to confirm).

    The browser holds only a random id; the record holds the authorize parameters, the
    challenge Session and what the next page needs, bound to the browser that began it
    (``browser`` is a hash of its CSRF cookie id): another browser holding the id gets nothing.
    """

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def put(self, browser: str, doc: Mapping[str, object], ttl_s: int) -> str:
        step = ids.opaque_token(24)
        record = {**doc, "browser": browser, "expires_at": self.clock.now() + ttl_s}
        await self.store.put(DETOUR_KIND, _key(step), record, ttl_s)
        return step

    def _mine(self, browser: str, doc: dict[str, object] | None) -> dict[str, object] | None:
        if doc is None or not hmac.compare_digest(str(doc.get("browser", "")), browser):
            return None
        if float(str(doc.get("expires_at", 0))) <= self.clock.now():
            return None
        return doc

    async def get(self, browser: str, step: str | None) -> dict[str, object] | None:
        if not step or len(step) > _MAX_COOKIE:
            return None
        return self._mine(browser, await self.store.get(DETOUR_KIND, _key(step)))

    async def consume(self, browser: str, step: str | None) -> dict[str, object] | None:
        """Read and delete in one statement: a step is finished once, on one worker."""
        if not step or len(step) > _MAX_COOKIE:
            return None
        doc = await self.get(browser, step)
        if doc is None:
            return None
        return self._mine(browser, await self.store.consume(DETOUR_KIND, _key(step)))

    async def update(self, browser: str, step: str, doc: Mapping[str, object]) -> None:
        """Rewrite a step's record (same id, same binding, same expiry)."""
        current = await self.get(browser, step)
        if current is None:
            return
        ttl = float(str(current["expires_at"])) - self.clock.now()
        if ttl > 0:
            record = {**doc, "browser": browser, "expires_at": current["expires_at"]}
            await self.store.put(DETOUR_KIND, _key(step), record, ttl)
