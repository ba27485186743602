"""The database: engines, transactions and migrations, for SQLite (default) and PostgreSQL.

PostgreSQL goes through asyncpg, with a pool of its own (pg.py): a read is its statement
alone, without ``BEGIN``/``COMMIT``, and so is a write of one statement
(``write(single=True)``). SQLite is an embedded library whose statements are
microsecond-scale function calls on a file in the page cache: they run in the event
loop itself (sqlite3 through SQLAlchemy's pysqlite dialect), because a hop to a
driver thread costs about ten times the statement. Nothing there waits on anything:
the file is in WAL mode, so readers never wait for writers; writes begin
``BEGIN IMMEDIATE`` without a busy timeout, and when another process holds the write
lock the transaction is retried after an asynchronous sleep, never by blocking the
loop. Several worker processes thus share one file safely.

Every repository method runs in a transaction of its own, or in one that
``transaction()`` opened and the caller hands over as ``tx=`` (store/base.py).
The repositories (pools.py, users.py, tokens.py, ttl.py, attempts.py) extend
``Database``; sql.py puts them together.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cognate.store.base import Tx
from cognate.store.compiled import PREPARED, SqliteStatement, marked, prepared
from cognate.store.pg import PG_CONNECT_TIMEOUT_S, PG_IDLE_PING_S, PgPool

__all__ = ["PG_CONNECT_TIMEOUT_S", "PG_IDLE_PING_S", "Database", "prepared"]

_MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION_RE = re.compile(r'^(down_revision|revision) = (?:"([^"]+)"|None)$', re.MULTILINE)


def head_revision() -> str:
    """The newest migration's revision, read from the version files as Alembic would find it:
    the one revision that is no other's ``down_revision`` (a branched history is an error)."""
    revisions, parents = set(), set()
    for path in (_MIGRATIONS / "versions").glob("*.py"):
        found = {m[1]: m[2] for m in _REVISION_RE.finditer(path.read_text())}
        if found.get("revision"):
            revisions.add(found["revision"])
            if found.get("down_revision"):
                parents.add(found["down_revision"])
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


# The transaction ``transaction()`` holds open in this task (and the tasks it starts).
_OPEN: ContextVar[SqlTx | None] = ContextVar("cognate_open_transaction", default=None)

# How long a write waits, in all, for another process to release SQLite's write lock.
SQLITE_WRITE_WAIT_S = 15.0
# SQLite page cache per connection, by default SQLite's own (2 MiB); --sqlite-cache-mib.
DEFAULT_SQLITE_CACHE_MIB = 2
# PostgreSQL advisory locks: one migration at a time, and one start-up's preparation at a time.
MIGRATION_LOCK = 7283946
STARTUP_LOCK = 7283947
PURGE_LOCK = 7283948
# The most PostgreSQL connections one process opens (config.py's --database-pool-size).
DEFAULT_POOL_SIZE = 16
# A reader waits (rarely: only while another process recovers the WAL) this long, in SQLite.
SQLITE_READ_BUSY_MS = 1000
# Reader connections kept open between reads (more are opened while more reads overlap).
SQLITE_IDLE_READERS = 4


def async_url(url: str) -> str:
    """The SQLAlchemy URL with its driver: pysqlite (in the loop) or asyncpg."""
    if url.startswith("sqlite:///"):
        return "sqlite+pysqlite:///" + url[len("sqlite:///") :]
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError(f"unsupported database URL: {url}")


def db_file(url: str) -> str | None:
    """The SQLite file of a URL, or None for other databases."""
    if url.startswith("sqlite:///"):
        return os.path.abspath(url[len("sqlite:///") :])
    return None


def _sqlite_engine(url: str, begin: str, busy_ms: int, cache_mib: int) -> sa.Engine:
    # One thread (the event loop's) uses these connections; the pool never blocks.
    engine = sa.create_engine(
        url,
        poolclass=sa.pool.QueuePool,
        pool_size=4,
        max_overflow=-1,
        connect_args={"check_same_thread": False},
        json_serializer=_json_text,
        json_deserializer=_json_value,
    )

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.execute("PRAGMA synchronous=NORMAL")
        # Pages kept per connection (--sqlite-cache-mib): with a million users a larger cache
        # keeps a row's B-tree descent from reading its pages back from the OS.
        cur.execute(f"PRAGMA cache_size=-{cache_mib * 1024}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # Database.read and .write begin at the driver; SQLAlchemy then joins that transaction.
        if not conn.connection.driver_connection.in_transaction:
            _driver_do(conn, begin)

    return engine


def _json_text(value: Any) -> str:
    """JSON columns written by orjson (several times faster than ``json``); what it
    refuses (integers beyond 64 bits, non-string keys) as ``json`` writes it."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def _json_value(text: str | bytes) -> Any:
    """JSON columns read by orjson; what it refuses (``NaN``, integers beyond 64 bits) by ``json``."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _driver_do(conn: sa.Connection, sql: str) -> None:
    """``BEGIN``/``COMMIT``/``ROLLBACK`` straight to the driver (SQLAlchemy's transaction
    machinery costs several times the statement), its errors raised as SQLAlchemy's."""
    driver = conn.connection.driver_connection
    assert driver is not None
    try:
        driver.execute(sql)
    except sqlite3.Error as exc:
        raise sa.exc.DBAPIError.instance(sql, None, exc, sqlite3.Error) from exc


def _end(conn: sa.Connection, *, commit: bool) -> None:
    """End the transaction begun at the driver (through SQLAlchemy if a statement it ran
    made it take part)."""
    if conn.in_transaction():
        conn.commit() if commit else conn.rollback()
    elif conn.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
        _driver_do(conn, "COMMIT" if commit else "ROLLBACK")


def _is_busy(exc: sa.exc.OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "locked" in text or "busy" in text


class LoopConnection:
    """The awaitable face of a pysqlite connection, run in the event loop (see above).

    It offers what the store uses of ``AsyncConnection``: ``execute``, ``exec_driver_sql``,
    ``run_sync`` and ``begin_nested``.
    """

    def __init__(self, conn: sa.Connection, compiled: dict[int, SqliteStatement | None]) -> None:
        self.sync_connection = conn
        self._compiled = compiled

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        if marked(statement, parameters):
            key = id(statement)
            if key not in self._compiled:
                try:
                    self._compiled[key] = SqliteStatement(PREPARED[key], self.sync_connection.dialect)
                except ValueError:
                    self._compiled[key] = None
            found = self._compiled[key]
            if found is not None:
                return found.run(self.sync_connection, parameters)
        return self.sync_connection.execute(statement, parameters)

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> Any:
        return self.sync_connection.exec_driver_sql(statement, parameters)

    async def run_sync(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        return fn(self.sync_connection, *args, **kw)

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[Any]:
        with self.sync_connection.begin_nested() as savepoint:
            yield savepoint


class SqlTx:
    """A write transaction several repository calls share (``Database.transaction()``)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self._after_commit: list[Callable[[], object]] = []

    def after_commit(self, fn: Callable[[], object]) -> None:
        self._after_commit.append(fn)


class Database:
    """Engines and transactions; the repositories add their tables' methods."""

    def __init__(
        self,
        database_url: str,
        *,
        clock: Callable[[], float] = time.time,
        pool_size: int = DEFAULT_POOL_SIZE,
        sqlite_cache_mib: int = DEFAULT_SQLITE_CACHE_MIB,
    ) -> None:
        """``clock`` tells the time that TTL items expire by (tests pin it); ``pool_size`` is the
        most PostgreSQL connections this process opens (``--database-pool-size``): half of them
        stay open while idle, the rest are opened under load and closed once unused for 10 s;
        ``sqlite_cache_mib`` the page cache of each SQLite connection (``--sqlite-cache-mib``)."""
        self.url = async_url(database_url)
        self._now = clock
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            path = self.url.split("///", 1)[1]
            if not path or path == ":memory:" or "mode=memory" in path:
                # Readers and writers use separate connections: they must share a file.
                raise ValueError(
                    "SQLite needs a file: sqlite:///PATH (in-memory databases are not supported)"
                )
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._sqlite_reader = _sqlite_engine(self.url, "BEGIN", SQLITE_READ_BUSY_MS, sqlite_cache_mib)
            self._sqlite_writer = _sqlite_engine(self.url, "BEGIN IMMEDIATE", 0, sqlite_cache_mib)
            # The writers of this process take turns here, in the event loop, on one
            # connection kept open; readers reuse the connections they leave (taking one
            # from the pool and giving it back, rolled back, costs more than most reads).
            self._write_lock = asyncio.Lock()
            self._write_conn: sa.Connection | None = None
            self._idle_readers: list[sa.Connection] = []
            self._compiled: dict[int, SqliteStatement | None] = {}  # prepared() statements, as compiled
        else:
            # Imported for PostgreSQL only: with SQLAlchemy's ORM they are a third of a start-up.
            from sqlalchemy.ext.asyncio import create_async_engine

            # The connections are pooled by PgPool (pg.py); SQLAlchemy only opens them, in
            # AUTOCOMMIT mode: write() begins and commits its transactions itself.
            self._pg = create_async_engine(
                self.url,
                poolclass=sa.pool.NullPool,
                isolation_level="AUTOCOMMIT",
                connect_args={"timeout": PG_CONNECT_TIMEOUT_S},
                json_serializer=_json_text,
                json_deserializer=_json_value,
            )
            self._pg_pool = PgPool(self._pg, pool_size, max(1, pool_size // 2))

    @property
    def _writer(self) -> sa.Engine:
        """The engine writes go through (tests hook its events)."""
        return self._sqlite_writer if self.is_sqlite else self._pg.sync_engine

    async def close(self) -> None:
        if self.is_sqlite:
            while self._idle_readers:
                self._idle_readers.pop().close()
            if self._write_conn is not None:
                self._write_conn.close()
                self._write_conn = None
            self._sqlite_reader.dispose()
            self._sqlite_writer.dispose()
        else:
            await self._pg_pool.close()
            await self._pg.dispose()

    # --- transactions -------------------------------------------------------------

    @asynccontextmanager
    async def read(self, tx: Tx | None = None) -> AsyncIterator[Any]:
        """A read-only transaction, or the connection of ``tx`` (which sees its writes).

        On PostgreSQL each statement is a transaction of its own: under READ COMMITTED a
        statement sees the same inside a transaction as outside one (pg.py)."""
        if tx is not None:
            yield _conn_of(tx)
            return
        if not self.is_sqlite:
            async with self._pg_pool.connection() as conn:
                yield conn
            return
        idle = self._idle_readers
        reader = idle.pop() if idle else self._sqlite_reader.connect()
        ended = False
        try:
            _driver_do(reader, "BEGIN")
            yield LoopConnection(reader, self._compiled)
            _end(reader, commit=True)
            ended = True
        finally:
            if ended and len(idle) < SQLITE_IDLE_READERS:
                idle.append(reader)
            else:
                try:
                    if not ended:
                        _end(reader, commit=False)
                finally:
                    reader.close()

    @asynccontextmanager
    async def write(self, tx: Tx | None = None, *, single: bool = False) -> AsyncIterator[Any]:
        """A write transaction of its own, committed on exit; or the connection of ``tx``.

        ``single``: the block runs one statement, which on PostgreSQL is then a transaction
        by itself (no ``BEGIN`` and ``COMMIT`` round trips) and a second one is refused."""
        if tx is not None:
            yield _conn_of(tx)
            return
        if _OPEN.get() is not None:
            # It would wait for the transaction this very task holds (SQLite's write lock,
            # PostgreSQL's row locks): a deadlock, refused at once instead.
            raise RuntimeError("a write inside store.transaction() must be given tx=")
        if not self.is_sqlite:
            async with self._pg_pool.connection() as conn:
                if single:
                    conn.single = True
                    yield conn
                    return
                await conn.command("BEGIN")
                try:
                    yield conn
                except BaseException:
                    await conn.rollback()
                    raise
                await conn.command("COMMIT")
            return
        async with self._write_lock:
            sync_conn = await self._begin_sqlite_write()
            try:
                yield LoopConnection(sync_conn, self._compiled)
                _end(sync_conn, commit=True)
            except BaseException:
                # Rolled back and given up: the next write starts on a fresh connection.
                self._write_conn = None
                try:
                    _end(sync_conn, commit=False)
                finally:
                    sync_conn.close()
                raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlTx]:
        """One write transaction that the calls given ``tx=`` share; commits on exit.

        On SQLite it holds the database's write lock (and this process's writers
        wait for it): keep it short, and never await anything but the store inside.
        """
        async with self.write() as conn:
            tx = SqlTx(conn)
            token = _OPEN.set(tx)
            try:
                yield tx
            finally:
                _OPEN.reset(token)
        for fn in tx._after_commit:
            fn()

    async def _first_to_lock(self, conn: Any, key: int) -> bool:
        """PostgreSQL: take the advisory lock ``key`` for this transaction if nobody holds it;
        False if another transaction does. SQLite's write transaction is exclusive already."""
        if self.is_sqlite:
            return True
        got = await conn.execute(sa.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key})
        return bool(got.scalar())

    def _locking(self, query: Any, tx: Tx | None) -> Any:
        """``query`` locking the rows it reads when it runs in a write transaction (PostgreSQL)."""
        return query.with_for_update() if tx is not None and not self.is_sqlite else query

    async def _begin_sqlite_write(self) -> sa.Connection:
        """``BEGIN IMMEDIATE``; while another process writes, sleep (asynchronously) and retry."""
        delay, waited = 0.001, 0.0
        while True:
            conn = self._write_conn
            if conn is None or conn.closed or conn.invalidated:
                conn = self._write_conn = self._sqlite_writer.connect()
            try:
                _driver_do(conn, "BEGIN IMMEDIATE")
                return conn
            except sa.exc.OperationalError as exc:
                self._write_conn = None
                conn.close()
                if not _is_busy(exc) or waited >= SQLITE_WRITE_WAIT_S:
                    raise
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 0.05)

    # --- dialect helpers ------------------------------------------------------------

    def _insert(self, table: sa.Table) -> Any:
        """The dialect's INSERT, which knows ``ON CONFLICT`` (upserts) on both backends."""
        if self.is_sqlite:
            return sqlite_insert(table)
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)

    # --- migrations -------------------------------------------------------------

    async def schema_version(self) -> str | None:
        """The Alembic revision the database is at (None for a new database)."""
        async with self.read() as conn:
            try:
                row = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).first()
            except sa.exc.DBAPIError:  # no such table yet
                return None
        return str(row[0]) if row else None

    @asynccontextmanager
    async def starting(self) -> AsyncIterator[None]:
        """Held while this process prepares the database at start (migrations, then the seed).

        On PostgreSQL it is a session advisory lock: nodes started at once take turns, so
        the one that comes second finds what the first one seeded instead of creating it
        again. SQLite has one ``cognate serve`` per file (its workers never prepare).
        """
        if self.is_sqlite:
            yield
            return
        async with self._pg.connect() as conn:
            await conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": STARTUP_LOCK})
            await conn.commit()  # the lock is the session's: no transaction stays open meanwhile
            try:
                yield
            finally:
                await conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": STARTUP_LOCK})
                await conn.commit()

    async def migrate(self) -> None:
        """Bring the schema to the newest version (versioned Alembic migrations).

        A database already at the newest revision is left alone without loading Alembic
        (a third of a start-up's imports)."""
        if await self.schema_version() == head_revision():
            return
        from alembic import command
        from alembic.config import Config

        def run(sync_conn: sa.Connection) -> None:
            cfg = Config()
            cfg.set_main_option("script_location", str(_MIGRATIONS))
            cfg.attributes["connection"] = sync_conn
            if not self.is_sqlite:
                # Several nodes may start at once: one migrates, the others wait.
                sync_conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
            command.upgrade(cfg, "head")

        async with self.write() as conn:
            await conn.run_sync(run)


def prefix_range(prefix: str) -> tuple[str | None, str | None]:
    """The strings that start with ``prefix``, as a range [low, high) of code-point order.

    ``high`` is the least string after every string that starts with ``prefix``: its last
    code point below U+10FFFF, plus one (None when there is none, or no bound at all for
    the empty prefix). The compared columns sort by code point on both backends (SQLite's
    BINARY, and the "C" collation migration 0006 gives them on PostgreSQL; UTF-8's byte
    order is the code points' order), so the range is exact and read from an index. LIKE
    would not do: SQLite's ignores case, and under a linguistic collation PostgreSQL's
    cannot use an index.
    """
    if not prefix:
        return None, None
    head = prefix.rstrip("\U0010ffff")
    if not head:
        return prefix, None
    nxt = ord(head[-1]) + 1
    if 0xD800 <= nxt <= 0xDFFF:  # surrogates are not text: the next code point is U+E000
        nxt = 0xE000
    return prefix, head[:-1] + chr(nxt)


def _conn_of(tx: Tx) -> Any:
    if not isinstance(tx, SqlTx):
        raise TypeError(f"not a transaction of this store: {tx!r}")
    return tx.conn
