"""Attempts: sign-in attempts counted under the row lock, and first signing keys made once."""

from __future__ import annotations

import asyncio

import pytest

from cognate.store.attempts import PENDING_STALE_S
from cognate.store.base import Attempt, Verdict
from cognate.store.sql import Store
from tests.store import factories as f
from tests.store.conftest import StoreFactory

pytestmark = pytest.mark.anyio

P = "us-east-1_Pool00001"


def after_five(failures: int) -> float:
    return 2.0 ** (failures - 5) if failures >= 5 else 0.0


async def fail(auth: Store, user: str, now: float) -> Attempt:
    got = await auth.begin_attempt(P, user, now, 900, 5)
    assert got.verdict is Verdict.ALLOWED
    return await auth.finish_attempt(P, user, now, success=False, quiet_s=900, lock_for=after_five)


async def test_failures_count_and_lock(store: Store) -> None:
    auth = store
    for n in range(1, 5):
        got = await fail(auth, "alice", f.T0 + n)
        assert (got.failures, got.locked_until) == (n, 0.0)
    fifth = await fail(auth, "alice", f.T0 + 5)
    assert (fifth.failures, fifth.locked_until) == (5, f.T0 + 6)
    # Locked: refused, and not counted.
    refused = await auth.begin_attempt(P, "alice", f.T0 + 5.5, 900, 5)
    assert (refused.verdict, refused.failures) == (Verdict.LOCKED, 5)
    sixth = await fail(auth, "alice", f.T0 + 6)
    assert (sixth.failures, sixth.locked_until) == (6, f.T0 + 8)
    # After the quiet period the count restarts.
    fresh = await fail(auth, "alice", f.T0 + 8 + 901)
    assert fresh.failures == 1
    # A success forgets the failures.
    ok = await auth.begin_attempt(P, "alice", f.T0 + 910, 900, 5)
    assert ok.verdict is Verdict.ALLOWED
    done = await auth.finish_attempt(P, "alice", f.T0 + 910, success=True, quiet_s=900, lock_for=after_five)
    assert (done.failures, done.locked_until) == (0, 0.0)


async def test_attempts_in_flight_count_toward_the_threshold(store: Store, make_store: StoreFactory) -> None:
    nodes = [store, await make_store()]
    results = await asyncio.gather(
        *(nodes[i % 2].begin_attempt(P, "bob", f.T0 + 1, 900, 5) for i in range(20))
    )
    assert sum(r.verdict is Verdict.ALLOWED for r in results) == 5
    assert sum(r.verdict is Verdict.WAIT for r in results) == 15
    # The five in flight fail: the lockout starts, and the waiting ones are then refused.
    for i in range(5):
        await nodes[i % 2].finish_attempt(P, "bob", f.T0 + 1, success=False, quiet_s=900, lock_for=after_five)
    again = await nodes[1].begin_attempt(P, "bob", f.T0 + 1.5, 900, 5)
    assert again.verdict is Verdict.LOCKED


async def test_right_passwords_in_flight_free_the_way(store: Store) -> None:
    auth = store
    for _ in range(5):
        assert (await auth.begin_attempt(P, "carol", f.T0, 900, 5)).verdict is Verdict.ALLOWED
    assert (await auth.begin_attempt(P, "carol", f.T0, 900, 5)).verdict is Verdict.WAIT
    await auth.finish_attempt(P, "carol", f.T0, success=True, quiet_s=900, lock_for=after_five)
    assert (await auth.begin_attempt(P, "carol", f.T0, 900, 5)).verdict is Verdict.ALLOWED


async def test_stale_attempts_in_flight_are_forgotten(store: Store) -> None:
    auth = store
    for _ in range(5):
        await auth.begin_attempt(P, "dave", f.T0, 900, 5)  # a worker died before finishing these
    assert (await auth.begin_attempt(P, "dave", f.T0 + 1, 900, 5)).verdict is Verdict.WAIT
    later = await auth.begin_attempt(P, "dave", f.T0 + PENDING_STALE_S + 1, 900, 5)
    assert later.verdict is Verdict.ALLOWED


async def test_insert_first_keys_once(store: Store, make_store: StoreFactory) -> None:
    await store.insert_pool(f.pool(P))
    nodes = [store, await make_store()]
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
