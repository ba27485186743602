"""Unique aliases and shared transactions, on every backend.

A usable alias belongs to one user and the database holds the rule (``user_aliases``'
primary key); a transaction opened with ``Store.transaction()`` is shared by the
calls given ``tx=``; migration 0003 indexes existing users, oldest first.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import sqlalchemy as sa

from cognate.store import schema
from cognate.store.base import AliasConflict, Conflict
from cognate.store.sql import Store
from tests.store import factories as f
from tests.store.conftest import StoreFactory, store_at

pytestmark = pytest.mark.anyio

P = "us-east-1_Pool00001"
EMAIL = ("email", "x@example.com")


async def test_an_alias_has_one_owner_and_a_refused_insert_leaves_nothing(store: Store) -> None:
    a, b = f.user("a", email="x@example.com"), f.user("b", email="x@example.com")
    await store.insert_user(a, "a", f.indexed(a, EMAIL))
    with pytest.raises(AliasConflict) as caught:
        await store.insert_user(b, "b", f.indexed(b, EMAIL))
    assert caught.value.attribute == "email"
    assert isinstance(caught.value, Conflict)
    assert await store.get_user(P, "b") is None  # the user row went with the refused alias
    assert await store.find_subs_by_attr(P, "email", "x@example.com") == [a.sub]
    found = await store.user_by_alias(P, "email", "x@example.com")
    assert found is not None and found.sub == a.sub


async def test_unindexed_values_may_be_shared_and_aliases_are_per_pool_and_attribute(store: Store) -> None:
    a, b = f.user("a", email="x@example.com"), f.user("b", email="x@example.com")
    await store.insert_user(a, "a", f.indexed(a, EMAIL))
    await store.insert_user(b, "b", f.indexed(b))  # an unverified email: no alias
    other = f.user("a", "us-east-1_Pool00002", email="x@example.com")
    await store.insert_user(other, "a", f.indexed(other, EMAIL))
    c = f.user("c", preferred_username="x@example.com")
    await store.insert_user(c, "c", f.indexed(c, ("preferred_username", "x@example.com")))
    assert sorted(await store.find_subs_by_attr(P, "email", "x@example.com")) == sorted([a.sub, b.sub])
    assert (await store.user_by_alias("us-east-1_Pool00002", "email", "x@example.com")).sub == other.sub  # type: ignore[union-attr]
    assert (await store.user_by_alias(P, "preferred_username", "x@example.com")).sub == c.sub  # type: ignore[union-attr]
    assert await store.user_by_alias(P, "phone_number", "x@example.com") is None


async def test_update_claims_new_aliases_and_releases_dropped_ones(store: Store) -> None:
    a, b = f.user("a", email="x@example.com"), f.user("b")
    await store.insert_user(a, "a", f.indexed(a, EMAIL))
    await store.insert_user(b, "b", f.indexed(b))
    claimed = replace(b, attributes={**b.attributes, "email": "x@example.com"})
    with pytest.raises(AliasConflict):
        await store.update_user(claimed, "b", f.indexed(claimed, EMAIL))
    assert (await store.get_user(P, "b")) == b  # the refused update changed nothing
    await store.update_user(a, "a", f.indexed(a))  # a's email is no longer an alias
    assert await store.user_by_alias(P, "email", "x@example.com") is None
    await store.update_user(claimed, "b", f.indexed(claimed, EMAIL, ("phone_number", "+15550100")))
    await store.update_user(claimed, "b", f.indexed(claimed, EMAIL))  # kept: unchanged; phone released
    assert (await store.user_by_alias(P, "email", "x@example.com")).sub == b.sub  # type: ignore[union-attr]
    assert await store.user_by_alias(P, "phone_number", "+15550100") is None
    await store.delete_user(P, b.sub)
    assert await store.user_by_alias(P, "email", "x@example.com") is None


async def test_concurrent_claims_on_two_nodes_give_one_owner(store: Store, make_store: StoreFactory) -> None:
    nodes = [store, await make_store()]
    users = [f.user(f"u{i}", email="x@example.com") for i in range(12)]

    async def claim(i: int) -> str:
        try:
            await nodes[i % 2].insert_user(users[i], users[i].username, f.indexed(users[i], EMAIL))
            return "ok"
        except AliasConflict:
            return "taken"

    results = await asyncio.gather(*(claim(i) for i in range(12)))
    assert sorted(results) == ["ok"] + ["taken"] * 11
    assert await store.count_users(P) == 1


async def test_a_transaction_commits_its_writes_together_or_not_at_all(store: Store) -> None:
    a, b = f.user("a"), f.user("b")
    committed: list[str] = []
    async with store.transaction() as tx:
        await store.insert_user(a, "a", f.indexed(a), tx=tx)
        assert (await store.get_user(P, "a", tx=tx)) == a  # the transaction sees its own writes
        await store.insert_user(b, "b", f.indexed(b), tx=tx)
        tx.after_commit(lambda: committed.append("done"))
        assert committed == []
    assert committed == ["done"]
    assert await store.count_users(P) == 2

    c, d = f.user("c"), f.user("d")
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await store.insert_user(c, "c", f.indexed(c), tx=tx)
            await store.update_user(replace(a, enabled=False), "a", tx=tx)
            tx.after_commit(lambda: committed.append("never"))
            await store.insert_user(d, "d", f.indexed(d), tx=tx)
            raise RuntimeError("boom")
    assert committed == ["done"]
    assert await store.get_user(P, "c") is None and await store.get_user(P, "d") is None
    assert (await store.get_user_by_sub(P, a.sub)) == a


async def test_a_conflict_in_a_transaction_rolls_back_its_earlier_writes(store: Store) -> None:
    a = f.user("a", email="x@example.com")
    await store.insert_user(a, "a", f.indexed(a, EMAIL))
    b, c = f.user("b"), f.user("c", email="x@example.com")
    with pytest.raises(AliasConflict):
        async with store.transaction() as tx:
            await store.insert_user(b, "b", f.indexed(b), tx=tx)
            await store.insert_user(c, "c", f.indexed(c, EMAIL), tx=tx)
    assert await store.get_user(P, "b") is None
    await store.insert_user(b, "b", f.indexed(b))  # the store is usable afterwards


async def test_a_write_without_tx_inside_a_transaction_is_refused_not_deadlocked(store: Store) -> None:
    a, b = f.user("a"), f.user("b")
    with pytest.raises(RuntimeError, match="must be given tx="):
        async with store.transaction() as tx:
            await store.insert_user(a, "a", f.indexed(a), tx=tx)
            await asyncio.wait_for(store.insert_user(b, "b", f.indexed(b)), 5)
    assert await store.count_users(P) == 0
    async with store.transaction() as tx:  # reads need no tx; the store is usable afterwards
        assert await store.get_user(P, "a") is None
        await store.insert_user(a, "a", f.indexed(a), tx=tx)
    await store.insert_user(b, "b", f.indexed(b))
    assert await store.count_users(P) == 2


async def test_sign_out_joins_a_transaction(store: Store) -> None:
    u = f.user("a")
    await store.insert_user(u, "a", f.indexed(u))
    await store.insert_refresh_token(f.refresh("h1", sub=u.sub))
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await store.update_user(replace(u, enabled=False), "a", tx=tx)
            await store.sign_out_user(P, u.sub, f.T0 + 5, tx=tx)
            raise RuntimeError("rolled back")
    assert (await store.get_refresh_token("h1")).revoked_at is None  # type: ignore[union-attr]
    async with store.transaction() as tx:
        await store.update_user(replace(u, enabled=False), "a", tx=tx)
        await store.sign_out_user(P, u.sub, f.T0 + 5, tx=tx)
    assert (await store.get_refresh_token("h1")).revoked_at == f.T0 + 5  # type: ignore[union-attr]
    got = await store.get_user(P, "a")
    assert got is not None and not got.enabled and got.tokens_valid_after == f.T0 + 5


async def test_deleting_a_pool_frees_its_aliases(store: Store) -> None:
    await store.insert_pool(f.pool(P))
    a = f.user("a", email="x@example.com")
    await store.insert_user(a, "a", f.indexed(a, EMAIL))
    await store.delete_pool(P)
    assert await store.user_by_alias(P, "email", "x@example.com") is None
    b = f.user("b", email="x@example.com")
    await store.insert_user(b, "b", f.indexed(b, EMAIL))


async def test_take_alias_moves_it_in_place(store: Store) -> None:
    a, b = f.user("a", email="x@example.com"), f.user("b", email="x@example.com")
    await store.insert_user(a, "a", f.indexed(a, EMAIL))
    async with store.transaction() as tx:
        assert await store.take_alias(P, "email", "x@example.com", b.sub, tx=tx) == a.sub
        await store.update_user(a, "a", f.indexed(a), tx=tx)  # a releases nothing: the row is b's now
        await store.insert_user(b, "b", f.indexed(b, EMAIL), tx=tx)  # b already holds it
        assert await store.take_alias(P, "email", "x@example.com", b.sub, tx=tx) is None
        assert await store.take_alias(P, "email", "nobody@example.com", b.sub, tx=tx) is None
    assert (await store.user_by_alias(P, "email", "x@example.com")).sub == b.sub  # type: ignore[union-attr]


async def test_a_transaction_locks_what_it_reads(store: Store, make_store: StoreFactory) -> None:
    """Two read-modify-write transactions on one user, on two nodes: applied one after the other."""
    u = f.user("a", count="0")
    await store.insert_user(u, "a", f.indexed(u))
    nodes = [store, await make_store()]

    async def bump(node: Store) -> None:
        async with node.transaction() as tx:
            current = await node.get_user_by_sub(P, u.sub, tx=tx)
            assert current is not None
            await asyncio.sleep(0.01)
            n = int(current.attributes["count"]) + 1
            await node.update_user(
                replace(current, attributes={**current.attributes, "count": str(n)}), "a", tx=tx
            )

    await asyncio.gather(*(bump(nodes[i % 2]) for i in range(6)))
    assert (await store.get_user(P, "a")).attributes["count"] == "6"  # type: ignore[union-attr]


# --- migration 0003 on existing data ------------------------------------------------------------


@pytest.fixture
async def at_0002(database_url: str) -> AsyncIterator[Store]:
    """A store whose schema is at revision 0002 (before unique aliases), empty."""
    async with store_at(database_url, "0002") as store:
        yield store


async def test_migration_indexes_existing_users_oldest_first(
    at_0002: Store, caplog: pytest.LogCaptureFixture
) -> None:
    store = at_0002
    alias_pool = f.pool(P, AliasAttributes=["email", "phone_number", "preferred_username"])
    email_pool = f.pool(
        "us-east-1_Pool00002", UsernameAttributes=["email"], UsernameConfiguration={"CaseSensitive": False}
    )
    plain = f.pool("us-east-1_Pool00003")
    v = {"email_verified": "true"}
    rows = [
        # alias pool: two verified owners of one email (the older keeps it), one unverified
        (
            P,
            "old",
            1.0,
            {"email": "x@example.com", **v, "phone_number": "+15550100", "phone_number_verified": "true"},
        ),
        (
            P,
            "new",
            2.0,
            {"email": "x@example.com", **v, "phone_number": "+15550100", "phone_number_verified": "true"},
        ),
        (P, "unverified", 0.5, {"email": "x@example.com", "email_verified": "false"}),
        (P, "nick1", 1.0, {"preferred_username": "nick"}),
        (P, "nick2", 3.0, {"preferred_username": "nick"}),
        # email as username, case-insensitive: case variants are one sign-in name
        ("us-east-1_Pool00002", "e1", 5.0, {"email": "Mixed@Example.com"}),
        ("us-east-1_Pool00002", "e2", 4.0, {"email": "mixed@example.COM"}),
        # no alias configuration: nothing is indexed
        ("us-east-1_Pool00003", "p1", 1.0, {"email": "x@example.com", **v}),
    ]
    async with store.write() as conn:
        for p in (alias_pool, email_pool, plain):
            await conn.execute(
                schema.pools.insert().values(id=p.id, name=p.name, created=1.0, modified=1.0, doc=p.doc)
            )
        for pool_id, sub, created, attrs in rows:
            u = replace(f.user(sub, pool_id), sub=sub, created=created, attributes={"sub": sub, **attrs})
            values = store._user_values(u, sub)
            await conn.execute(schema.users.insert().values(**values))
    caplog.set_level("WARNING", logger="cognate.store.migrations")
    await store.migrate()

    async with store.read() as conn:
        got = {
            (r.pool_id, r.attribute, r.alias_key): r.sub
            for r in await conn.execute(sa.select(schema.user_aliases))
        }
    assert got == {
        (P, "email", "x@example.com"): "old",
        (P, "phone_number", "+15550100"): "old",
        (P, "preferred_username", "nick"): "nick1",
        ("us-east-1_Pool00002", "email", "mixed@example.com"): "e2",
    }
    new = await store.get_user_by_sub(P, "new")
    assert new is not None
    assert new.attributes["email_verified"] == "false" and new.attributes["phone_number_verified"] == "false"
    assert new.attributes["email"] == "x@example.com"  # the value stays
    nick2 = await store.get_user_by_sub(P, "nick2")
    assert nick2 is not None and nick2.attributes == {"sub": "nick2", "preferred_username": "nick"}
    e1 = await store.get_user_by_sub("us-east-1_Pool00002", "e1")
    assert e1 is not None and e1.attributes["email"] == "Mixed@Example.com"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for loser in ("user new no longer signs in with its email", "user nick2", "user e1"):
        assert loser in logged
    assert "x@example.com" not in logged and "ixed@" not in logged  # subs only, never the values
