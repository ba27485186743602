"""Users (with their attribute index and ListUsers' filters) and groups."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from cognate.core.entities import UserStatus
from cognate.store.base import Conflict, UserFilter
from cognate.store.sql import Store
from tests.store import factories as f

pytestmark = pytest.mark.anyio

P = "us-east-1_Pool00001"
OTHER = "us-east-1_Pool00002"


async def test_user_insert_get_update_delete(store: Store) -> None:
    u = f.user("Alice", P, email="alice@example.com", name="Alice A")
    await store.insert_user(u, "alice", f.indexed(u))
    assert await store.get_user(P, "alice") == u
    assert await store.get_user(P, "Alice") is None  # looked up by the key the core computed
    assert await store.get_user(OTHER, "alice") is None
    assert await store.get_user_by_sub(P, u.sub) == u
    assert await store.get_user_by_sub(OTHER, u.sub) is None

    changed = replace(
        u,
        status=UserStatus.FORCE_CHANGE_PASSWORD,
        enabled=False,
        attributes={**u.attributes, "email": "new@example.com"},
        modified=f.T0 + 10,
        password_hash=None,
        srp_secret=None,
        password_expires=f.T0 + 86400,
        mfa={"totp": {"enabled": True}},
        tokens_valid_after=f.T0 + 3,
    )
    await store.update_user(changed, "alice", f.indexed(changed))
    assert await store.get_user(P, "alice") == changed
    assert await store.find_subs_by_attr(P, "email", "new@example.com") == [u.sub]
    assert await store.find_subs_by_attr(P, "email", "alice@example.com") == []

    await store.delete_user(P, u.sub)
    assert await store.get_user(P, "alice") is None
    assert await store.get_user_by_sub(P, u.sub) is None
    assert await store.find_subs_by_attr(P, "email", "new@example.com") == []


async def test_update_user_without_index_keeps_the_index(store: Store) -> None:
    u = f.user("bob", P, email="bob@example.com")
    await store.insert_user(u, "bob", f.indexed(u))
    await store.update_user(replace(u, status=UserStatus.RESET_REQUIRED), "bob")
    got = await store.get_user(P, "bob")
    assert got is not None and got.status is UserStatus.RESET_REQUIRED
    assert await store.find_subs_by_attr(P, "email", "bob@example.com") == [u.sub]


async def test_username_key_is_unique_per_pool(store: Store) -> None:
    a = f.user("alice", P)
    await store.insert_user(a, "alice", f.indexed(a))
    with pytest.raises(Conflict):
        dup = f.user("ALICE", P)
        await store.insert_user(dup, "alice", f.indexed(dup))
    elsewhere = f.user("alice", OTHER)
    await store.insert_user(elsewhere, "alice", f.indexed(elsewhere))
    assert (await store.get_user(OTHER, "alice")) == elsewhere
    assert await store.count_users(P) == 1


async def test_update_user_onto_a_taken_username_key_is_a_conflict(store: Store) -> None:
    a, b = f.user("a", P), f.user("b", P)
    await store.insert_user(a, "a", f.indexed(a))
    await store.insert_user(b, "b", f.indexed(b))
    with pytest.raises(Conflict):
        await store.update_user(replace(b, username="a"), "a")
    assert await store.get_user(P, "b") == b


async def test_concurrent_inserts_of_one_username_one_wins(store: Store) -> None:
    users = [f.user("same", P) for _ in range(10)]

    async def attempt(u: object) -> bool:
        try:
            await store.insert_user(u, "same", f.indexed(u))  # type: ignore[arg-type]
        except Conflict:
            return False
        return True

    results = await asyncio.gather(*(attempt(u) for u in users))
    assert sum(results) == 1
    assert await store.count_users(P) == 1


async def test_find_subs_by_attr_is_exact_and_per_pool(store: Store) -> None:
    a = f.user("a", P, email="shared@example.com")
    b = f.user("b", P, email="shared@example.com")
    c = f.user("c", OTHER, email="shared@example.com")
    for u in (a, b, c):
        await store.insert_user(u, u.username, f.indexed(u))
    assert sorted(await store.find_subs_by_attr(P, "email", "shared@example.com")) == sorted([a.sub, b.sub])
    assert await store.find_subs_by_attr(P, "email", "SHARED@example.com") == []
    assert await store.find_subs_by_attr(P, "phone_number", "shared@example.com") == []


@pytest.fixture
async def people(store: Store) -> dict[str, str]:
    """Users with attributes to filter on; returns username -> sub."""
    rows = [
        ("alice", UserStatus.CONFIRMED, {"email": "alice@example.com", "given_name": "Alice"}),
        ("albert", UserStatus.UNCONFIRMED, {"email": "albert@example.org", "given_name": "Albert"}),
        ("al", UserStatus.CONFIRMED, {"email": "al@example.com"}),
        ("bob", UserStatus.FORCE_CHANGE_PASSWORD, {"email": "bob@example.com", "given_name": "Al"}),
        ("zoé", UserStatus.CONFIRMED, {"email": "zoé@example.com", "given_name": "Zoé"}),
        ("carol", UserStatus.CONFIRMED, {"email": "carol_%@example.com"}),
    ]
    subs = {}
    for name, status, attrs in rows:
        u = f.user(name, P, status=status, **attrs)
        await store.insert_user(u, name, f.indexed(u))
        subs[name] = u.sub
    stranger = f.user("alice", OTHER, email="alice@example.com")
    await store.insert_user(stranger, "alice", f.indexed(stranger))
    return subs


async def test_list_users_in_username_order_with_paging(store: Store, people: dict[str, str]) -> None:
    everyone = sorted(people)
    assert [u.username for u in await store.list_users(P, 60, None)] == everyone
    seen: list[str] = []
    after = None
    while True:
        page = await store.list_users(P, 4, after)
        if not page:
            break
        seen += [u.username for u in page]
        after = (page[-1].username,)
    assert seen == everyone


def by(on: str, op: str, value: str | bool) -> UserFilter:
    return UserFilter(on, op, value)


async def test_list_users_attr_equal(store: Store, people: dict[str, str]) -> None:
    got = await store.list_users(P, 60, None, by("email", "=", "alice@example.com"))
    assert [u.sub for u in got] == [people["alice"]]
    assert await store.list_users(P, 60, None, by("email", "=", "ALICE@example.com")) == []
    got = await store.list_users(P, 60, None, by("given_name", "=", "Al"))
    assert [u.username for u in got] == ["bob"]
    got = await store.list_users(P, 60, None, by("sub", "=", people["zoé"]))
    assert [u.username for u in got] == ["zoé"]


async def test_list_users_attr_prefix(store: Store, people: dict[str, str]) -> None:
    got = await store.list_users(P, 60, None, by("email", "^=", "al"))
    assert [u.username for u in got] == ["al", "albert", "alice"]
    # listed by value, then username: "Al" < "Albert" < "Alice"
    got = await store.list_users(P, 60, None, by("given_name", "^=", "Al"))
    assert [u.username for u in got] == ["bob", "albert", "alice"]
    got = await store.list_users(P, 60, None, by("given_name", "^=", "al"))
    assert got == []  # prefixes are case-sensitive, as Cognito's are
    got = await store.list_users(P, 60, None, by("email", "^=", "zoé"))
    assert [u.username for u in got] == ["zoé"]
    # LIKE wildcards in a value are plain characters.
    got = await store.list_users(P, 60, None, by("email", "^=", "carol_%"))
    assert [u.username for u in got] == ["carol"]
    assert await store.list_users(P, 60, None, by("email", "^=", "carol%")) == []
    assert await store.list_users(P, 60, None, by("email", "^=", "a_")) == []


async def test_list_users_attr_prefix_pages(store: Store, people: dict[str, str]) -> None:
    flt = by("email", "^=", "al")
    first = await store.list_users(P, 2, None, flt)
    assert [u.username for u in first] == ["al", "albert"]
    rest = await store.list_users(P, 2, flt.position(first[-1], first[-1].username), flt)
    assert [u.username for u in rest] == ["alice"]


async def test_list_users_column_filters(store: Store, people: dict[str, str]) -> None:
    got = await store.list_users(P, 60, None, by("username_key", "=", "alice"))
    assert [u.sub for u in got] == [people["alice"]]
    got = await store.list_users(P, 60, None, by("username_key", "^=", "al"))
    assert [u.username for u in got] == ["al", "albert", "alice"]
    got = await store.list_users(P, 60, None, by("status", "=", "CONFIRMED"))
    assert [u.username for u in got] == ["al", "alice", "carol", "zoé"]
    got = await store.list_users(P, 60, None, by("status", "^=", "FORCE"))
    assert [u.username for u in got] == ["bob"]
    got = await store.list_users(P, 1, ("CONFIRMED", "al"), by("status", "=", "CONFIRMED"))
    assert [u.username for u in got] == ["alice"]
    got = await store.list_users(P, 60, None, by("enabled", "=", True))
    assert [u.username for u in got] == sorted(people)
    assert await store.list_users(P, 60, None, by("enabled", "=", False)) == []


async def test_groups_crud_and_paging(store: Store) -> None:
    for name in ("readers", "admins", "writers"):
        await store.insert_group(f.group(name, P))
    await store.insert_group(f.group("admins", OTHER))
    with pytest.raises(Conflict):
        await store.insert_group(f.group("admins", P, precedence=9))
    assert await store.get_group(P, "admins") == f.group("admins", P)
    assert await store.get_group(P, "nope") is None

    updated = replace(f.group("admins", P), modified=f.T0 + 1, doc={"Precedence": 1, "Description": "d"})
    await store.update_group(updated)
    assert await store.get_group(P, "admins") == updated
    assert await store.get_group(OTHER, "admins") == f.group("admins", OTHER)

    first = await store.list_groups(P, 2, None)
    assert [g.name for g in first] == ["admins", "readers"]
    assert [g.name for g in await store.list_groups(P, 2, "readers")] == ["writers"]


async def test_group_membership(store: Store) -> None:
    a, b = f.user("a", P), f.user("b", P)
    for u in (a, b):
        await store.insert_user(u, u.username, f.indexed(u))
    for name in ("admins", "readers"):
        await store.insert_group(f.group(name, P))

    await store.add_user_to_group(P, "admins", a.sub)
    await store.add_user_to_group(P, "admins", a.sub)  # twice is once
    await store.add_user_to_group(P, "readers", a.sub)
    await store.add_user_to_group(P, "admins", b.sub)

    assert sorted(g.name for g in await store.groups_of_user(P, a.sub)) == ["admins", "readers"]
    assert [u.username for u in await store.users_in_group(P, "admins", 10, None)] == ["a", "b"]
    assert [u.username for u in await store.users_in_group(P, "admins", 1, None)] == ["a"]
    assert [u.username for u in await store.users_in_group(P, "admins", 10, "a")] == ["b"]
    assert await store.users_in_group(OTHER, "admins", 10, None) == []

    await store.remove_user_from_group(P, "admins", a.sub)
    assert [g.name for g in await store.groups_of_user(P, a.sub)] == ["readers"]

    await store.delete_group(P, "readers")
    assert await store.groups_of_user(P, a.sub) == []
    assert await store.get_group(P, "readers") is None


async def test_concurrent_adds_to_a_group(store: Store) -> None:
    u = f.user("a", P)
    await store.insert_user(u, "a", f.indexed(u))
    await store.insert_group(f.group("admins", P))
    await asyncio.gather(*(store.add_user_to_group(P, "admins", u.sub) for _ in range(10)))
    assert [x.username for x in await store.users_in_group(P, "admins", 10, None)] == ["a"]


async def test_delete_user_leaves_groups_and_tokens_clean(store: Store) -> None:
    u = f.user("a", P, email="a@example.com")
    await store.insert_user(u, "a", f.indexed(u))
    await store.insert_group(f.group("admins", P))
    await store.add_user_to_group(P, "admins", u.sub)
    await store.insert_refresh_token(f.refresh("h1", sub=u.sub))
    await store.delete_user(P, u.sub)
    assert await store.users_in_group(P, "admins", 10, None) == []
    assert await store.groups_of_user(P, u.sub) == []
    assert await store.get_refresh_token("h1") is None
    assert await store.get_group(P, "admins") is not None
