"""What the core reports as it works, for an operator's metrics (issue 13, "Operating it").

The core names events; it knows nothing of Prometheus. ``cognate.metrics`` implements
``Events`` with prometheus-client counters; without it (tests, the commands) nothing is
recorded. Results are bounded sets: ``authenticated``, ``challenge`` or an error's
Cognito ``__type``, so a label never carries what a caller typed.
"""

from __future__ import annotations

from typing import Protocol


class Events(Protocol):
    def sign_in(self, flow: str, result: str) -> None:
        """One sign-in step ended (``flow``: the AuthFlow or the challenge answered)."""

    def lockout(self) -> None:
        """An attempt was refused because its user is locked out."""


class NullEvents:
    """Records nothing."""

    def sign_in(self, flow: str, result: str) -> None:
        return None

    def lockout(self) -> None:
        return None


NULL_EVENTS: Events = NullEvents()
