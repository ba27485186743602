"""The bench's PreTokenGeneration function: returns its event unchanged (issue 10's "Speed")."""

from __future__ import annotations

from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return event
