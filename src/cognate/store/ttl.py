"""Short-lived records: verification codes, challenge sessions, authorization codes, browser sessions.

Each is a document under (kind, key) that expires; ``consume`` reads and deletes it
in one statement (``DELETE ... RETURNING``), so a code or session is redeemed once
across all workers and nodes (docs/deployment.md, "What a node keeps in memory"). Expired rows are removed by
``Store.purge_expired``; until then they are never returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from cognate.store import schema as t
from cognate.store.engine import Database, prepared

# Built once with bound parameters: building a statement costs more than running it on
# SQLite, and every SRP sign-in puts and consumes one item.
_C = t.ttl_items.c
_WHERE = sa.and_(_C.kind == sa.bindparam("b_kind"), _C.key == sa.bindparam("b_key"))
_GET = prepared(sa.select(_C.doc).where(_WHERE, _C.expires > sa.bindparam("b_now", type_=sa.Float)))
_CONSUME = prepared(t.ttl_items.delete().where(_WHERE).returning(_C.doc, _C.expires))
_DELETE = t.ttl_items.delete().where(_WHERE)


class TtlRows(Database):
    _ttl_put: Any = None  # the dialect's upsert, built on first use

    def _put_statement(self) -> Any:
        if self._ttl_put is None:
            stmt = self._insert(t.ttl_items).values(
                kind=sa.bindparam("b_kind"),
                key=sa.bindparam("b_key"),
                doc=sa.bindparam("b_doc", type_=_C.doc.type),
                expires=sa.bindparam("b_expires", type_=sa.Float),
            )
            self._ttl_put = prepared(
                stmt.on_conflict_do_update(
                    index_elements=[_C.kind, _C.key],
                    set_={"doc": stmt.excluded.doc, "expires": stmt.excluded.expires},
                )
            )
        return self._ttl_put

    async def put(self, kind: str, key: str, doc: Mapping[str, Any], ttl_s: float) -> None:
        """Store ``doc`` under (kind, key) for ``ttl_s`` seconds, replacing what was there."""
        params = {"b_kind": kind, "b_key": key, "b_doc": dict(doc), "b_expires": self._now() + ttl_s}
        async with self.write(single=True) as conn:
            await conn.execute(self._put_statement(), params)

    async def put_new(self, kind: str, key: str, doc: Mapping[str, Any], ttl_s: float) -> bool:
        """Store ``doc`` only if (kind, key) holds nothing live; True if it was stored.

        One statement (an upsert whose update applies only over an expired item), so of
        two workers or nodes claiming one key at once exactly one gets True.
        """
        now = self._now()
        stmt = self._insert(t.ttl_items).values(kind=kind, key=key, doc=dict(doc), expires=now + ttl_s)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.ttl_items.c.kind, t.ttl_items.c.key],
            set_={"doc": stmt.excluded.doc, "expires": stmt.excluded.expires},
            where=t.ttl_items.c.expires <= now,
        ).returning(t.ttl_items.c.key)
        async with self.write(single=True) as conn:
            row = (await conn.execute(stmt)).first()
        return row is not None

    async def get(self, kind: str, key: str) -> dict[str, Any] | None:
        async with self.read() as conn:
            row = (await conn.execute(_GET, {"b_kind": kind, "b_key": key, "b_now": self._now()})).first()
        return dict(row.doc) if row else None

    async def consume(self, kind: str, key: str) -> dict[str, Any] | None:
        async with self.write(single=True) as conn:
            row = (await conn.execute(_CONSUME, {"b_kind": kind, "b_key": key})).first()
        if row is None or row.expires <= self._now():
            return None
        return dict(row.doc)

    async def delete(self, kind: str, key: str) -> None:
        async with self.write(single=True) as conn:
            await conn.execute(_DELETE, {"b_kind": kind, "b_key": key})

    @staticmethod
    async def _purge_ttl(conn: Any, now: float) -> int:
        res = await conn.execute(t.ttl_items.delete().where(t.ttl_items.c.expires <= now))
        return int(res.rowcount or 0)
