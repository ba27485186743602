"""Migrations, URLs, and a guard that this suite covers every public method of the store."""

from __future__ import annotations

import asyncio
import inspect
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from cognate.store import schema
from cognate.store.engine import head_revision
from cognate.store.sql import Store, async_url, db_file
from tests.store import factories as f
from tests.store.conftest import StoreFactory

P = "us-east-1_Pool00001"


@pytest.mark.anyio
async def test_migrate_is_idempotent_and_keeps_data(store: Store, make_store: StoreFactory) -> None:
    await store.insert_pool(f.pool(P))
    await store.migrate()
    await store.migrate()
    again = await make_store()  # a second node starting on the same database
    await again.migrate()
    assert await again.get_pool(P) == f.pool(P)


@pytest.mark.anyio
async def test_schema_version_and_head(store: Store, tmp_path: Path) -> None:
    """The head read from the version files is Alembic's own; a new database has none."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(schema.__file__).parent / "migrations"))
    assert head_revision() == ScriptDirectory.from_config(cfg).get_current_head()
    assert await store.schema_version() == head_revision()  # the fixture migrated it
    fresh = Store(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        assert await fresh.schema_version() is None
        await fresh.migrate()
        assert await fresh.schema_version() == head_revision()
        await fresh.migrate()  # at the head: nothing to do
        assert await fresh.schema_version() == head_revision()
    finally:
        await fresh.close()


@pytest.mark.anyio
async def test_concurrent_migrations(make_store: StoreFactory) -> None:
    """Several nodes starting at once: every migrate() succeeds."""
    stores = [await make_store() for _ in range(3)]
    await asyncio.gather(*(s.migrate() for s in stores))


@pytest.mark.anyio
async def test_migrated_schema_matches_the_metadata(store: Store) -> None:
    """The migrations create exactly the tables and columns schema.py declares."""

    def inspect_db(conn: sa.Connection) -> dict[str, set[str]]:
        insp = sa.inspect(conn)
        return {name: {c["name"] for c in insp.get_columns(name)} for name in insp.get_table_names()}

    async with store.read() as conn:
        found = await conn.run_sync(inspect_db)
    assert found.pop("alembic_version") == {"version_num"}
    assert found == {t.name: {c.name for c in t.columns} for t in schema.metadata.sorted_tables}


@pytest.mark.anyio
async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'sub' / 'cognate.db'}")
    try:
        await store.migrate()
        async with store.read() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar_one()
            timeout = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar_one()
        assert mode == "wal"
        assert timeout >= 500  # readers wait a little (WAL recovery only); writers retry asynchronously
    finally:
        await store.close()


@pytest.mark.anyio
async def test_sqlite_write_waits_for_another_process_lock_without_blocking(tmp_path: Path) -> None:
    """Another connection holds the write lock: our write waits asynchronously, then succeeds."""
    import asyncio
    import sqlite3

    db = tmp_path / "cognate.db"
    store = Store(f"sqlite:///{db}")
    try:
        await store.migrate()
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        write = asyncio.create_task(store.put("k", "a", {"v": 1}, 60))
        await asyncio.sleep(0.3)
        assert not write.done()  # still waiting for the lock ...
        assert ticks >= 10  # ... while the loop kept running
        other.execute("COMMIT")
        other.close()
        await asyncio.wait_for(write, 5)
        task.cancel()
        assert await store.get("k", "a") == {"v": 1}
    finally:
        await store.close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_async_url() -> None:
    assert async_url("sqlite:////tmp/x.db") == "sqlite+pysqlite:////tmp/x.db"
    assert async_url("sqlite:///rel.db") == "sqlite+pysqlite:///rel.db"
    for url in ("postgresql://u@h:5432/d", "postgres://u@h:5432/d", "postgresql+asyncpg://u@h:5432/d"):
        assert async_url(url) == "postgresql+asyncpg://u@h:5432/d"
    with pytest.raises(ValueError, match="unsupported"):
        async_url("mysql://h/d")


def test_db_file() -> None:
    assert db_file("sqlite:////tmp/x.db") == "/tmp/x.db"
    assert db_file("postgresql://h/d") is None


def test_the_suite_calls_every_public_method() -> None:
    here = Path(__file__).parent
    source = "\n".join(p.read_text() for p in here.glob("test_*.py"))
    source += (here / "conftest.py").read_text()
    public = [
        name
        for name, member in inspect.getmembers(Store)
        if not name.startswith("_") and (inspect.isfunction(member) or inspect.iscoroutinefunction(member))
    ]
    missing = [name for name in public if not re.search(rf"\.{name}\(", source)]
    assert missing == []


@pytest.mark.anyio
async def test_starting_processes_take_turns(store: Store, make_store: StoreFactory) -> None:
    """Two nodes preparing the database at start: the second waits until the first is done
    (PostgreSQL; SQLite has one preparing process per file and takes no lock)."""
    other = await make_store()
    order: list[str] = []

    async def prepare(name: str, s: Store, hold: float) -> None:
        async with s.starting():
            order.append(f"{name} in")
            await asyncio.sleep(hold)
            order.append(f"{name} out")

    first = asyncio.create_task(prepare("first", store, 0.3))
    await asyncio.sleep(0.1)
    await prepare("second", other, 0)
    await first
    if store.is_sqlite:
        assert order == ["first in", "second in", "second out", "first out"]
    else:
        assert order == ["first in", "first out", "second in", "second out"]


@pytest.mark.anyio
async def test_each_sqlite_connection_caches_the_pages_it_was_told_to(tmp_path: Path) -> None:
    """--sqlite-cache-mib reaches every SQLite connection (SQLite's own 2 MiB by default)."""
    for mib, expected in ((None, -2048), (16, -16384)):
        url = f"sqlite:///{tmp_path / f'cache-{mib}.db'}"
        store = Store(url) if mib is None else Store(url, sqlite_cache_mib=mib)
        try:
            await store.migrate()
            async with store.read() as conn:
                assert (await conn.exec_driver_sql("PRAGMA cache_size")).scalar() == expected
            async with store.write() as conn:
                assert (await conn.exec_driver_sql("PRAGMA cache_size")).scalar() == expected
        finally:
            await store.close()
