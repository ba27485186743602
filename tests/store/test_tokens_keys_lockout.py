"""Refresh tokens (rotation, revocation, sign-out), signing keys and lockout counters."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from cognate.core.entities import Lockout
from cognate.store.sql import Store
from tests.store import factories as f
from tests.store.conftest import StoreFactory

pytestmark = pytest.mark.anyio

P = "us-east-1_Pool00001"
NOW = f.T0 + 100


async def test_refresh_token_insert_get(store: Store) -> None:
    rt = f.refresh("h1")
    await store.insert_refresh_token(rt)
    assert await store.get_refresh_token("h1") == rt
    assert await store.get_refresh_token("absent") is None


async def test_rotate_refresh_token(store: Store) -> None:
    old = f.refresh("old")
    await store.insert_refresh_token(old)
    new = f.refresh("new")
    assert await store.rotate_refresh_token("old", new, NOW) is True
    assert await store.get_refresh_token("old") == replace(old, rotated_at=NOW)
    assert await store.get_refresh_token("new") == new
    # A rotated token cannot be rotated again.
    assert await store.rotate_refresh_token("old", f.refresh("newer"), NOW + 1) is False
    assert await store.get_refresh_token("newer") is None
    # Nor can an unknown one.
    assert await store.rotate_refresh_token("absent", f.refresh("x"), NOW) is False
    assert await store.get_refresh_token("x") is None


async def test_rotate_a_revoked_refresh_token_fails(store: Store) -> None:
    await store.insert_refresh_token(f.refresh("old", origin_jti="o1"))
    await store.revoke_refresh_family("o1", NOW)
    assert await store.rotate_refresh_token("old", f.refresh("new", origin_jti="o1"), NOW) is False
    assert await store.get_refresh_token("new") is None


async def test_two_concurrent_rotations_one_wins(store: Store, make_store: StoreFactory) -> None:
    other = await make_store()
    for round_ in range(5):
        old = f"old-{round_}"
        await store.insert_refresh_token(f.refresh(old))
        results = await asyncio.gather(
            store.rotate_refresh_token(old, f.refresh(f"a-{round_}"), NOW),
            other.rotate_refresh_token(old, f.refresh(f"b-{round_}"), NOW),
        )
        assert sorted(results) == [False, True]
        stored = [await store.get_refresh_token(f"{side}-{round_}") for side in "ab"]
        assert [s is not None for s in stored] == list(results)


async def test_revoke_refresh_family(store: Store) -> None:
    await store.insert_refresh_token(f.refresh("h1", origin_jti="o1"))
    await store.rotate_refresh_token("h1", f.refresh("h2", origin_jti="o1"), NOW)
    await store.insert_refresh_token(f.refresh("h3", origin_jti="o2"))
    assert await store.origin_revoked("o1") is False

    await store.revoke_refresh_family("o1", NOW + 5)
    assert await store.origin_revoked("o1") is True
    assert await store.origin_revoked("o2") is False
    assert await store.origin_revoked("unknown") is False
    for h in ("h1", "h2"):
        got = await store.get_refresh_token(h)
        assert got is not None and got.revoked_at == NOW + 5
    got = await store.get_refresh_token("h3")
    assert got is not None and got.revoked_at is None

    # Revoking again keeps the first revocation time.
    await store.revoke_refresh_family("o1", NOW + 50)
    got = await store.get_refresh_token("h1")
    assert got is not None and got.revoked_at == NOW + 5


async def test_sign_out_user(store: Store) -> None:
    u = f.user("alice", P)
    v = f.user("victor", P)
    for x in (u, v):
        await store.insert_user(x, x.username, f.indexed(x))
    await store.insert_refresh_token(f.refresh("u1", sub=u.sub, origin_jti="ou1"))
    await store.insert_refresh_token(f.refresh("u2", sub=u.sub, origin_jti="ou2", client_id="client2"))
    await store.insert_refresh_token(f.refresh("v1", sub=v.sub, origin_jti="ov1"))

    await store.sign_out_user(P, u.sub, NOW)

    assert await store.origin_revoked("ou1") and await store.origin_revoked("ou2")
    assert not await store.origin_revoked("ov1")
    got = await store.get_user_by_sub(P, u.sub)
    assert got is not None and got.tokens_valid_after == NOW
    other = await store.get_user_by_sub(P, v.sub)
    assert other is not None and other.tokens_valid_after == 0.0


async def test_purge_expired_refresh_tokens(store: Store) -> None:
    # The store purges by its clock (the fixture's pinned clock starts at T0).
    await store.insert_refresh_token(f.refresh("gone", expires=f.T0 - 1))
    await store.insert_refresh_token(f.refresh("live", expires=f.T0 + 3600))
    assert await store.purge_expired() == 1
    assert await store.get_refresh_token("gone") is None
    assert await store.get_refresh_token("live") is not None


async def test_purge_keeps_a_revocation_while_its_access_tokens_may_live(store: Store) -> None:
    """Access tokens live up to a day: a revoked family must outlive its refresh token's expiry."""
    await store.insert_refresh_token(f.refresh("h1", origin_jti="o1", expires=f.T0 - 60))
    await store.revoke_refresh_family("o1", f.T0 - 120)
    await store.purge_expired()
    assert await store.origin_revoked("o1") is True


async def test_signing_keys_insert_rotate_list_delete(store: Store) -> None:
    await store.insert_signing_key(f.signing_key("id-1", "id", created=f.T0))
    await store.insert_signing_key(f.signing_key("access-1", "access", created=f.T0 + 1))
    await store.insert_signing_key(f.signing_key("other", "id", pool_id="us-east-1_Pool00002"))
    keys = await store.signing_keys(P)
    assert [k.kid for k in keys] == ["id-1", "access-1"]
    assert keys[0] == f.signing_key("id-1", "id", created=f.T0)

    await store.rotate_signing_keys([f.signing_key("id-2", "id", created=f.T0 + 10)], NOW)
    by_kid = {k.kid: k for k in await store.signing_keys(P)}
    assert [k.kid for k in await store.signing_keys(P)] == ["id-1", "access-1", "id-2"]
    assert by_kid["id-1"].retired == NOW
    assert by_kid["access-1"].retired is None  # other purposes are not retired
    assert by_kid["id-2"].retired is None
    other = await store.signing_keys("us-east-1_Pool00002")
    assert [k.retired for k in other] == [None]  # other pools are not retired

    await store.rotate_signing_keys(
        [
            f.signing_key("id-3", "id", created=f.T0 + 20),
            f.signing_key("access-2", "access", created=f.T0 + 21),
        ],
        NOW + 1,
    )
    by_kid = {k.kid: k for k in await store.signing_keys(P)}
    assert by_kid["id-1"].retired == NOW  # retiring keeps the first retirement time
    assert by_kid["id-2"].retired == NOW + 1
    assert by_kid["access-1"].retired == NOW + 1
    assert [k.kid for k in by_kid.values() if k.retired is None] == ["id-3", "access-2"]


async def test_newest_signing_key_of_any_pool(store: Store) -> None:
    assert await store.newest_signing_key() is None
    await store.insert_signing_key(f.signing_key("old", "id", created=f.T0))
    await store.insert_signing_key(
        f.signing_key("new", "id", pool_id="us-east-1_Pool00002", created=f.T0 + 5)
    )
    await store.insert_signing_key(f.signing_key("mid", "access", created=f.T0 + 1))
    assert await store.newest_signing_key() == f.signing_key(
        "new", "id", pool_id="us-east-1_Pool00002", created=f.T0 + 5
    )


def after_five(failures: int) -> float:
    return 2.0 ** (failures - 5) if failures >= 5 else 0.0


async def fail(auth: Store, user: str, now: float, pool_id: str = P) -> Lockout:
    await auth.begin_attempt(pool_id, user, now, 900, 5)
    await auth.finish_attempt(pool_id, user, now, success=False, quiet_s=900, lock_for=after_five)
    got = await auth.get_lockout(pool_id, user)
    assert got is not None
    return got


async def test_failures_count_and_quiet_period_resets(store: Store) -> None:
    auth = store
    assert await store.get_lockout(P, "alice") is None
    first = await fail(auth, "alice", f.T0)
    assert first == Lockout(failures=1, locked_until=0.0, last_failure=f.T0)
    second = await fail(auth, "alice", f.T0 + 10)
    assert second.failures == 2 and second.last_failure == f.T0 + 10

    # Within the quiet period the count goes on; after it, it restarts at 1.
    third = await fail(auth, "alice", f.T0 + 10 + 900)
    assert third.failures == 3
    fresh = await fail(auth, "alice", f.T0 + 10 + 900 + 901)
    assert fresh.failures == 1

    # Counters are per pool and per user.
    assert (await fail(auth, "bob", f.T0)).failures == 1
    assert (await fail(auth, "alice", f.T0, "us-east-1_Pool00002")).failures == 1


async def test_fifty_concurrent_failures_count_fifty(store: Store, make_store: StoreFactory) -> None:
    nodes = [store, await make_store()]
    await nodes[0].begin_attempt(P, "alice", f.T0, 900, 5)
    await asyncio.gather(
        *(
            nodes[i % 2].finish_attempt(
                P, "alice", f.T0 + i / 100, success=False, quiet_s=900, lock_for=after_five
            )
            for i in range(50)
        )
    )
    got = await store.get_lockout(P, "alice")
    assert got is not None and got.failures == 50


async def test_purge_forgets_lockout_rows_that_can_no_longer_matter(store: Store) -> None:
    auth = store
    day = 86400.0
    for user, when in (("old", f.T0 - 2 * day), ("recent", f.T0 - 60)):
        await auth.begin_attempt(P, user, when, 900, 5)
        await auth.finish_attempt(P, user, when, success=False, quiet_s=900, lock_for=lambda n: 0.0)
    await store.purge_expired()
    assert await store.get_lockout(P, "old") is None
    assert await store.get_lockout(P, "recent") is not None
