"""The TTL store: codes and challenge sessions, redeemed once across workers and nodes."""

from __future__ import annotations

import asyncio

import pytest

from cognate.store.base import TtlStore
from cognate.store.engine import PURGE_LOCK
from cognate.store.sql import Store
from tests.store.conftest import FakeClock, StoreFactory

pytestmark = pytest.mark.anyio


async def test_store_is_a_ttl_store(store: Store) -> None:
    ttl: TtlStore = store
    await ttl.put("k", "v", {}, 1)
    assert await ttl.get("k", "v") == {}


def test_in_memory_sqlite_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="needs a file"):
        Store("sqlite:///:memory:")


async def test_put_get_consume(store: Store) -> None:
    doc = {"username": "alice", "attempts": 0, "nested": {"a": [1, 2]}}
    await store.put("code", "k1", doc, 300)
    assert await store.get("code", "k1") == doc
    assert await store.get("code", "k1") == doc  # get does not consume
    assert await store.get("session", "k1") is None  # kinds are separate
    assert await store.consume("code", "k1") == doc
    assert await store.consume("code", "k1") is None
    assert await store.get("code", "k1") is None


async def test_put_replaces(store: Store) -> None:
    await store.put("code", "k1", {"v": 1}, 300)
    await store.put("code", "k1", {"v": 2}, 300)
    assert await store.consume("code", "k1") == {"v": 2}
    assert await store.consume("code", "k1") is None


async def test_concurrent_puts_of_one_key(store: Store) -> None:
    await asyncio.gather(*(store.put("code", "k", {"v": i}, 300) for i in range(10)))
    got = await store.consume("code", "k")
    assert got is not None and got["v"] in range(10)
    assert await store.consume("code", "k") is None


async def test_expired_items_are_not_returned(store: Store, clock: FakeClock) -> None:
    await store.put("code", "short", {"v": 1}, 60)
    await store.put("code", "long", {"v": 2}, 600)
    await store.put("code", "purged", {"v": 3}, 60)
    clock.advance(59)
    assert await store.get("code", "short") == {"v": 1}
    clock.advance(1)  # expiry is exclusive: at ``expires`` the item is gone
    assert await store.get("code", "short") is None
    assert await store.consume("code", "short") is None
    assert await store.get("code", "long") == {"v": 2}

    assert await store.purge_expired() == 1  # "purged"; "short" was consumed (and deleted)
    clock.advance(-60)  # with the clock turned back, a purged item stays gone
    assert await store.get("code", "purged") is None
    assert await store.consume("code", "long") == {"v": 2}


async def test_one_process_purges_at_a_time(store: Store, database_url: str, clock: FakeClock) -> None:
    if store.is_sqlite:
        pytest.skip("PostgreSQL only: on SQLite the write transaction is exclusive already")
    import asyncpg
    from sqlalchemy.engine import make_url

    await store.put("code", "old", {"v": 1}, 60)
    clock.advance(61)
    other = await asyncpg.connect(make_url(database_url).set(drivername="postgresql").render_as_string(False))
    try:  # another node, in the middle of its own purge
        async with other.transaction():
            await other.execute(f"SELECT pg_advisory_xact_lock({PURGE_LOCK})")
            assert await store.purge_expired() == 0  # not waiting for it, not racing it
    finally:
        await other.close()
    assert await store.purge_expired() == 1


async def test_delete(store: Store) -> None:
    for key in ("user1#a", "user1#b", "user10#a", "user2#a"):
        await store.put("session", key, {"k": key}, 300)
    await store.put("code", "user1#a", {"k": "code"}, 300)
    await store.delete("session", "user2#a")
    assert await store.get("session", "user2#a") is None
    await store.delete("session", "absent")  # deleting nothing is fine

    assert await store.get("session", "user1#a") == {"k": "user1#a"}  # other keys untouched
    assert await store.get("code", "user1#a") == {"k": "code"}  # other kinds untouched


async def test_twenty_concurrent_consumes_one_wins(store: Store) -> None:
    await store.put("code", "once", {"v": "secret"}, 300)
    results = await asyncio.gather(*(store.consume("code", "once") for _ in range(20)))
    winners = [r for r in results if r is not None]
    assert winners == [{"v": "secret"}]


async def test_consume_from_two_stores_one_wins(store: Store, make_store: StoreFactory) -> None:
    """Two Store instances stand for two worker processes or nodes on one database."""
    other = await make_store()
    for round_ in range(5):
        key = f"code-{round_}"
        await store.put("code", key, {"round": round_}, 300)
        results = await asyncio.gather(*(s.consume("code", key) for _ in range(10) for s in (store, other)))
        assert [r for r in results if r is not None] == [{"round": round_}]


async def test_expired_item_cannot_be_consumed_even_once(store: Store, clock: FakeClock) -> None:
    await store.put("code", "k", {"v": 1}, 10)
    clock.advance(11)
    results = await asyncio.gather(*(store.consume("code", "k") for _ in range(5)))
    assert results == [None] * 5


async def test_put_new_stores_once_until_the_item_expires(store: Store, clock: FakeClock) -> None:
    assert await store.put_new("step", "u:1", {"n": 1}, 60) is True
    assert await store.put_new("step", "u:1", {"n": 2}, 60) is False
    assert await store.get("step", "u:1") == {"n": 1}
    clock.advance(60)
    assert await store.put_new("step", "u:1", {"n": 3}, 60) is True  # over an expired item
    assert await store.get("step", "u:1") == {"n": 3}


async def test_put_new_has_one_winner_among_concurrent_claims(store: Store) -> None:
    results = await asyncio.gather(*(store.put_new("step", "race", {"i": i}, 60) for i in range(8)))
    assert sorted(results) == [False] * 7 + [True]
