"""CachingStore: one-second read caches that this process's writes invalidate at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from cognate.store import cached
from cognate.store.cached import CachingStore
from cognate.store.sql import Store
from tests.store import factories as f
from tests.store.conftest import FakeClock

pytestmark = pytest.mark.anyio

P = "us-east-1_Pool00001"


@pytest.fixture
async def caching(
    store: Store, database_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[CachingStore]:
    """A caching store on the test's database; ``clock`` also drives its cache."""
    monkeypatch.setattr(cached.time, "monotonic", clock)
    s = CachingStore(database_url, clock=clock)
    yield s
    await s.close()


async def test_own_writes_are_seen_at_once(caching: CachingStore) -> None:
    await caching.insert_pool(f.pool(P))
    u = f.user("alice", P)
    await caching.insert_user(u, "alice", f.indexed(u))
    await caching.insert_client(f.client("c1", P), "v1.s")
    await caching.insert_group(f.group("admins", P))

    assert await caching.cached_pool(P) == f.pool(P)
    assert await caching.cached_user_by_sub(P, u.sub) == u
    assert await caching.cached_client("c1") == (f.client("c1", P), "v1.s")
    assert await caching.cached_groups_of_user(P, u.sub) == []

    await caching.update_pool(replace(f.pool(P), name="renamed"))
    disabled = replace(u, enabled=False)
    await caching.update_user(disabled, "alice")
    await caching.update_client(replace(f.client("c1", P), name="renamed"))
    await caching.add_user_to_group(P, "admins", u.sub)

    pool = await caching.cached_pool(P)
    assert pool is not None and pool.name == "renamed"
    assert await caching.cached_user_by_sub(P, u.sub) == disabled
    got = await caching.cached_client("c1")
    assert got is not None and got[0].name == "renamed"
    assert [g.name for g in await caching.cached_groups_of_user(P, u.sub)] == ["admins"]
    assert await caching.cached_user_by_sub("us-east-1_Pool00002", u.sub) is None

    await caching.delete_pool(P)
    assert await caching.cached_pool(P) is None
    assert await caching.cached_user_by_sub(P, u.sub) is None
    assert await caching.cached_client("c1") is None


async def test_revocation_is_seen_at_once_here(caching: CachingStore) -> None:
    await caching.insert_refresh_token(f.refresh("h1", origin_jti="o1"))
    assert await caching.cached_origin_revoked("o1") is False
    assert (await caching.cached_refresh_token("h1")) is not None
    await caching.revoke_refresh_family("o1", f.T0)
    assert await caching.cached_origin_revoked("o1") is True
    rt = await caching.cached_refresh_token("h1")
    assert rt is not None and rt.revoked_at == f.T0


async def test_other_nodes_writes_show_within_a_second(
    caching: CachingStore, store: Store, clock: FakeClock
) -> None:
    await store.insert_refresh_token(f.refresh("h1", origin_jti="o1"))
    assert await caching.cached_origin_revoked("o1") is False
    await store.revoke_refresh_family("o1", f.T0)  # another node
    clock.advance(cached.TTL_S)
    assert await caching.cached_origin_revoked("o1") is True


async def test_rotation_through_the_cache_is_still_single_use(caching: CachingStore, store: Store) -> None:
    await caching.insert_refresh_token(f.refresh("old"))
    assert await caching.cached_refresh_token("old") is not None
    assert await caching.rotate_refresh_token("old", f.refresh("a"), f.T0) is True
    assert await store.rotate_refresh_token("old", f.refresh("b"), f.T0) is False
    rt = await caching.cached_refresh_token("old")
    assert rt is not None and rt.rotated_at == f.T0
