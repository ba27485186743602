"""The audit log of administrative changes (issue 13, "Operating it"): who, what, when.

One entry per change an administrator made: every IAM-signed operation that writes
(recorded by the AWS door once the operation has answered, whether it succeeded or
failed) and every change made by an operator command (``cognate keys rotate``, the
seed file). An entry says:

- ``actor``: who (the access key id that signed the request; ``cli:USER`` for a
  command, ``seed`` for the seed file);
- ``operation``, ``target`` (the pool, user, client, group ... it named, by id or
  name) and ``fields``: the *names* of the parameters it set (attribute names as
  ``UserAttributes.email``); values are never recorded, so neither a password, a
  temporary password, a secret nor an attribute's value ever reaches the log;
- ``time`` (ISO 8601, UTC), ``source_ip`` and ``door``;
- ``result``: ``ok``, or the Cognito error type the caller got.

Each entry is written to the logger ``cognate.audit`` (one line, JSON with
``--log-format json``, for a log shipper) and to the database, where ``cognate audit``
reads it and the purge removes it after ``--audit-retention-days``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from cognate.core import ids
from cognate.core.clock import Clock
from cognate.core.context import RequestContext
from cognate.core.entities import AuditEntry
from cognate.store.base import EventStore

log = logging.getLogger("cognate.audit")

DEFAULT_RETENTION_DAYS = 365
OK = "ok"
PAGE = 500


def iso(at: float) -> str:
    """An instant as ISO 8601 in UTC, to the millisecond."""
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def as_json(entry: AuditEntry) -> dict[str, Any]:
    """An entry as the JSON object ``cognate audit`` prints (and the log line carries)."""
    return {"id": entry.id, "time": iso(entry.at), **entry.doc}


class Audit:
    def __init__(self, store: EventStore, clock: Clock, retention_days: int = DEFAULT_RETENTION_DAYS) -> None:
        self.store = store
        self.clock = clock
        self.retention_s = retention_days * 86400.0

    async def record(
        self,
        ctx: RequestContext,
        *,
        actor: str,
        operation: str,
        target: Mapping[str, str],
        fields: Sequence[str] = (),
        result: str = OK,
    ) -> AuditEntry:
        """Log and keep one entry. ``fields`` are names only: never pass a value here."""
        now = self.clock.now()
        doc: dict[str, Any] = {
            "actor": actor,
            "operation": operation,
            "target": dict(target),
            "fields": sorted(set(fields)),
            "result": result,
            "door": str(ctx.door),
            "source_ip": ctx.source_ip,
        }
        entry = AuditEntry(
            id=ids.ordered_id(now),
            at=now,
            expires=now + self.retention_s,
            pool_id=target.get("UserPoolId"),
            doc=doc,
        )
        # The log line first: a log shipper has it even if the database write fails.
        log.info(
            "%s %s by %s: %s",
            operation,
            _target_text(target),
            actor,
            result,
            extra={"fields": as_json(entry)},
        )
        await self.store.insert_audit_entry(entry)
        return entry

    async def entries(
        self, *, since: float | None = None, pool_id: str | None = None
    ) -> AsyncIterator[AuditEntry]:
        """Every kept entry from ``since`` on (of one pool), oldest first, read a page at a time."""
        after: tuple[float, str] | None = None
        while True:
            page = await self.store.list_audit_entries(PAGE, after, since=since, pool_id=pool_id)
            for entry in page:
                yield entry
            if len(page) < PAGE:
                return
            after = (page[-1].at, page[-1].id)


def _target_text(target: Mapping[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in target.items()) or "-"
