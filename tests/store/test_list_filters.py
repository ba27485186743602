"""ListUsers' filters on their indexes give exactly what a scan of the pool's users gives.

Random small pools (seeded, so a failure repeats) with awkward text -- case variants,
LIKE wildcards, accents, U+10FFFF, shared values -- are listed under every filter the
store runs, a page of four at a time, and compared with a scan written out here: the
users whose value is equal to, or starts with, the filter's, code point by code point,
in username order (by value, then username, for a prefix on an attribute or status).
Then users are updated and deleted, and the comparison runs again.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from cognate.core.entities import User, UserStatus
from cognate.core.sign_in_names import INDEXED, indexed_values
from cognate.core.usernames import key as username_key
from cognate.store import schema
from cognate.store.base import UserFilter, UserIndex
from cognate.store.sql import Store
from tests.store import factories as f
from tests.store.conftest import migrate_to, store_at

pytestmark = pytest.mark.anyio

P = "us-east-1_Pool00001"
OTHER = "us-east-1_Pool00002"
ALPHABET = ["a", "A", "b", "_", "%", "é", "e\u0301", "ß", "\U0010ffff", "z", " ", "\\", "@", "1"]
STATUSES = [UserStatus.CONFIRMED, UserStatus.UNCONFIRMED, UserStatus.FORCE_CHANGE_PASSWORD]


def text(rnd: random.Random, most: int = 4) -> str:
    return "".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(1, most)))


def attrs(rnd: random.Random) -> dict[str, str]:
    out = {}
    for name in INDEXED:
        if name != "sub" and rnd.random() < 0.7:
            out[name] = rnd.choice(["shared", "Shared", text(rnd)])
    return out


def value_of(u: User, on: str) -> str | bool | None:
    if on == "enabled":
        return u.enabled
    if on == "status":
        return str(u.status)
    return u.sub if on == "sub" else u.attributes.get(on) or None


def scan(users: dict[str, User], keys: dict[str, str], flt: UserFilter | None) -> list[str]:
    """The pool's users one by one, as ListUsers used to find them."""
    found = []
    for sub, u in users.items():
        if flt is not None:
            v = keys[sub] if flt.on == "username_key" else value_of(u, flt.on)
            if v is None:
                continue
            if flt.op == "=" and v != flt.value:
                continue
            if flt.op == "^=" and not (isinstance(v, str) and v.startswith(str(flt.value))):
                continue
        found.append(sub)
    if flt is not None and flt.by_value and flt.op == "^=":
        return sorted(found, key=lambda s: (str(value_of(users[s], flt.on)), keys[s]))
    return sorted(found, key=lambda s: keys[s])


async def listed(store: Store, flt: UserFilter | None, keys: dict[str, str]) -> list[str]:
    """Every page of four, each resumed from the last user's position."""
    out: list[str] = []
    after = None
    while True:
        page = await store.list_users(P, 4, after, flt)
        out += [u.sub for u in page]
        if len(page) < 4:
            return out
        last = page[-1]
        after = flt.position(last, keys[last.sub]) if flt else (keys[last.sub],)


def filters(rnd: random.Random, users: dict[str, User], keys: dict[str, str]) -> list[UserFilter | None]:
    out: list[UserFilter | None] = [None, UserFilter("enabled", "=", True), UserFilter("enabled", "=", False)]
    for on in (*INDEXED, "username_key", "status"):
        present = [
            str(v) for s, u in users.items() if (v := keys[s] if on == "username_key" else value_of(u, on))
        ]
        for value in [*rnd.sample(present, min(2, len(present))), text(rnd, 2), "shared"]:
            out.append(UserFilter(on, "=", value))
            out += [UserFilter(on, "^=", value[:cut]) for cut in {1, len(value)}]
        out.append(UserFilter(on, "^=", ""))
    return out


async def check(store: Store, rnd: random.Random, users: dict[str, User], keys: dict[str, str]) -> None:
    for flt in filters(rnd, users, keys):
        assert await listed(store, flt, keys) == scan(users, keys, flt), flt


@pytest.mark.parametrize(("seed", "case_sensitive"), [(1, True), (2, False)])
async def test_filters_find_what_a_scan_finds(store: Store, seed: int, case_sensitive: bool) -> None:
    rnd = random.Random(seed)
    users: dict[str, User] = {}
    keys: dict[str, str] = {}
    while len(users) < 30:
        name = text(rnd, 6)
        key = username_key(name, case_sensitive=case_sensitive)
        if key in keys.values():
            continue
        u = f.user(name, P, status=rnd.choice(STATUSES), enabled=rnd.random() < 0.8, **attrs(rnd))
        await store.insert_user(u, key, UserIndex(indexed_values(u)))
        users[u.sub], keys[u.sub] = u, key
    # the same values in another pool are never listed
    for sub in rnd.sample(sorted(users), 5):
        twin = replace(users[sub], sub=f"{sub}-other", pool_id=OTHER)
        await store.insert_user(twin, keys[sub], UserIndex(indexed_values(twin)))
    await check(store, rnd, users, keys)

    for sub in rnd.sample(sorted(users), 12):
        u = users[sub]
        changed = replace(
            u,
            attributes={"sub": u.sub, **attrs(rnd)},
            status=rnd.choice(STATUSES),
            enabled=not u.enabled,
        )
        await store.update_user(changed, keys[sub], UserIndex(indexed_values(changed)))
        users[sub] = changed
    for sub in rnd.sample(sorted(users), 6):
        await store.delete_user(P, sub)
        del users[sub], keys[sub]
    await check(store, rnd, users, keys)


async def test_a_status_change_without_the_index_is_found_by_status(store: Store) -> None:
    u = f.user("ann", P, status=UserStatus.UNCONFIRMED)
    await store.insert_user(u, "ann", UserIndex(indexed_values(u)))
    await store.update_user(replace(u, status=UserStatus.CONFIRMED, enabled=False), "ann")
    assert await store.list_users(P, 5, None, UserFilter("status", "=", "UNCONFIRMED")) == []
    assert [x.sub for x in await store.list_users(P, 5, None, UserFilter("status", "^=", "CONF"))] == [u.sub]
    assert [x.sub for x in await store.list_users(P, 5, None, UserFilter("enabled", "=", False))] == [u.sub]


async def test_a_position_of_the_wrong_shape_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="position"):
        await store.list_users(P, 5, ("a", "b"), None)
    with pytest.raises(ValueError, match="position"):
        await store.list_users(P, 5, ("a",), UserFilter("email", "^=", "a"))


# --- migration 0006 on existing data ----------------------------------------------------------

MIGRATION = Path(schema.__file__).parent / "migrations" / "versions" / "0006_filter_index.py"


async def test_the_migration_indexes_existing_users(database_url: str) -> None:
    """Users written before 0006 (with an index of the former shape, here left empty) are
    found by every filter afterwards: the index is rebuilt from their attributes."""
    before = re.search(r'^down_revision = "(\w+)"', MIGRATION.read_text(), re.MULTILINE)
    assert before is not None
    rows = [
        f.user("Zed", P, email="z@example.com", given_name="Al", phone_number="+15550100"),
        f.user("amy", P, status=UserStatus.UNCONFIRMED, email="amy@example.com", name="", family_name="Ng"),
        f.user("bo", P, enabled=False, email="bo@example.org", preferred_username="bobo", custom="x"),
        f.user("amy", OTHER, email="amy@example.com"),
    ]
    async with store_at(database_url, before[1]) as store:
        async with store.write() as conn:
            for u in rows:
                await conn.execute(schema.users.insert().values(**store._user_values(u, u.username.lower())))
        await store.migrate()
        zed, amy, bo, _ = rows

        async def subs(flt: UserFilter) -> list[str]:
            return [u.sub for u in await store.list_users(P, 10, None, flt)]

        assert await subs(UserFilter("email", "^=", "")) == [amy.sub, bo.sub, zed.sub]
        assert await subs(UserFilter("email", "=", "amy@example.com")) == [amy.sub]
        assert await subs(UserFilter("sub", "=", bo.sub)) == [bo.sub]
        assert await subs(UserFilter("given_name", "^=", "A")) == [zed.sub]
        assert await subs(UserFilter("phone_number", "=", "+15550100")) == [zed.sub]
        assert await subs(UserFilter("family_name", "=", "Ng")) == [amy.sub]
        assert await subs(UserFilter("preferred_username", "^=", "bo")) == [bo.sub]
        assert await subs(UserFilter("name", "^=", "")) == []  # empty values are not indexed
        assert await subs(UserFilter("status", "=", "UNCONFIRMED")) == [amy.sub]
        assert await subs(UserFilter("enabled", "=", False)) == [bo.sub]
        assert await subs(UserFilter("username_key", "^=", "z")) == [zed.sub]
        async with store.read() as conn:
            names = {r.name for r in await conn.execute(sa.select(schema.user_attrs.c.name))}
        assert "custom" not in names  # only what ListUsers filters on

        await migrate_to(store, before[1], down=True)  # and back: the former table, filled
        async with store.read() as conn:
            got = {(r.name, r.value, r.sub) for r in await conn.execute(sa.text("SELECT * FROM user_attrs"))}
        assert ("email", "z@example.com", zed.sub) in got and len(got) == 12
        await store.migrate()
        assert await subs(UserFilter("email", "^=", "")) == [amy.sub, bo.sub, zed.sub]
