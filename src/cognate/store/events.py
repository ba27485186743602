"""A user's sign-in history (``auth_events``) and the audit log of administrative changes.

Both are written once per event and read in pages by keyset (never an offset scan):
a user's events newest first by ``(created, id)`` through the index on
``(pool_id, sub, created, id)``; the audit log oldest first by ``(at, id)``. Each row
carries the instant after which ``Store.purge_expired`` removes it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from cognate.core.entities import AuditEntry, AuthEvent
from cognate.store import schema as t
from cognate.store.engine import Database, prepared

_E = t.auth_events.c
_A = t.audit_log.c
_GET_EVENT = prepared(
    sa.select(t.auth_events).where(
        _E.id == sa.bindparam("b_id"),
        _E.pool_id == sa.bindparam("b_pool_id"),
        _E.sub == sa.bindparam("b_sub"),
    )
)


def _event(row: Any) -> AuthEvent:
    return AuthEvent(
        id=row.id,
        pool_id=row.pool_id,
        sub=row.sub,
        event_type=row.event_type,
        created=row.created,
        expires=row.expires,
        doc=dict(row.doc),
    )


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(id=row.id, at=row.at, expires=row.expires, pool_id=row.pool_id, doc=dict(row.doc))


class EventRows(Database):
    # --- sign-in history ------------------------------------------------------------

    _auth_event_puts: dict[bool, Any] | None = None  # the dialect's two upserts, built on first use

    def _auth_event_put(self, replace: bool) -> Any:
        if self._auth_event_puts is None:
            # Built once with bound parameters (every sign-in step writes one event).
            stmt = self._insert(t.auth_events).values(
                {c.name: sa.bindparam(f"b_{c.name}", type_=c.type) for c in t.auth_events.columns}
            )
            self._auth_event_puts = {
                True: prepared(
                    stmt.on_conflict_do_update(
                        index_elements=[_E.id],
                        set_={"doc": stmt.excluded.doc, "expires": stmt.excluded.expires},
                    )
                ),
                False: prepared(stmt.on_conflict_do_nothing(index_elements=[_E.id])),
            }
        return self._auth_event_puts[replace]

    async def put_auth_event(self, event: AuthEvent, *, replace: bool = True) -> None:
        """Store ``event``, or replace the one with its id (a sign-in's later steps); with
        ``replace=False`` an event already there is kept (a later step was written first)."""
        params = {
            "b_id": event.id,
            "b_pool_id": event.pool_id,
            "b_sub": event.sub,
            "b_event_type": event.event_type,
            "b_created": event.created,
            "b_expires": event.expires,
            "b_doc": event.doc,
        }
        async with self.write(single=True) as conn:
            await conn.execute(self._auth_event_put(replace), params)

    async def get_auth_event(self, pool_id: str, sub: str, event_id: str) -> AuthEvent | None:
        params = {"b_id": event_id, "b_pool_id": pool_id, "b_sub": sub}
        async with self.read() as conn:
            row = (await conn.execute(_GET_EVENT, params)).first()
        return _event(row) if row else None

    async def list_auth_events(
        self, pool_id: str, sub: str, limit: int, before: tuple[float, str] | None = None
    ) -> list[AuthEvent]:
        """The user's events newest first; with ``before``, those after it in that order."""
        q = sa.select(t.auth_events).where(_E.pool_id == pool_id, _E.sub == sub)
        if before is not None:
            q = q.where(sa.tuple_(_E.created, _E.id) < sa.tuple_(*before))
        q = q.order_by(_E.created.desc(), _E.id.desc()).limit(limit)
        async with self.read() as conn:
            return [_event(row) for row in await conn.execute(q)]

    # --- audit log ----------------------------------------------------------------------

    async def insert_audit_entry(self, entry: AuditEntry) -> None:
        async with self.write(single=True) as conn:
            await conn.execute(
                t.audit_log.insert().values(
                    id=entry.id, at=entry.at, expires=entry.expires, pool_id=entry.pool_id, doc=entry.doc
                )
            )

    async def list_audit_entries(
        self,
        limit: int,
        after: tuple[float, str] | None = None,
        *,
        since: float | None = None,
        pool_id: str | None = None,
    ) -> list[AuditEntry]:
        """Entries oldest first, from ``since`` on, of one pool if given; after ``after``."""
        q = sa.select(t.audit_log)
        if pool_id is not None:
            q = q.where(_A.pool_id == pool_id)
        if since is not None:
            q = q.where(_A.at >= since)
        if after is not None:
            q = q.where(sa.tuple_(_A.at, _A.id) > sa.tuple_(*after))
        q = q.order_by(_A.at, _A.id).limit(limit)
        async with self.read() as conn:
            return [_entry(row) for row in await conn.execute(q)]

    @staticmethod
    async def _purge_events(conn: Any, now: float) -> int:
        gone = await conn.execute(t.auth_events.delete().where(_E.expires <= now))
        audited = await conn.execute(t.audit_log.delete().where(_A.expires <= now))
        return int(gone.rowcount or 0) + int(audited.rowcount or 0)
