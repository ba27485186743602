"""PostgreSQL's connections (store/pg.py): round trips per call, the pool's bounds, and
dead or interrupted connections never handed out again."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa

from cognate.store import pg
from cognate.store.sql import Store
from tests.store import factories as f
from tests.store.conftest import _asyncpg_dsn, _empty_tables

pytestmark = pytest.mark.anyio


@pytest.fixture
async def pg_store(postgres_url: str) -> AsyncIterator[Store]:
    store = Store(postgres_url, pool_size=2)
    await _empty_tables(store)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The statements the store sends through asyncpg's connection, in order."""
    log: list[str] = []
    for name in ("execute", "fetch"):
        original = getattr(asyncpg.Connection, name)

        def wrapped(self: Any, query: str, *args: Any, _original: Any = original, **kw: Any) -> Any:
            log.append(query.split()[0].upper() if query.strip() else ";")
            return _original(self, query, *args, **kw)

        monkeypatch.setattr(asyncpg.Connection, name, wrapped)
    yield log


async def _backend_pids(store: Store) -> set[int]:
    async with store.read() as conn:
        return {int((await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())}


async def _terminate_others(url: str) -> None:
    admin = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()


async def test_a_read_and_a_single_statement_write_are_one_round_trip_each(
    pg_store: Store, sent: list[str]
) -> None:
    await pg_store.insert_pool(f.pool())
    sent.clear()
    await pg_store.get_user("us-east-1_Pool00001", "nobody")
    assert sent == ["SELECT"]  # no BEGIN, no COMMIT
    sent.clear()
    await pg_store.insert_refresh_token(f.refresh("h1"))
    assert sent == ["INSERT"]
    sent.clear()
    await pg_store.finish_attempt(
        "us-east-1_Pool00001", "ann", 1.0, success=False, quiet_s=900, lock_for=lambda n: 0.0
    )
    assert sent == ["UPDATE"]


async def test_a_write_of_several_statements_is_one_transaction(pg_store: Store, sent: list[str]) -> None:
    await pg_store.insert_pool(f.pool())
    sent.clear()
    await pg_store.insert_user(f.user("ann"), "ann", f.indexed(f.user("ann"), ("email", "ann@example.com")))
    assert sent[0] == "BEGIN" and sent[-1] == "COMMIT"


async def test_a_single_statement_write_refuses_a_second_statement(pg_store: Store) -> None:
    with pytest.raises(RuntimeError, match="second statement"):
        async with pg_store.write(single=True) as conn:
            await conn.execute(sa.text("SELECT 1"))
            await conn.execute(sa.text("SELECT 2"))
    assert await pg_store.get_pool("nope") is None  # the connection is fine afterwards


async def test_a_failed_write_rolls_back_and_its_connection_is_reused(pg_store: Store) -> None:
    await pg_store.insert_pool(f.pool())
    before = await _backend_pids(pg_store)
    await pg_store.insert_refresh_token(f.refresh("h1"))
    with pytest.raises(sa.exc.IntegrityError):  # asyncpg's error, as SQLAlchemy raises it
        await pg_store.insert_refresh_token(f.refresh("h1"))
    with pytest.raises(RuntimeError, match="boom"):
        async with pg_store.write() as conn:
            await conn.execute(sa.text("DELETE FROM refresh_tokens"))
            raise RuntimeError("boom")
    assert await pg_store.get_refresh_token("h1") is not None  # rolled back
    assert await _backend_pids(pg_store) == before


@pytest.mark.parametrize("idle_close_s", [pg.PG_IDLE_CLOSE_S, 0.0])
async def test_the_pool_opens_at_most_its_size_and_keeps_half(
    pg_store: Store, idle_close_s: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond its kept half, a connection stays open until unused for PG_IDLE_CLOSE_S."""
    monkeypatch.setattr(pg, "PG_IDLE_CLOSE_S", idle_close_s)
    busy = 0
    most = 0
    opened: set[int] = set()  # as PostgreSQL counts them, while each call runs
    count = sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")

    async def hold() -> None:
        nonlocal busy, most
        async with pg_store.read() as conn:
            busy += 1
            most = max(most, busy)
            opened.add(int((await conn.execute(count)).scalar_one()))
            await conn.execute(sa.text("SELECT pg_sleep(0.05)"))
            busy -= 1

    await asyncio.gather(*(hold() for _ in range(8)))
    assert most == 2 and max(opened) == 2  # pool_size=2
    assert len(pg_store._pg_pool._idle) == (1 if idle_close_s == 0 else 2)


async def test_a_connection_closed_by_the_server_is_replaced(pg_store: Store, postgres_url: str) -> None:
    """PostgreSQL ended the pooled connections (a restart, a failover) while the loop ran:
    the pool saw them close and opens new ones; no call fails."""
    before = await _backend_pids(pg_store)
    await _terminate_others(postgres_url)
    await asyncio.sleep(0.2)
    after = await _backend_pids(pg_store)
    assert after and after != before


async def test_a_dead_connection_the_loop_missed_is_pinged_and_replaced(
    pg_store: Store, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connections died while the loop was blocked (it learnt nothing): one idle for
    PG_IDLE_PING_S is pinged before use, fails, and is replaced; no call fails."""
    monkeypatch.setattr(pg, "PG_IDLE_PING_S", 0.0)
    before = await _backend_pids(pg_store)
    blocked = threading.Thread(target=lambda: asyncio.run(_terminate_others(postgres_url)))
    blocked.start()
    blocked.join()  # the store's loop is blocked meanwhile
    after = await _backend_pids(pg_store)
    assert after and after != before


async def test_a_cancelled_call_does_not_leave_its_connection_in_the_pool(pg_store: Store) -> None:
    async def slow() -> None:
        async with pg_store.read() as conn:
            await conn.execute(sa.text("SELECT pg_sleep(5)"))

    task = asyncio.create_task(slow())
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pg_store._pg_pool._idle == []
    assert await asyncio.wait_for(pg_store.get_pool("nope"), 2) is None
