"""The store: SQLite (default) and PostgreSQL behind one SQLAlchemy Core implementation.

PostgreSQL goes through asyncpg. SQLite is an embedded library whose statements are
microsecond-scale function calls on a file in the page cache: they run in the event
loop itself (sqlite3 through SQLAlchemy's pysqlite dialect), because a hop to a
driver thread costs about ten times the statement. Nothing there waits on anything:
the file is in WAL mode, so readers never wait for writers; writes begin
``BEGIN IMMEDIATE`` without a busy timeout, and when another process holds the write
lock the transaction is retried after an asynchronous sleep, never by blocking the
loop. Several worker processes thus share one file safely.

Codes, sessions and lockout counters are changed by single atomic statements
(``DELETE ... RETURNING``, ``UPDATE ... RETURNING``) so that two workers or nodes never
both win.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from cognate.core.entities import (
    Client,
    Domain,
    Group,
    Lockout,
    Pool,
    RefreshToken,
    ResourceServer,
    SigningKey,
    User,
    UserStatus,
)
from cognate.store import schema as t
from cognate.store.base import Conflict

_MIGRATIONS = Path(__file__).parent / "migrations"

# Access and ID tokens live at most one day (Cognito's limit); a revoked refresh-token
# family is kept that long past its expiry so ``origin_revoked`` still refuses them.
REVOCATION_HORIZON_S = 86400.0
# Failure counts are forgotten after 15 quiet minutes; their rows are removed after a day.
LOCKOUT_HORIZON_S = 86400.0


def async_url(url: str) -> str:
    """The SQLAlchemy URL with its driver: pysqlite (in the loop) or asyncpg."""
    if url.startswith("sqlite:///"):
        return "sqlite+pysqlite:///" + url[len("sqlite:///") :]
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError(f"unsupported database URL: {url}")


# How long a write waits, in all, for another process to release SQLite's write lock.
SQLITE_WRITE_WAIT_S = 15.0
# A reader waits (rarely: only while another process recovers the WAL) this long, in SQLite.
SQLITE_READ_BUSY_MS = 1000


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


# The lookups of the sign-in paths, built once (building a statement costs more than
# running it on SQLite).
_USER_BY_KEY = t.users.select().where(
    t.users.c.pool_id == sa.bindparam("b_pool_id"), t.users.c.username_key == sa.bindparam("b_key")
)
_USER_BY_SUB = t.users.select().where(
    t.users.c.sub == sa.bindparam("b_sub"), t.users.c.pool_id == sa.bindparam("b_pool_id")
)
_REFRESH_BY_HASH = t.refresh_tokens.select().where(t.refresh_tokens.c.token_hash == sa.bindparam("b_hash"))


class Store:
    """All persistence. Every public method is one transaction."""

    def __init__(self, database_url: str, *, clock: Callable[[], float] = time.time) -> None:
        """``clock`` tells the time that TTL items expire by (tests pin it)."""
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
            self._pg = create_async_engine(self.url, pool_size=8, max_overflow=8, pool_pre_ping=False)

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

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Any]:
        if not self.is_sqlite:
            async with self._pg.begin() as conn:
                yield conn
            return
        with self._sqlite_reader.begin() as conn:
            yield LoopConnection(conn)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Any]:
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

    async def migrate(self) -> None:
        """Bring the schema to the newest version (versioned Alembic migrations)."""

        def run(sync_conn: sa.Connection) -> None:
            cfg = Config()
            cfg.set_main_option("script_location", str(_MIGRATIONS))
            cfg.attributes["connection"] = sync_conn
            if not self.is_sqlite:
                # Several nodes may start at once: one migrates, the others wait.
                sync_conn.execute(sa.text("SELECT pg_advisory_xact_lock(7283946)"))
            command.upgrade(cfg, "head")

        async with self.write() as conn:
            await conn.run_sync(run)

    # --- pools ------------------------------------------------------------------

    @staticmethod
    def _pool(row: Any) -> Pool:
        return Pool(id=row.id, name=row.name, created=row.created, modified=row.modified, doc=row.doc)

    async def insert_pool(self, pool: Pool) -> None:
        async with self.write() as conn:
            try:
                await conn.execute(
                    t.pools.insert().values(
                        id=pool.id, name=pool.name, created=pool.created, modified=pool.modified, doc=pool.doc
                    )
                )
            except IntegrityError as exc:
                raise Conflict(pool.id) from exc

    async def get_pool(self, pool_id: str) -> Pool | None:
        async with self.read() as conn:
            row = (await conn.execute(t.pools.select().where(t.pools.c.id == pool_id))).first()
        return self._pool(row) if row else None

    async def update_pool(self, pool: Pool) -> None:
        async with self.write() as conn:
            await conn.execute(
                t.pools.update()
                .where(t.pools.c.id == pool.id)
                .values(name=pool.name, modified=pool.modified, doc=pool.doc)
            )

    async def list_pools(self, limit: int, after: str | None) -> list[Pool]:
        q = t.pools.select().order_by(t.pools.c.id).limit(limit)
        if after:
            q = q.where(t.pools.c.id > after)
        async with self.read() as conn:
            return [self._pool(r) for r in await conn.execute(q)]

    async def delete_pool(self, pool_id: str) -> None:
        """Delete a pool and everything in it, in one transaction."""
        async with self.write() as conn:
            for table in (
                t.clients,
                t.users,
                t.user_attrs,
                t.groups,
                t.user_groups,
                t.resource_servers,
                t.domains,
                t.refresh_tokens,
                t.signing_keys,
                t.lockouts,
            ):
                await conn.execute(table.delete().where(table.c.pool_id == pool_id))
            await conn.execute(t.pools.delete().where(t.pools.c.id == pool_id))

    async def count_users(self, pool_id: str) -> int:
        async with self.read() as conn:
            q = sa.select(sa.func.count()).select_from(t.users).where(t.users.c.pool_id == pool_id)
            return int((await conn.execute(q)).scalar_one())

    # --- clients ----------------------------------------------------------------

    @staticmethod
    def _client(row: Any, secret: str | None) -> Client:
        return Client(
            id=row.id,
            pool_id=row.pool_id,
            name=row.name,
            created=row.created,
            modified=row.modified,
            doc=row.doc,
            secret=secret,
        )

    async def insert_client(self, client: Client, secret_enc: str | None) -> None:
        async with self.write() as conn:
            try:
                await conn.execute(
                    t.clients.insert().values(
                        id=client.id,
                        pool_id=client.pool_id,
                        name=client.name,
                        secret_enc=secret_enc,
                        created=client.created,
                        modified=client.modified,
                        doc=client.doc,
                    )
                )
            except IntegrityError as exc:
                raise Conflict(client.id) from exc

    async def get_client(self, client_id: str) -> tuple[Client, str | None] | None:
        """The client and its encrypted secret (decrypted by the caller)."""
        async with self.read() as conn:
            row = (await conn.execute(t.clients.select().where(t.clients.c.id == client_id))).first()
        return (self._client(row, None), row.secret_enc) if row else None

    async def update_client(self, client: Client) -> None:
        async with self.write() as conn:
            await conn.execute(
                t.clients.update()
                .where(t.clients.c.id == client.id)
                .values(name=client.name, modified=client.modified, doc=client.doc)
            )

    async def list_clients(self, pool_id: str, limit: int, after: str | None) -> list[Client]:
        q = t.clients.select().where(t.clients.c.pool_id == pool_id).order_by(t.clients.c.id).limit(limit)
        if after:
            q = q.where(t.clients.c.id > after)
        async with self.read() as conn:
            return [self._client(r, None) for r in await conn.execute(q)]

    async def delete_client(self, client_id: str) -> None:
        async with self.write() as conn:
            await conn.execute(t.refresh_tokens.delete().where(t.refresh_tokens.c.client_id == client_id))
            await conn.execute(t.clients.delete().where(t.clients.c.id == client_id))

    # --- users ------------------------------------------------------------------

    @staticmethod
    def _user(row: Any) -> User:
        return User(
            sub=row.sub,
            pool_id=row.pool_id,
            username=row.username,
            status=UserStatus(row.status),
            enabled=row.enabled,
            attributes=row.attributes,
            created=row.created,
            modified=row.modified,
            password_hash=row.password_hash,
            srp_secret=row.srp_secret,
            password_expires=row.password_expires,
            mfa=row.mfa,
            tokens_valid_after=row.tokens_valid_after,
        )

    @staticmethod
    def _user_values(user: User, username_key: str) -> dict[str, Any]:
        return {
            "sub": user.sub,
            "pool_id": user.pool_id,
            "username": user.username,
            "username_key": username_key,
            "status": str(user.status),
            "enabled": user.enabled,
            "attributes": user.attributes,
            "password_hash": user.password_hash,
            "srp_secret": user.srp_secret,
            "password_expires": user.password_expires,
            "mfa": user.mfa,
            "tokens_valid_after": user.tokens_valid_after,
            "created": user.created,
            "modified": user.modified,
        }

    @staticmethod
    async def _index_attrs(conn: Any, user: User, indexed: Iterable[tuple[str, str]]) -> None:
        await conn.execute(t.user_attrs.delete().where(t.user_attrs.c.sub == user.sub))
        rows = [{"pool_id": user.pool_id, "name": n, "value": v, "sub": user.sub} for n, v in indexed]
        if rows:
            await conn.execute(t.user_attrs.insert(), rows)

    async def insert_user(self, user: User, username_key: str, indexed: Iterable[tuple[str, str]]) -> None:
        async with self.write() as conn:
            try:
                await conn.execute(t.users.insert().values(**self._user_values(user, username_key)))
            except IntegrityError as exc:
                raise Conflict(user.username) from exc
            await self._index_attrs(conn, user, indexed)

    async def update_user(
        self, user: User, username_key: str, indexed: Iterable[tuple[str, str]] | None = None
    ) -> None:
        """Rewrite a user; with ``indexed``, its attribute index too (same transaction)."""
        values = self._user_values(user, username_key)
        del values["sub"], values["created"]
        async with self.write() as conn:
            try:
                await conn.execute(t.users.update().where(t.users.c.sub == user.sub).values(**values))
            except IntegrityError as exc:
                raise Conflict(user.username) from exc
            if indexed is not None:
                await self._index_attrs(conn, user, indexed)

    async def get_user(self, pool_id: str, username_key: str) -> User | None:
        async with self.read() as conn:
            row = (await conn.execute(_USER_BY_KEY, {"b_pool_id": pool_id, "b_key": username_key})).first()
        return self._user(row) if row else None

    async def get_user_by_sub(self, pool_id: str, sub: str) -> User | None:
        async with self.read() as conn:
            row = (await conn.execute(_USER_BY_SUB, {"b_pool_id": pool_id, "b_sub": sub})).first()
        return self._user(row) if row else None

    async def find_subs_by_attr(self, pool_id: str, name: str, value: str) -> list[str]:
        q = sa.select(t.user_attrs.c.sub).where(
            t.user_attrs.c.pool_id == pool_id, t.user_attrs.c.name == name, t.user_attrs.c.value == value
        )
        async with self.read() as conn:
            return [r.sub for r in await conn.execute(q)]

    async def delete_user(self, pool_id: str, sub: str) -> None:
        async with self.write() as conn:
            for table in (t.user_attrs, t.user_groups, t.refresh_tokens):
                await conn.execute(table.delete().where(table.c.pool_id == pool_id, table.c.sub == sub))
            await conn.execute(t.users.delete().where(t.users.c.sub == sub))

    async def list_users(
        self,
        pool_id: str,
        limit: int,
        after: str | None,
        attr: tuple[str, str, str] | None = None,
        column: tuple[str, str, str] | None = None,
    ) -> list[User]:
        """Users in username order after ``after``.

        ``attr`` = (name, op, value) filters through the attribute index; ``column``
        filters on a users column (username, status) -- both indexed or pool-bounded.
        ``op`` is ``=`` or ``^=`` (prefix), as Cognito's ListUsers Filter allows.
        """
        q = t.users.select().where(t.users.c.pool_id == pool_id)
        if attr is not None:
            name, op, value = attr
            cond = [t.user_attrs.c.pool_id == pool_id, t.user_attrs.c.name == name]
            if op == "=":
                cond.append(t.user_attrs.c.value == value)
            else:
                cond.append(self._prefix(t.user_attrs.c.value, value))
            q = q.where(t.users.c.sub.in_(sa.select(t.user_attrs.c.sub).where(*cond)))
        if column is not None:
            name, op, value = column
            col = t.users.c[name]
            if op == "=":
                q = q.where(col == value)
            else:
                q = q.where(self._prefix(col, value))
        if after:
            q = q.where(t.users.c.username_key > after)
        q = q.order_by(t.users.c.username_key).limit(limit)
        async with self.read() as conn:
            return [self._user(r) for r in await conn.execute(q)]

    # --- groups -----------------------------------------------------------------

    @staticmethod
    def _group(row: Any) -> Group:
        return Group(
            pool_id=row.pool_id, name=row.name, created=row.created, modified=row.modified, doc=row.doc
        )

    async def insert_group(self, group: Group) -> None:
        async with self.write() as conn:
            try:
                await conn.execute(
                    t.groups.insert().values(
                        pool_id=group.pool_id,
                        name=group.name,
                        created=group.created,
                        modified=group.modified,
                        doc=group.doc,
                    )
                )
            except IntegrityError as exc:
                raise Conflict(group.name) from exc

    async def get_group(self, pool_id: str, name: str) -> Group | None:
        q = t.groups.select().where(t.groups.c.pool_id == pool_id, t.groups.c.name == name)
        async with self.read() as conn:
            row = (await conn.execute(q)).first()
        return self._group(row) if row else None

    async def update_group(self, group: Group) -> None:
        async with self.write() as conn:
            await conn.execute(
                t.groups.update()
                .where(t.groups.c.pool_id == group.pool_id, t.groups.c.name == group.name)
                .values(modified=group.modified, doc=group.doc)
            )

    async def list_groups(self, pool_id: str, limit: int, after: str | None) -> list[Group]:
        q = t.groups.select().where(t.groups.c.pool_id == pool_id).order_by(t.groups.c.name).limit(limit)
        if after:
            q = q.where(t.groups.c.name > after)
        async with self.read() as conn:
            return [self._group(r) for r in await conn.execute(q)]

    async def delete_group(self, pool_id: str, name: str) -> None:
        async with self.write() as conn:
            await conn.execute(
                t.user_groups.delete().where(
                    t.user_groups.c.pool_id == pool_id, t.user_groups.c.group_name == name
                )
            )
            await conn.execute(
                t.groups.delete().where(t.groups.c.pool_id == pool_id, t.groups.c.name == name)
            )

    async def add_user_to_group(self, pool_id: str, group_name: str, sub: str) -> None:
        """Idempotent, also when two requests add the same membership at once."""
        stmt = self._insert(t.user_groups).values(pool_id=pool_id, group_name=group_name, sub=sub)
        async with self.write() as conn:
            await conn.execute(stmt.on_conflict_do_nothing())

    async def remove_user_from_group(self, pool_id: str, group_name: str, sub: str) -> None:
        async with self.write() as conn:
            await conn.execute(
                t.user_groups.delete().where(
                    t.user_groups.c.pool_id == pool_id,
                    t.user_groups.c.group_name == group_name,
                    t.user_groups.c.sub == sub,
                )
            )

    async def groups_of_user(self, pool_id: str, sub: str) -> list[Group]:
        j = t.groups.join(
            t.user_groups,
            sa.and_(
                t.user_groups.c.pool_id == t.groups.c.pool_id, t.user_groups.c.group_name == t.groups.c.name
            ),
        )
        q = (
            sa.select(t.groups)
            .select_from(j)
            .where(t.user_groups.c.sub == sub, t.groups.c.pool_id == pool_id)
        )
        async with self.read() as conn:
            return [self._group(r) for r in await conn.execute(q)]

    async def users_in_group(
        self, pool_id: str, group_name: str, limit: int, after: str | None
    ) -> list[User]:
        sub_q = sa.select(t.user_groups.c.sub).where(
            t.user_groups.c.pool_id == pool_id, t.user_groups.c.group_name == group_name
        )
        q = t.users.select().where(t.users.c.pool_id == pool_id, t.users.c.sub.in_(sub_q))
        if after:
            q = q.where(t.users.c.username_key > after)
        q = q.order_by(t.users.c.username_key).limit(limit)
        async with self.read() as conn:
            return [self._user(r) for r in await conn.execute(q)]

    # --- resource servers and domains ---------------------------------------------

    async def put_resource_server(self, rs: ResourceServer, *, create: bool) -> None:
        async with self.write() as conn:
            if create:
                try:
                    await conn.execute(
                        t.resource_servers.insert().values(
                            pool_id=rs.pool_id, identifier=rs.identifier, doc=rs.doc
                        )
                    )
                except IntegrityError as exc:
                    raise Conflict(rs.identifier) from exc
            else:
                await conn.execute(
                    t.resource_servers.update()
                    .where(
                        t.resource_servers.c.pool_id == rs.pool_id,
                        t.resource_servers.c.identifier == rs.identifier,
                    )
                    .values(doc=rs.doc)
                )

    async def list_resource_servers(self, pool_id: str) -> list[ResourceServer]:
        q = (
            t.resource_servers.select()
            .where(t.resource_servers.c.pool_id == pool_id)
            .order_by(t.resource_servers.c.identifier)
        )
        async with self.read() as conn:
            return [ResourceServer(r.pool_id, r.identifier, r.doc) for r in await conn.execute(q)]

    async def delete_resource_server(self, pool_id: str, identifier: str) -> None:
        async with self.write() as conn:
            await conn.execute(
                t.resource_servers.delete().where(
                    t.resource_servers.c.pool_id == pool_id, t.resource_servers.c.identifier == identifier
                )
            )

    async def insert_domain(self, domain: Domain) -> None:
        async with self.write() as conn:
            try:
                await conn.execute(
                    t.domains.insert().values(domain=domain.domain, pool_id=domain.pool_id, doc=domain.doc)
                )
            except IntegrityError as exc:
                raise Conflict(domain.domain) from exc

    async def get_domain(self, domain: str) -> Domain | None:
        async with self.read() as conn:
            r = (await conn.execute(t.domains.select().where(t.domains.c.domain == domain))).first()
        return Domain(r.domain, r.pool_id, r.doc) if r else None

    async def domains_of_pool(self, pool_id: str) -> list[Domain]:
        async with self.read() as conn:
            rows = await conn.execute(t.domains.select().where(t.domains.c.pool_id == pool_id))
            return [Domain(r.domain, r.pool_id, r.doc) for r in rows]

    async def update_domain(self, domain: Domain) -> None:
        """Replace the settings of a domain (its name and pool never change)."""
        async with self.write() as conn:
            await conn.execute(
                t.domains.update()
                .where(t.domains.c.domain == domain.domain, t.domains.c.pool_id == domain.pool_id)
                .values(doc=domain.doc)
            )

    async def delete_domain(self, domain: str) -> None:
        async with self.write() as conn:
            await conn.execute(t.domains.delete().where(t.domains.c.domain == domain))

    # --- TTL store (codes, challenge sessions) -------------------------------------

    async def put(self, kind: str, key: str, doc: Mapping[str, Any], ttl_s: float) -> None:
        """Store ``doc`` under (kind, key) for ``ttl_s`` seconds, replacing what was there."""
        stmt = self._insert(t.ttl_items).values(
            kind=kind, key=key, doc=dict(doc), expires=self._now() + ttl_s
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.ttl_items.c.kind, t.ttl_items.c.key],
            set_={"doc": stmt.excluded.doc, "expires": stmt.excluded.expires},
        )
        async with self.write() as conn:
            await conn.execute(stmt)

    async def get(self, kind: str, key: str) -> dict[str, Any] | None:
        q = sa.select(t.ttl_items.c.doc).where(
            t.ttl_items.c.kind == kind, t.ttl_items.c.key == key, t.ttl_items.c.expires > self._now()
        )
        async with self.read() as conn:
            row = (await conn.execute(q)).first()
        return dict(row.doc) if row else None

    async def consume(self, kind: str, key: str) -> dict[str, Any] | None:
        q = (
            t.ttl_items.delete()
            .where(t.ttl_items.c.kind == kind, t.ttl_items.c.key == key)
            .returning(t.ttl_items.c.doc, t.ttl_items.c.expires)
        )
        async with self.write() as conn:
            row = (await conn.execute(q)).first()
        if row is None or row.expires <= self._now():
            return None
        return dict(row.doc)

    async def delete(self, kind: str, key: str) -> None:
        async with self.write() as conn:
            await conn.execute(
                t.ttl_items.delete().where(t.ttl_items.c.kind == kind, t.ttl_items.c.key == key)
            )

    async def purge_expired(self) -> int:
        now = self._now()
        async with self.write() as conn:
            r1 = await conn.execute(t.ttl_items.delete().where(t.ttl_items.c.expires <= now))
            rt = t.refresh_tokens.c
            r2 = await conn.execute(
                t.refresh_tokens.delete().where(
                    rt.expires <= now,
                    sa.or_(rt.revoked_at.is_(None), rt.expires <= now - REVOCATION_HORIZON_S),
                )
            )
            # Lockout counters that can no longer matter: no lockout running, nothing in
            # flight, and the last failure older than any quiet period (one day).
            lk = t.lockouts.c
            r3 = await conn.execute(
                t.lockouts.delete().where(
                    lk.locked_until <= now,
                    lk.last_failure <= now - LOCKOUT_HORIZON_S,
                    lk.pending_since <= now - 3600,
                )
            )
        return int(r1.rowcount or 0) + int(r2.rowcount or 0) + int(r3.rowcount or 0)

    # --- refresh tokens -----------------------------------------------------------

    @staticmethod
    def _refresh(row: Any) -> RefreshToken:
        return RefreshToken(
            token_hash=row.token_hash,
            pool_id=row.pool_id,
            client_id=row.client_id,
            sub=row.sub,
            origin_jti=row.origin_jti,
            created=row.created,
            expires=row.expires,
            doc=row.doc,
            revoked_at=row.revoked_at,
            rotated_at=row.rotated_at,
        )

    async def insert_refresh_token(self, rt: RefreshToken) -> None:
        async with self.write() as conn:
            await conn.execute(t.refresh_tokens.insert(), asdict(rt))

    async def get_refresh_token(self, token_hash: str) -> RefreshToken | None:
        async with self.read() as conn:
            row = (await conn.execute(_REFRESH_BY_HASH, {"b_hash": token_hash})).first()
        return self._refresh(row) if row else None

    async def rotate_refresh_token(self, old_hash: str, new: RefreshToken, now: float) -> bool:
        """Mark ``old_hash`` rotated (only if it was not already) and store ``new``: atomically."""
        async with self.write() as conn:
            res = await conn.execute(
                t.refresh_tokens.update()
                .where(
                    t.refresh_tokens.c.token_hash == old_hash,
                    t.refresh_tokens.c.rotated_at.is_(None),
                    t.refresh_tokens.c.revoked_at.is_(None),
                )
                .values(rotated_at=now)
            )
            if res.rowcount != 1:
                return False
            fresh = replace(new, revoked_at=None, rotated_at=None)
            await conn.execute(t.refresh_tokens.insert().values(**asdict(fresh)))
        return True

    async def revoke_refresh_family(self, origin_jti: str, now: float) -> None:
        async with self.write() as conn:
            await conn.execute(
                t.refresh_tokens.update()
                .where(t.refresh_tokens.c.origin_jti == origin_jti, t.refresh_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )

    async def origin_revoked(self, origin_jti: str) -> bool:
        q = sa.select(t.refresh_tokens.c.revoked_at).where(
            t.refresh_tokens.c.origin_jti == origin_jti, t.refresh_tokens.c.revoked_at.is_not(None)
        )
        async with self.read() as conn:
            return (await conn.execute(q.limit(1))).first() is not None

    async def sign_out_user(self, pool_id: str, sub: str, now: float) -> None:
        """Revoke every refresh token of the user and refuse tokens issued before ``now``."""
        async with self.write() as conn:
            await conn.execute(
                t.refresh_tokens.update()
                .where(
                    t.refresh_tokens.c.pool_id == pool_id,
                    t.refresh_tokens.c.sub == sub,
                    t.refresh_tokens.c.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )
            await conn.execute(t.users.update().where(t.users.c.sub == sub).values(tokens_valid_after=now))

    # --- signing keys --------------------------------------------------------------

    async def insert_signing_key(self, key: SigningKey) -> None:
        async with self.write() as conn:
            await conn.execute(t.signing_keys.insert().values(**asdict(key)))

    async def rotate_signing_keys(self, new_keys: Sequence[SigningKey], now: float) -> None:
        """Retire the pool's current keys of the new keys' purposes and add the new ones."""
        async with self.write() as conn:
            for key in new_keys:
                await conn.execute(
                    t.signing_keys.update()
                    .where(
                        t.signing_keys.c.pool_id == key.pool_id,
                        t.signing_keys.c.purpose == key.purpose,
                        t.signing_keys.c.retired.is_(None),
                    )
                    .values(retired=now)
                )
                await conn.execute(t.signing_keys.insert().values(**asdict(replace(key, retired=None))))

    async def signing_keys(self, pool_id: str) -> list[SigningKey]:
        q = (
            t.signing_keys.select()
            .where(t.signing_keys.c.pool_id == pool_id)
            .order_by(t.signing_keys.c.created)
        )
        async with self.read() as conn:
            return [
                SigningKey(
                    kid=r.kid,
                    pool_id=r.pool_id,
                    purpose=r.purpose,
                    private_pem_enc=r.private_pem_enc,
                    public_jwk=r.public_jwk,
                    created=r.created,
                    retired=r.retired,
                )
                for r in await conn.execute(q)
            ]

    # --- lockout counters ---------------------------------------------------------

    async def get_lockout(self, pool_id: str, user_key: str) -> Lockout | None:
        L = t.lockouts.c
        async with self.read() as conn:
            row = (
                await conn.execute(
                    sa.select(L.failures, L.locked_until, L.last_failure).where(
                        L.pool_id == pool_id, L.user_key == user_key
                    )
                )
            ).first()
        return Lockout(row.failures, row.locked_until, row.last_failure) if row else None


def db_file(url: str) -> str | None:
    """The SQLite file of a URL, or None for other databases."""
    if url.startswith("sqlite:///"):
        return os.path.abspath(url[len("sqlite:///") :])
    return None
