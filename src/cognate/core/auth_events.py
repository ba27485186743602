"""A user's sign-in history: what AdminListUserAuthEvents lists (issue 13, "Operating it").

Cognito keeps this history only for pools with threat protection (advanced security)
on, and answers ``UserPoolAddOnNotEnabledException`` otherwise; Cognate keeps it for
every pool, so the operation always answers. Sources: Amazon Cognito API reference,
AdminListUserAuthEvents, AdminUpdateAuthEventFeedback; botocore's ``AuthEventType``.

What is recorded, one event per flow (``EventType``):

- ``SignIn``: a password or SRP sign-in, MFA and NEW_PASSWORD_REQUIRED steps, custom
  authentication, the hosted login. ``EventResponse`` is ``Pass`` when tokens are
  issued, ``InProgress`` while a challenge is pending, ``Fail`` when a step fails;
  ``ChallengeResponses`` lists ``Password`` and ``Mfa`` with ``Success`` / ``Failure``.
  The later steps of one sign-in update its event (the challenge session carries the
  event id), as Cognito shows one event per sign-in. A refresh is not a sign-in.
- ``SignUp``, ``ForgotPassword`` (the code request), ``PasswordChange`` (ChangePassword
  and ConfirmForgotPassword), ``ResendCode``.

Only attempts on an existing user are recorded (an event belongs to a user); the
context is the request's (``IpAddress``, and the User-Agent as ``DeviceName``).
Cognate assesses no risk: ``EventRisk`` is always ``NoRisk``.

Written off the answer's path: the event is stored by a task of its own once the flow
has ended, so a request costs the same whether or not it concerned a real user (the
timing of PreventUserExistenceErrors stays flat). Reads in this process wait for its
pending writes first (``settle``); the server settles them before it closes the store.

Written once: each flow runs under ``AuthEvents.observe`` at the one place it ends
(sign-in steps in ``AuthFlows._observed``, beside the metrics), which opens a *trail*
(a context variable) on which the inner steps note what they learn (``note_user``,
``note_challenge``); when the flow ends, ``observe`` writes the event. A step outside
any trail notes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from cognate.core import ids, paging
from cognate.core.clock import Clock
from cognate.core.context import RequestContext
from cognate.core.entities import AuthEvent, Pool, User
from cognate.errors import InvalidParameterException, ResourceNotFoundException
from cognate.store.base import EventStore

log = logging.getLogger("cognate.auth_events")

T = TypeVar("T")

SIGN_IN = "SignIn"
SIGN_UP = "SignUp"
FORGOT_PASSWORD = "ForgotPassword"
PASSWORD_CHANGE = "PasswordChange"
RESEND_CODE = "ResendCode"

PASS = "Pass"
FAIL = "Fail"
IN_PROGRESS = "InProgress"

PASSWORD = "Password"
MFA = "Mfa"

DEFAULT_RETENTION_DAYS = 90
PAGE_DEFAULT = 60  # MaxResults 0 or missing; 60 is also the model's maximum
DEVICE_NAME_MAX = 256  # the User-Agent, cut to a sensible length


@dataclass
class Trail:
    """What one flow learned as it ran, for the event ``observe`` writes when it ends."""

    pool: Pool | None = None
    user: User | None = None
    event_id: str | None = None
    continued: bool = False  # a later step of a sign-in whose event exists
    challenges: list[dict[str, str]] = field(default_factory=list)


_TRAIL: ContextVar[Trail | None] = ContextVar("cognate_auth_event_trail", default=None)


def note_user(pool: Pool, user: User) -> None:
    """The flow being observed concerns ``user`` (nothing happens outside a flow)."""
    trail = _TRAIL.get()
    if trail is not None:
        trail.pool, trail.user = pool, user


def note_challenge(name: str, ok: bool) -> None:
    """A ``Password`` or ``Mfa`` answer was checked: ``Success`` or ``Failure``."""
    trail = _TRAIL.get()
    if trail is not None:
        trail.challenges.append({"ChallengeName": name, "ChallengeResponse": "Success" if ok else "Failure"})


def event_id_for_session() -> str | None:
    """The id of the sign-in's event, for the challenge session that continues it."""
    trail = _TRAIL.get()
    if trail is None:
        return None
    if trail.event_id is None:
        trail.event_id = ids.ordered_id(time.time())
    return trail.event_id


def continue_event(event_id: object) -> None:
    """This step continues the sign-in whose session carried ``event_id``."""
    trail = _TRAIL.get()
    if trail is not None and isinstance(event_id, str) and event_id:
        trail.event_id, trail.continued = event_id, True


def _passed(_result: object) -> str:
    return PASS


class AuthEvents:
    """Writes and reads the sign-in history; events older than the retention are purged."""

    def __init__(self, store: EventStore, clock: Clock, retention_days: int = DEFAULT_RETENTION_DAYS) -> None:
        self.store = store
        self.clock = clock
        self.retention_s = retention_days * 86400.0
        self._pending: dict[str, asyncio.Task[None]] = {}  # writes in flight, by event id

    async def observe(
        self,
        ctx: RequestContext,
        event_type: str,
        step: Awaitable[T],
        response: Callable[[T], str] = _passed,
    ) -> T:
        """Run ``step`` (a whole flow, or one sign-in step) and record its event."""
        trail = Trail()
        token = _TRAIL.set(trail)
        try:
            try:
                result = await step
                outcome = response(result)  # may note the user an Authenticated names
            finally:
                _TRAIL.reset(token)
        except Exception:
            await self._write(ctx, event_type, trail, FAIL)
            raise
        await self._write(ctx, event_type, trail, outcome)
        return result

    async def _write(self, ctx: RequestContext, event_type: str, trail: Trail, outcome: str) -> None:
        """Store the event in a task of its own (after an earlier write of the same event)."""
        if trail.pool is None or trail.user is None:
            return  # no user: nothing to attach the event to
        now = self.clock.now()  # when the flow ended, not when the task runs
        if trail.event_id is None:
            trail.event_id = ids.ordered_id(now)
        key = trail.event_id
        earlier = self._pending.get(key)

        async def write() -> None:
            if earlier is not None:
                await asyncio.gather(earlier, return_exceptions=True)
            try:
                event, continuing = await self._event(ctx, event_type, trail, outcome, now)
                # A sign-in's first step never overwrites its event: on another node, its
                # next step may have been written first.
                await self.store.put_auth_event(event, replace=continuing)
            except Exception:  # the flow's answer matters more than its history
                log.exception("recording a %s event failed", event_type)

        task = asyncio.get_running_loop().create_task(write())
        self._pending[key] = task
        task.add_done_callback(
            lambda done: self._pending.pop(key, None) if self._pending.get(key) is done else None
        )

    async def settle(self) -> None:
        """Wait for the events this process is still writing."""
        while self._pending:
            await asyncio.gather(*list(self._pending.values()), return_exceptions=True)

    async def _event(
        self, ctx: RequestContext, event_type: str, trail: Trail, outcome: str, now: float
    ) -> tuple[AuthEvent, bool]:
        """The event to write, and whether it continues one (it then replaces what is stored)."""
        assert trail.pool is not None and trail.user is not None
        pool, user = trail.pool, trail.user
        if trail.continued and trail.event_id:
            earlier = await self.store.get_auth_event(pool.id, user.sub, trail.event_id)
            if earlier is not None:
                doc = dict(earlier.doc)
                doc["EventResponse"] = outcome
                doc["ChallengeResponses"] = [*doc.get("ChallengeResponses", []), *trail.challenges]
                return replace(earlier, doc=doc), True
        context: dict[str, Any] = {}
        if ctx.source_ip:
            context["IpAddress"] = ctx.source_ip
        if ctx.user_agent:
            context["DeviceName"] = ctx.user_agent[:DEVICE_NAME_MAX]
        event = AuthEvent(
            id=trail.event_id or ids.ordered_id(now),  # set by _write
            pool_id=pool.id,
            sub=user.sub,
            event_type=event_type,
            created=now,
            expires=now + self.retention_s,
            doc={
                "EventResponse": outcome,
                "ChallengeResponses": trail.challenges,
                "EventContextData": context,
            },
        )
        return event, trail.continued

    # --- reading and feedback ---------------------------------------------------------

    async def page(
        self, pool: Pool, user: User, max_results: int | None, next_token: str | None
    ) -> tuple[list[AuthEvent], str | None]:
        """AdminListUserAuthEvents: up to ``MaxResults`` events newest first (60 when it is
        0 or missing, as Cognito documents), and the ``NextToken`` of the rest (None: the end)."""
        limit = max_results or PAGE_DEFAULT
        scope = f"auth-events:{pool.id}:{user.sub}"
        before: tuple[float, str] | None = None
        if next_token:
            created, _, event_id = paging.decode(next_token, scope).partition("|")
            try:
                before = (float(created), event_id)
            except ValueError:
                raise InvalidParameterException("Invalid pagination token.") from None
        await self.settle()
        events = await self.store.list_auth_events(pool.id, user.sub, limit + 1, before)
        if len(events) > limit:
            last = events[limit - 1]
            return events[:limit], paging.encode(f"{last.created!r}|{last.id}", scope)
        return events, None

    async def admin_feedback(self, pool: Pool, user: User, event_id: str, value: str) -> None:
        """AdminUpdateAuthEventFeedback: the administrator's ``Valid`` or ``Invalid`` on an event
        of the user (``Provider`` ``Admin``, as Cognito names feedback given by an administrator)."""
        await self.settle()
        event = await self.store.get_auth_event(pool.id, user.sub, event_id)
        if event is None:
            raise ResourceNotFoundException("Auth event not found.")
        doc = dict(event.doc)
        doc["EventFeedback"] = {"FeedbackValue": value, "Provider": "Admin", "FeedbackDate": self.clock.now()}
        await self.store.put_auth_event(replace(event, doc=doc))
