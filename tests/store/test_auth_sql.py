"""AuthStore: sign-in attempts counted under the row lock, and first signing keys made once."""

from __future__ import annotations

import asyncio

import pytest

from cognate.store.auth_sql import AuthStore
from cognate.store.sql import Store
from tests.store import factories as f
from tests.store.conftest import StoreFactory

pytestmark = pytest.mark.anyio

P = "us-east-1_Pool00001"


def never(_failures: int) -> float:
    return 0.0


def after_five(failures: int) -> float:
    return 2.0 ** (failures - 5) if failures >= 5 else 0.0


async def test_attempts_count_and_lock(store: Store) -> None:
    auth = AuthStore(store)
    for n in range(1, 5):
        got = await auth.begin_attempt(P, "alice", f.T0 + n, 900, after_five)
        assert (got.allowed, got.failures, got.locked_until) == (True, n, 0.0)
    fifth = await auth.begin_attempt(P, "alice", f.T0 + 5, 900, after_five)
    assert (fifth.allowed, fifth.failures, fifth.locked_until) == (True, 5, f.T0 + 6)
    # Locked: refused, and not counted.
    refused = await auth.begin_attempt(P, "alice", f.T0 + 5.5, 900, after_five)
    assert (refused.allowed, refused.failures) == (False, 5)
    sixth = await auth.begin_attempt(P, "alice", f.T0 + 6, 900, after_five)
    assert (sixth.allowed, sixth.failures, sixth.locked_until) == (True, 6, f.T0 + 8)
    # After the quiet period the count restarts.
    fresh = await auth.begin_attempt(P, "alice", f.T0 + 8 + 901, 900, after_five)
    assert (fresh.allowed, fresh.failures) == (True, 1)

    await auth.clear(P, "alice")
    assert await store.get_lockout(P, "alice") is None


async def test_fifty_concurrent_attempts_from_two_nodes(store: Store, make_store: StoreFactory) -> None:
    nodes = [AuthStore(store), AuthStore(await make_store())]
    results = await asyncio.gather(
        *(nodes[i % 2].begin_attempt(P, "alice", f.T0 + 1, 900, never) for i in range(50))
    )
    assert sorted(r.failures for r in results) == list(range(1, 51))
    got = await store.get_lockout(P, "alice")
    assert got is not None and got.failures == 50


async def test_concurrent_attempts_stop_at_the_lockout(store: Store, make_store: StoreFactory) -> None:
    nodes = [AuthStore(store), AuthStore(await make_store())]
    results = await asyncio.gather(
        *(nodes[i % 2].begin_attempt(P, "bob", f.T0 + 1, 900, after_five) for i in range(20))
    )
    assert sum(r.allowed for r in results) == 5  # the fifth locks; the rest are refused


async def test_insert_first_keys_once(store: Store, make_store: StoreFactory) -> None:
    await store.insert_pool(f.pool(P))
    nodes = [AuthStore(store), AuthStore(await make_store())]
    results = await asyncio.gather(
        *(
            nodes[i % 2].insert_first_keys(
                P, [f.signing_key(f"id-{i}", "id"), f.signing_key(f"ac-{i}", "access")]
            )
            for i in range(6)
        )
    )
    assert sum(results) == 1
    assert len(await store.signing_keys(P)) == 2
    assert await nodes[0].insert_first_keys(P, [f.signing_key("late", "id")]) is False
