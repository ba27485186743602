"""``cognate audit``: the audit log of administrative changes, as JSON lines (core/audit.py).

One JSON object per line, oldest first, on standard output: ``id``, ``time`` (ISO 8601,
UTC), ``actor``, ``operation``, ``target``, ``fields`` (names only), ``result``,
``door``, ``source_ip``. ``--since`` takes an ISO 8601 date or time (UTC unless it says
otherwise) or a span back from now (``30m``, ``12h``, ``7d``); ``--pool`` keeps one
pool's entries. It reads the database of an existing installation and changes nothing.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from cognate import config
from cognate.core.audit import Audit, as_json
from cognate.core.clock import Clock
from cognate.store.base import EventStore
from cognate.store.cached import CachingStore

_SPAN = re.compile(r"^(\d+)([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, now: float) -> float:
    """``--since``: an ISO 8601 date or time, or a span back from ``now`` such as ``7d``."""
    span = _SPAN.match(text.strip())
    if span:
        return now - int(span[1]) * _UNIT_S[span[2]]
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise config.ConfigError(
            f"--since {text!r}: give an ISO 8601 date or time (2026-01-31, 2026-01-31T12:00:00Z) "
            "or a span back from now (30m, 12h, 7d)"
        ) from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def audit(settings: config.Settings, since: str | None, pool_id: str | None) -> int:
    if settings.database_url.startswith("sqlite:///"):
        db = Path(settings.database_url[len("sqlite:///") :])
        if not db.is_file():
            raise config.ConfigError(
                f"no Cognate database at {db}: give the server's --data-dir or --database-url"
            )
    start = parse_since(since, time.time()) if since else None
    return asyncio.run(_print(settings, start, pool_id))


async def _print(settings: config.Settings, since: float | None, pool_id: str | None) -> int:
    store = CachingStore(settings.database_url)
    try:
        await store.migrate()
        async for entry in Audit(store, Clock()).entries(since=since, pool_id=pool_id):
            sys.stdout.write(json.dumps(as_json(entry), sort_keys=True) + "\n")
    finally:
        await store.close()
    sys.stdout.flush()
    return 0


async def record_operator_change(
    settings: config.Settings, store: EventStore, operation: str, fields: list[str]
) -> None:
    """An operator command's change in the audit log (``cognate import``, the rotations)."""
    from cognate.core.context import admin_context
    from cognate.keys_cli import operator

    audit = Audit(store, Clock(), settings.audit_retention_days)
    await audit.record(admin_context(), actor=operator(), operation=operation, target={}, fields=fields)


def record_operator_change_now(settings: config.Settings, operation: str, fields: list[str]) -> None:
    """The same from a command that has no store open; nothing when there is no database yet."""
    if settings.database_url.startswith("sqlite:///") and not Path(settings.database_url[10:]).is_file():
        return

    async def run() -> None:
        store = CachingStore(settings.database_url)
        try:
            await record_operator_change(settings, store, operation, fields)
        finally:
            await store.close()

    asyncio.run(run())
