"""PostgreSQL connections: a small pool of its own, reads without a transaction, the
marked statements run by asyncpg directly.

Through SQLAlchemy's asyncio engine one read cost three round trips (``BEGIN``, the
statement, ``COMMIT``), eight greenlet switches and a pool checkout with its events:
several times the CPU of the same read on SQLite. Here:

- connections are opened by SQLAlchemy in ``AUTOCOMMIT`` mode (it never begins a
  transaction itself) and kept in ``PgPool``: a request takes the one used last, with no
  await unless it has to open one, and gives it back;
- a read runs its statements each in a transaction of its own, which under READ
  COMMITTED (PostgreSQL's default, and the store's assumption) sees exactly what a
  transaction around them would: each statement takes its snapshot as it starts.
  ``Database.write`` sends ``BEGIN`` and ``COMMIT`` itself; a write of one statement
  (``write(single=True)``) needs neither;
- a statement marked by ``prepared()`` (compiled.py) goes straight to asyncpg, whose
  statement cache keeps it prepared on each connection; every other statement goes
  through SQLAlchemy on the same connection (and inside the same transaction).

A pooled connection unused for ``PG_IDLE_PING_S`` is pinged before it is used again
(after a restart of PostgreSQL its connections are dead, and the loop may not have
noticed: it was idle); one that the loop saw closed, or that failed, is dropped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, NoReturn

import sqlalchemy as sa

from cognate.store.compiled import PREPARED, Compiled, Rows, marked

# How long opening a PostgreSQL connection may take (asyncpg waits 60 s by default): a
# server that accepts the TCP connection and never answers (stopped, partitioned away)
# fails the request with InternalErrorException after this, instead of holding it.
PG_CONNECT_TIMEOUT_S = 5.0
# A pooled PostgreSQL connection left unused this long is checked before it is used again.
PG_IDLE_PING_S = 1.0
# How long a request waits for a connection when all of its process's are in use.
PG_POOL_TIMEOUT_S = 30.0
# A connection beyond the pool's kept half is closed once unused this long. Closing it as
# soon as it is given back would open and close one per request under load: a busy event
# loop resumes a task whose answer has come only after the others' turns, so requests
# hold more connections at once than they have statements in flight.
PG_IDLE_CLOSE_S = 10.0


class PgStatement(Compiled):
    """A marked statement compiled for asyncpg. Its result columns' conversions depend on
    the types PostgreSQL reports (as SQLAlchemy's do): they are learnt on its first run."""

    readers: list[Any] | None = None

    async def run(self, conn: PgConnection, parameters: dict[str, Any] | None) -> Rows:
        driver = conn.driver
        try:
            if self.readers is None and self.columns:
                described = (await driver.prepare(self.sql)).get_attributes()
                dialect = conn.dialect
                self.readers = [
                    c.type._cached_result_processor(dialect, a.type.oid)
                    for c, a in zip(self.columns, described, strict=True)
                ]
            if self.columns:
                raw = await driver.fetch(self.sql, *self.values(parameters))
                return Rows(self.rows(raw, self.readers or []), len(raw))
            status = await driver.execute(self.sql, *self.values(parameters))
        except Exception as exc:
            conn.raise_translated(exc, self.sql, parameters)
        count = status.rsplit(" ", 1)[-1]
        return Rows([], int(count) if count.isdigit() else -1)


class PgConnection:
    """One pooled connection: what the store uses of ``AsyncConnection`` (``execute``,
    ``exec_driver_sql``, ``run_sync``, ``begin_nested``, ``get_raw_connection``)."""

    def __init__(self, aconn: Any, compiled: dict[int, PgStatement | None]) -> None:
        self.aconn = aconn
        self.sync_connection = aconn.sync_connection
        fairy = self.sync_connection.connection
        self.adapter = fairy.dbapi_connection  # SQLAlchemy's asyncpg adapter
        self.driver = fairy.driver_connection  # asyncpg's connection
        self.dialect = self.sync_connection.dialect
        self._compiled = compiled
        self.idle_since = time.monotonic()
        self.single = False  # a write of one statement: a second one is refused
        self.broken = False  # interrupted mid-statement (cancelled): never reused
        self._statements = 0

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        if self.single:
            self._statements += 1
            if self._statements > 1:
                raise RuntimeError("write(single=True) ran a second statement")
        if marked(statement, parameters):
            key = id(statement)
            if key not in self._compiled:
                try:
                    self._compiled[key] = PgStatement(PREPARED[key], self.dialect)
                except ValueError:
                    self._compiled[key] = None
            found = self._compiled[key]
            if found is not None:
                return await found.run(self, parameters)
        return await self.aconn.execute(statement, parameters)

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> Any:
        return await self.aconn.exec_driver_sql(statement, parameters)

    async def run_sync(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        return await self.aconn.run_sync(fn, *args, **kw)

    def begin_nested(self) -> Any:
        return self.aconn.begin_nested()

    async def get_raw_connection(self) -> Any:
        return await self.aconn.get_raw_connection()

    async def command(self, sql: str, limit_s: float | None = None) -> None:
        """``BEGIN``, ``COMMIT``, ``ROLLBACK`` or the ping (within ``limit_s``), straight to asyncpg."""
        try:
            await self.driver.execute(sql, timeout=limit_s)
        except Exception as exc:
            self.raise_translated(exc, sql, None)

    def raise_translated(self, exc: Exception, sql: str, parameters: Any) -> NoReturn:
        """Raise asyncpg's error as SQLAlchemy raises it (IntegrityError for a taken key, ...);
        any other error as it is."""
        error = self.dialect.loaded_dbapi.Error
        try:
            self.adapter._handle_exception(exc)  # raises the DB-API's error, translated
        except error as dbapi_exc:
            gone = self.dialect.is_disconnect(dbapi_exc, None, None)
            raise sa.exc.DBAPIError.instance(
                sql, parameters, dbapi_exc, error, dialect=self.dialect, connection_invalidated=gone
            ) from exc
        raise exc

    async def rollback(self) -> None:
        """End the failed transaction; if even that fails the pool drops the connection."""
        try:
            await self.command("ROLLBACK")
        except Exception:
            self.broken = True

    @property
    def reusable(self) -> bool:
        driver = self.driver
        return not (self.broken or driver.is_closed() or self.aconn.invalidated or driver.is_in_transaction())


class PgPool:
    """At most ``size`` connections at once; ``kept`` of them stay open while idle, the
    others until unused for ``PG_IDLE_CLOSE_S`` (the one given back last is taken first,
    so under a lighter load the others age and close)."""

    def __init__(self, engine: Any, size: int, kept: int) -> None:
        self._engine = engine
        self._kept = kept
        self._slots = asyncio.Semaphore(size)
        self._idle: list[PgConnection] = []
        self._compiled: dict[int, PgStatement | None] = {}

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[PgConnection]:
        if not self._slots.locked():
            await self._slots.acquire()  # free: no wait, no timer
        else:
            try:
                await asyncio.wait_for(self._slots.acquire(), PG_POOL_TIMEOUT_S)
            except TimeoutError:
                raise sa.exc.TimeoutError(
                    f"no PostgreSQL connection free within {PG_POOL_TIMEOUT_S:.0f} s"
                ) from None
        conn: PgConnection | None = None
        try:
            conn = await self._take()
            yield conn
        except BaseException as exc:
            if conn is not None and not isinstance(exc, Exception):
                conn.broken = True  # cancelled: a statement may be half-way through
            raise
        finally:
            try:
                if conn is not None:
                    await self._give_back(conn)
            finally:
                self._slots.release()

    async def _take(self) -> PgConnection:
        while self._idle:
            conn = self._idle.pop()
            if conn.driver.is_closed():
                await _drop(conn)
                continue
            if time.monotonic() - conn.idle_since >= PG_IDLE_PING_S:
                try:
                    await conn.command(";", PG_CONNECT_TIMEOUT_S)
                except Exception:
                    await _drop(conn)
                    continue
            return conn
        aconn = await self._engine.connect()
        try:
            return PgConnection(aconn, self._compiled)
        except BaseException:
            await aconn.close()
            raise

    async def _give_back(self, conn: PgConnection) -> None:
        conn.single, conn._statements = False, 0
        if conn.reusable and conn.aconn.in_transaction():
            await conn.aconn.rollback()  # SQLAlchemy's own bookkeeping: nothing is sent
        if not conn.reusable:
            await _drop(conn)
            return
        idle = self._idle
        conn.idle_since = now = time.monotonic()
        idle.append(conn)
        while len(idle) > self._kept and now - idle[0].idle_since >= PG_IDLE_CLOSE_S:
            await idle.pop(0).aconn.close()

    async def close(self) -> None:
        while self._idle:
            conn = self._idle.pop()
            try:
                await conn.aconn.close()
            except Exception:
                await _drop(conn)


async def _drop(conn: PgConnection) -> None:
    """Close a connection that failed or that PostgreSQL closed, without waiting on it."""
    try:
        await conn.aconn.invalidate()
        await conn.aconn.close()
    except Exception:  # noqa: S110 -- it is gone either way
        pass
