"""The database: engines, transactions and migrations, for SQLite (default) and PostgreSQL.

PostgreSQL goes through asyncpg. SQLite is an embedded library whose statements are
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
import os
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import create_async_engine

from cognate.store.base import Tx

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
# PostgreSQL advisory locks: one migration at a time, and one start-up's preparation at a time.
MIGRATION_LOCK = 7283946
STARTUP_LOCK = 7283947
PURGE_LOCK = 7283948
# The most PostgreSQL connections one process opens (config.py's --database-pool-size).
DEFAULT_POOL_SIZE = 16
# A reader waits (rarely: only while another process recovers the WAL) this long, in SQLite.
SQLITE_READ_BUSY_MS = 1000


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


def _sqlite_engine(url: str, begin: str, busy_ms: int) -> sa.Engine:
    # One thread (the event loop's) uses these connections; the pool never blocks.
    engine = sa.create_engine(
        url,
        poolclass=sa.pool.QueuePool,
        pool_size=4,
        max_overflow=-1,
        connect_args={"check_same_thread": False},
    )

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


def _is_busy(exc: sa.exc.OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "locked" in text or "busy" in text


class LoopConnection:
    """The awaitable face of a pysqlite connection, run in the event loop (see above).

    It offers what the store uses of ``AsyncConnection``: ``execute``, ``exec_driver_sql``,
    ``run_sync`` and ``begin_nested``.
    """

    def __init__(self, conn: sa.Connection) -> None:
        self.sync_connection = conn

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
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
        self, database_url: str, *, clock: Callable[[], float] = time.time, pool_size: int = DEFAULT_POOL_SIZE
    ) -> None:
        """``clock`` tells the time that TTL items expire by (tests pin it); ``pool_size`` is the
        most PostgreSQL connections this process opens (``--database-pool-size``): half of them
        stay open while idle, the rest are opened under load and closed once returned."""
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
            self._sqlite_reader = _sqlite_engine(self.url, "BEGIN", SQLITE_READ_BUSY_MS)
            self._sqlite_writer = _sqlite_engine(self.url, "BEGIN IMMEDIATE", 0)
            # The writers of this process take turns here, in the event loop.
            self._write_lock = asyncio.Lock()
        else:
            kept = max(1, pool_size // 2)
            self._pg = create_async_engine(
                self.url, pool_size=kept, max_overflow=max(0, pool_size - kept), pool_pre_ping=False
            )

    @property
    def _writer(self) -> sa.Engine:
        """The engine writes go through (tests hook its events)."""
        return self._sqlite_writer if self.is_sqlite else self._pg.sync_engine

    async def close(self) -> None:
        if self.is_sqlite:
            self._sqlite_reader.dispose()
            self._sqlite_writer.dispose()
        else:
            await self._pg.dispose()

    # --- transactions -------------------------------------------------------------

    @asynccontextmanager
    async def read(self, tx: Tx | None = None) -> AsyncIterator[Any]:
        """A read-only transaction, or the connection of ``tx`` (which sees its writes)."""
        if tx is not None:
            yield _conn_of(tx)
            return
        if not self.is_sqlite:
            async with self._pg.begin() as conn:
                yield conn
            return
        with self._sqlite_reader.begin() as conn:
            yield LoopConnection(conn)

    @asynccontextmanager
    async def write(self, tx: Tx | None = None) -> AsyncIterator[Any]:
        """A write transaction of its own, committed on exit; or the connection of ``tx``."""
        if tx is not None:
            yield _conn_of(tx)
            return
        if _OPEN.get() is not None:
            # It would wait for the transaction this very task holds (SQLite's write lock,
            # PostgreSQL's row locks): a deadlock, refused at once instead.
            raise RuntimeError("a write inside store.transaction() must be given tx=")
        if not self.is_sqlite:
            async with self._pg.begin() as conn:
                yield conn
            return
        async with self._write_lock:
            sync_conn = await self._begin_sqlite_write()
            try:
                yield LoopConnection(sync_conn)
                sync_conn.commit()
            except BaseException:
                sync_conn.rollback()
                raise
            finally:
                sync_conn.close()

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
            conn = self._sqlite_writer.connect()
            try:
                conn.begin()
                return conn
            except sa.exc.OperationalError as exc:
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
        return pg_insert(table)

    def _prefix(self, col: sa.ColumnElement[str], prefix: str) -> sa.ColumnElement[bool]:
        """``col`` starts with ``prefix``, case-sensitively, wildcards taken literally.

        SQLite compares text byte-wise (BINARY), so a range up to ``prefix`` + U+10FFFF is
        exact and uses the index; its LIKE ignores case. On PostgreSQL that range would
        follow the database collation (under ICU or en_US, "ABc" sorts between "ab" and
        "ab" + U+10FFFF), so it gets LIKE, which is case-sensitive there.
        """
        if self.is_sqlite:
            return sa.and_(col >= prefix, col < prefix + "\U0010ffff")
        return col.startswith(prefix, autoescape=True)

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


def _conn_of(tx: Tx) -> Any:
    if not isinstance(tx, SqlTx):
        raise TypeError(f"not a transaction of this store: {tx!r}")
    return tx.conn
