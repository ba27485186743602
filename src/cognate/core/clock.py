"""The time source. Tests pin it to check expiry without sleeping."""

from __future__ import annotations

import time


class Clock:
    """Wall-clock time in epoch seconds; ``pinned`` stands still until moved."""

    def __init__(self, pinned_at: float | None = None) -> None:
        self._pinned_at = pinned_at
        self._offset = 0.0

    @classmethod
    def pinned(cls, at: float | None = None) -> Clock:
        """A clock that does not move by itself (tests): ``at``, or now."""
        return cls(time.time() if at is None else at)

    def now(self) -> float:
        base = time.time() if self._pinned_at is None else self._pinned_at
        return base + self._offset

    def advance(self, seconds: float) -> None:
        """Move this clock forward (tests only)."""
        self._offset += seconds
