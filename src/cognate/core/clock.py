"""The time source. Tests pin it to check expiry without sleeping."""

from __future__ import annotations

import time


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move this clock forward (tests only)."""
        self._offset += seconds
