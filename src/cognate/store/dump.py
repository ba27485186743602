"""Every row of every table, read in one snapshot and loaded back in one transaction:
what ``cognate export`` and ``cognate import`` move (export_cli.py has the file format),
and what ``cognate rotate-master-key`` walks to re-seal (``rewrite_strings``).

The tables are those of schema.py, all of them: a table that migrations create must be
declared there (``unlisted_tables`` finds one that is not, and export refuses rather
than leave it out). Rows come in the order of their primary key compared byte-wise
(``COLLATE "C"`` on PostgreSQL, SQLite's BINARY), so two databases holding the same
rows dump to the same lines whichever backend holds them.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa

from cognate.store import schema
from cognate.store.engine import Database

TABLES: tuple[sa.Table, ...] = tuple(schema.metadata.sorted_tables)
BY_NAME = {table.name: table for table in TABLES}
BATCH = 500
# Alembic's own table: the export's header carries the revision instead.
NOT_DUMPED = frozenset({"alembic_version"})

Row = dict[str, Any]
Rows = Callable[[Any], AsyncIterator[Any]]


def columns(table: sa.Table) -> list[str]:
    return [column.name for column in table.columns]


def binary_columns(table: sa.Table) -> list[str]:
    """The columns that hold bytes (an export writes them as base64)."""
    return [column.name for column in table.columns if isinstance(column.type, sa.LargeBinary)]


class DumpRows(Database):
    def _byte_order(self, table: sa.Table) -> list[Any]:
        order: list[Any] = []
        for column in table.primary_key.columns:
            text = isinstance(column.type, sa.String | sa.Text)
            order.append(column.collate("C") if text and not self.is_sqlite else column)
        return order

    @asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[Rows]:
        """A read-only transaction in which every query sees one snapshot; rows are streamed."""
        if self.is_sqlite:
            with self._sqlite_reader.connect() as conn, conn.begin():  # WAL: one snapshot

                async def sqlite_rows(statement: Any) -> AsyncIterator[Any]:
                    for row in conn.execution_options(stream_results=True).execute(statement):
                        yield row

                yield sqlite_rows
            return
        async with self._pg.connect() as pg:
            await pg.execution_options(isolation_level="REPEATABLE READ")
            async with pg.begin():
                await pg.execute(sa.text("SET TRANSACTION READ ONLY"))

                async def pg_rows(statement: Any) -> AsyncIterator[Any]:
                    result = await pg.stream(statement.execution_options(yield_per=BATCH))
                    async for row in result:
                        yield row

                yield pg_rows

    async def dump(self) -> AsyncIterator[tuple[str, Row]]:
        """(table, row) for every row of every table, from one snapshot, streamed."""
        async with self._snapshot() as rows:
            for table in TABLES:
                async for row in rows(table.select().order_by(*self._byte_order(table))):
                    yield table.name, dict(row._mapping)

    async def unlisted_tables(self) -> list[str]:
        """Tables of the database that schema.py does not declare (so a dump would miss them)."""
        async with self.read() as conn:
            names: list[str] = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
        return sorted(set(names) - set(BY_NAME) - NOT_DUMPED)

    async def nonempty_tables(self) -> list[str]:
        found = []
        async with self.read() as conn:
            for table in TABLES:
                if (await conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1))).first():
                    found.append(table.name)
        return found

    async def load(self, records: AsyncIterable[tuple[str, Row]]) -> dict[str, int]:
        """Insert every record in one transaction (nothing is kept if anything fails); counts by table.

        The caller checks that the database is empty; a row that collides raises."""
        counts: dict[str, int] = {}
        async with self.transaction() as tx:
            conn = tx.conn
            batch: list[Row] = []
            current: sa.Table | None = None
            async for name, row in records:
                table = BY_NAME[name]
                if (table is not current or len(batch) >= BATCH) and batch and current is not None:
                    await conn.execute(current.insert(), batch)
                    batch = []
                current = table
                batch.append(row)
                counts[name] = counts.get(name, 0) + 1
            if batch and current is not None:
                await conn.execute(current.insert(), batch)
        return counts

    async def rewrite_strings(self, change: Callable[[str], str | None]) -> int:
        """Apply ``change`` to every string held anywhere (text columns and inside JSON documents)
        of every row; store what it changes. Returns how many values changed.

        Rows are found in a snapshot, then each changed row is read again and rewritten in short
        write transactions (a batch at a time): what a server wrote meanwhile is rewritten from
        its current value, never overwritten with the snapshot's. Servers keep serving."""
        changed = 0
        for table in TABLES:
            keys: list[tuple[Any, ...]] = []
            async with self._snapshot() as rows:
                async for row in rows(table.select()):
                    if _rewrite(dict(row._mapping), change)[1]:
                        keys.append(tuple(row._mapping[c.name] for c in table.primary_key.columns))
                    if len(keys) >= BATCH:  # a reader and a writer may overlap, on both backends
                        changed += await self._rewrite_rows(table, keys, change)
                        keys = []
            changed += await self._rewrite_rows(table, keys, change)
        return changed

    async def _rewrite_rows(
        self, table: sa.Table, keys: list[tuple[Any, ...]], change: Callable[[str], str | None]
    ) -> int:
        changed = 0
        if not keys:
            return 0
        pks = list(table.primary_key.columns)
        async with self.transaction() as tx:
            for key in keys:
                where = sa.and_(*(c == v for c, v in zip(pks, key, strict=True)))
                current = (await tx.conn.execute(self._locking(table.select().where(where), tx))).first()
                if current is None:
                    continue
                before = dict(current._mapping)
                after, n = _rewrite(before, change)
                if n:
                    values = {name: value for name, value in after.items() if value != before[name]}
                    await tx.conn.execute(table.update().where(where).values(**values))
                    changed += n
        return changed


def _rewrite(row: Row, change: Callable[[str], str | None]) -> tuple[Row, int]:
    count = 0

    def walk(value: Any) -> Any:
        nonlocal count
        if isinstance(value, str):
            new = change(value)
            if new is not None and new != value:
                count += 1
                return new
            return value
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    out = {name: walk(value) for name, value in row.items()}
    return out, count
