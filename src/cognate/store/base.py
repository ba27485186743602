"""What the core needs from storage: the TTL store contract, and the errors of the store.

The repositories live on ``cognate.store.sql.Store`` (one implementation, SQLite and
PostgreSQL behind SQLAlchemy Core); the TTL store is the one piece the core uses
through a Protocol, because its atomic ``consume`` is the rule that keeps two nodes
from redeeming one code or challenge session (DESIGN.md, convention 4).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class TtlStore(Protocol):
    async def put(self, kind: str, key: str, doc: Mapping[str, Any], ttl_s: float) -> None: ...

    async def get(self, kind: str, key: str) -> dict[str, Any] | None: ...

    async def consume(self, kind: str, key: str) -> dict[str, Any] | None:
        """Read and delete in one statement (``DELETE ... RETURNING``); None if absent or expired."""
        ...

    async def delete(self, kind: str, key: str) -> None: ...


class Conflict(Exception):
    """A unique key already exists (the core turns it into the Cognito error that fits)."""
