"""What the core reports as it works, for an operator's metrics (issue 13, "Operating it").

The core names events; it knows nothing of Prometheus. ``cognate.metrics`` implements
``Events`` with prometheus-client counters and histograms; without it (tests, the
commands) nothing is recorded. Every label is drawn from a bounded set: a flow or
challenge name, ``authenticated``, ``challenge`` or an error's Cognito ``__type``, a
Cognito trigger source, a store method's name; a label never carries what a caller typed.

Each is reported from one place: sign-in steps from ``AuthFlows._observed`` (where a step
ends, beside the user's sign-in history, core/auth_events.py), lockouts from
``Lockout``, password hashing from ``Users`` (the time of the hash itself, in the worker
thread), trigger calls from ``Triggers._call``, store calls from ``TimedStore`` (which the
core puts around its store when it is given a metrics sink).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from typing import Any, Protocol


class Events(Protocol):
    def sign_in(self, flow: str, result: str) -> None:
        """One sign-in step ended (``flow``: the AuthFlow or the challenge answered)."""

    def lockout(self) -> None:
        """An attempt was refused because its user is locked out."""

    def password_hash(self, operation: str, seconds: float) -> None:
        """A password was hashed (``hash``) or checked against its hash (``verify``)."""

    def store_call(self, operation: str, seconds: float) -> None:
        """One call of the store (``operation``: the store method) took ``seconds``."""

    def trigger_call(self, trigger: str, result: str, seconds: float) -> None:
        """A Lambda trigger (its Cognito ``triggerSource``) answered ``ok`` or failed (an error type)."""


class NullEvents:
    """Records nothing."""

    def sign_in(self, flow: str, result: str) -> None:
        return None

    def lockout(self) -> None:
        return None

    def password_hash(self, operation: str, seconds: float) -> None:
        return None

    def store_call(self, operation: str, seconds: float) -> None:
        return None

    def trigger_call(self, trigger: str, result: str, seconds: float) -> None:
        return None


NULL_EVENTS: Events = NullEvents()


class TimedStore:
    """A store whose coroutine methods report their time to ``events.store_call``.

    Everything else (``transaction()``, attributes) is the store's own. The label is the
    method's name: a bounded set (the Protocols of store/base.py).
    """

    def __init__(self, store: Any, events: Events) -> None:
        self._store = store
        self._events = events
        self._wrapped: dict[str, Callable[..., Any]] = {}

    def __getattr__(self, name: str) -> Any:
        wrapped = self._wrapped.get(name)
        if wrapped is not None:
            return wrapped
        member = getattr(self._store, name)
        if name.startswith("_") or not inspect.iscoroutinefunction(member):
            return member
        report = self._events.store_call

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await member(*args, **kwargs)
            finally:
                report(name, time.perf_counter() - started)

        self._wrapped[name] = timed
        return timed
