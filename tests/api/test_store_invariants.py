"""The invariant checker (tests/support/invariants.py) finds what a half-write leaves.

A whole database passes; each kind of damage a torn write could leave is made by hand
with sqlite3 and must be named.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from cognate.core.service import Core
from tests.support.invariants import check_invariants

pytestmark = pytest.mark.anyio


async def _populate(core: Core) -> None:
    pool = await core.pools.create({"PoolName": "inv", "AliasAttributes": ["email", "preferred_username"]})
    await core.clients.create(pool, {"ClientName": "c"})
    for name in ("ann", "bob"):
        await core.users.create_confirmed(
            pool,
            name,
            "Passw0rd!",
            {"email": f"{name}@example.com", "email_verified": "true", "preferred_username": f"p-{name}"},
        )
    await core.groups.create(pool, "staff", {})
    await core.groups.add_user(pool, "staff", await core.users.get(pool, "ann"))


DAMAGE: dict[str, tuple[str, str]] = {
    # what a torn write would leave -> the words the checker must use
    "alias row lost": (
        "DELETE FROM user_aliases WHERE attribute = 'email' AND alias_key LIKE 'ann%'",
        "not its own row",
    ),
    "alias moved, attribute not": (
        "UPDATE user_aliases SET sub = (SELECT sub FROM users WHERE username = 'bob')"
        " WHERE attribute = 'preferred_username' AND alias_key = 'p-ann'",
        "not its own row",
    ),
    "two owners": (
        "UPDATE users SET attributes = json_set(attributes, '$.preferred_username', 'p-ann')"
        " WHERE username = 'bob'",
        "held by 2 users",
    ),
    "index lost": ("DELETE FROM user_attrs WHERE name = 'email'", "attribute index does not match"),
    "user without sub": ("UPDATE users SET sub = '' WHERE username = 'bob'", "has no sub"),
    "orphan attribute rows": ("DELETE FROM users WHERE username = 'bob'", "who does not exist"),
    "orphan membership": ("DELETE FROM groups", "which does not exist"),
    "orphan pool rows": ("DELETE FROM pools", "which does not exist"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
async def test_each_kind_of_damage_is_named(core: Core, tmp_path: Path, damage: str) -> None:
    await _populate(core)
    url = f"sqlite:///{tmp_path / 'cognate.db'}"
    assert check_invariants(url) == []
    sql, words = DAMAGE[damage]
    _apply(tmp_path / "cognate.db", lambda db: db.execute(sql))
    found = check_invariants(url)
    assert any(words in v for v in found), found


async def test_a_rotated_refresh_token_without_its_successor_is_named(core: Core, tmp_path: Path) -> None:
    await _populate(core)
    url = f"sqlite:///{tmp_path / 'cognate.db'}"
    rows = [
        ("h1", "f1", 1.0, None),  # a family whose rotation is whole
        ("h2", "f1", 2.0, 2.0),
        ("h3", "f1", 3.0, None),
        ("h4", "f2", 1.0, 5.0),  # rotated, and its successor was never written
    ]

    def insert(db: sqlite3.Connection) -> None:
        pool_id, sub = db.execute("SELECT pool_id, sub FROM users LIMIT 1").fetchone()
        (client_id,) = db.execute("SELECT id FROM clients LIMIT 1").fetchone()
        for token_hash, family, created, rotated in rows:
            db.execute(
                "INSERT INTO refresh_tokens VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, '{}')",
                (token_hash, pool_id, client_id, sub, family, created, created + 3600, rotated),
            )

    _apply(tmp_path / "cognate.db", insert)
    assert check_invariants(url) == ["refresh_tokens: a rotated token of family f2 has no successor"]


def _apply(path: Path, change: Callable[[sqlite3.Connection], object]) -> None:
    with sqlite3.connect(path) as db:
        change(db)
