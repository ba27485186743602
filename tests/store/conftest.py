"""The storage suite's fixtures: one ``store`` fixture, parametrised over the backends.

SQLite gets a fresh temporary file per test. PostgreSQL runs when
``COGNATE_TEST_POSTGRES_URL`` is set: the run creates a database of its own
(``cognate_store_<random>``, ICU ``en-US`` collation where the server has it) next to
the one the URL names, migrates it once, empties
every table before each test and drops the database at the end, so two runs never
collide. Every store is migrated with ``Store.migrate()``, as the server does.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from cognate.store import schema
from cognate.store.sql import Store

POSTGRES_URL = os.environ.get("COGNATE_TEST_POSTGRES_URL")
NO_POSTGRES = "COGNATE_TEST_POSTGRES_URL is not set (e.g. postgresql://postgres@127.0.0.1:5432/test)"


class FakeClock:
    """A settable time source for the store, so expiry is tested without sleeping."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_admin(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this test run's own on the PostgreSQL server of COGNATE_TEST_POSTGRES_URL."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    name = f"cognate_store_{uuid.uuid4().hex[:12]}"
    try:
        # A linguistic collation, as most installations have, not the byte order of "C":
        # it catches queries that only work when text sorts byte-wise.
        asyncio.run(
            _pg_admin(
                POSTGRES_URL,
                f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' "
                "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'",
            )
        )
    except Exception:  # PostgreSQL < 15 or built without ICU: the server's default
        asyncio.run(_pg_admin(POSTGRES_URL, f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    async def prepare() -> None:
        store = Store(url)
        try:
            await store.migrate()
        finally:
            await store.close()

    asyncio.run(prepare())
    try:
        yield url
    finally:
        asyncio.run(_pg_admin(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _empty_tables(store: Store) -> None:
    async with store.write() as conn:
        for table in reversed(schema.metadata.sorted_tables):
            await conn.execute(table.delete())


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated-on-first-use database of the backend under test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cognate.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


StoreFactory = Callable[[], Awaitable[Store]]


@pytest.fixture
async def make_store(database_url: str, clock: FakeClock) -> AsyncIterator[StoreFactory]:
    """Open more Store instances on the test's database (as other workers or nodes would)."""
    opened: list[Store] = []

    async def make() -> Store:
        store = Store(database_url, clock=clock)
        opened.append(store)
        await store.migrate()
        return store

    try:
        yield make
    finally:
        for store in opened:
            await store.close()


@pytest.fixture
async def store(make_store: StoreFactory, database_url: str) -> Store:
    """A migrated, empty store on the backend under test."""
    s = await make_store()
    if not s.is_sqlite:
        await _empty_tables(s)
    return s


async def migrate_to(store: Store, revision: str, *, down: bool = False) -> None:
    """Upgrade (or downgrade) the store's schema to ``revision``, as Alembic would."""
    from alembic import command
    from alembic.config import Config

    def run(sync_conn: sa.Connection) -> None:
        cfg = Config()
        cfg.set_main_option("script_location", str(Path(schema.__file__).parent / "migrations"))
        cfg.attributes["connection"] = sync_conn
        (command.downgrade if down else command.upgrade)(cfg, revision)

    async with store.write() as conn:
        await conn.run_sync(run)


@asynccontextmanager
async def store_at(database_url: str, revision: str) -> AsyncIterator[Store]:
    """An empty store whose schema is at ``revision``: an older installation to upgrade.
    On PostgreSQL the shared test database is left at the head afterwards."""
    store = Store(database_url)
    if not store.is_sqlite:
        async with store.write() as conn:
            await conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            await conn.exec_driver_sql("CREATE SCHEMA public")
    await migrate_to(store, revision)
    try:
        yield store
    finally:
        if not store.is_sqlite:
            await store.migrate()
        await store.close()
