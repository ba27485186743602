"""The invariant checker the fuzz and crash tests rely on finds what it should: a store made by
the migrations passes; each kind of broken row written behind its back is reported."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from cognate.store.cached import CachingStore
from tests.fuzz.invariants import check_invariants
from tests.support.postgres import NO_POSTGRES, POSTGRES_URL, fresh_database

# Rows that break one rule each (the pool "p1" and the user "s1" exist; nothing else does).
GOOD = [
    "INSERT INTO pools (id, name, created, modified, doc) VALUES ('p1', 'p', 0, 0, '{}')",
    "INSERT INTO users (sub, pool_id, username, username_key, status, enabled, attributes, mfa,"
    " tokens_valid_after, created, modified)"
    " VALUES ('s1', 'p1', 'ann', 'ann', 'CONFIRMED', TRUE, '{}', '{}', 0, 0, 0)",
    "INSERT INTO user_aliases (pool_id, attribute, alias_key, sub) VALUES ('p1', 'email', 'a@x', 's1')",
]
BROKEN = {
    "users without a sub": "INSERT INTO users (sub, pool_id, username, username_key, status, enabled,"
    " attributes, mfa, tokens_valid_after, created, modified)"
    " VALUES ('', 'p1', 'bob', 'bob', 'CONFIRMED', TRUE, '{}', '{}', 0, 0, 0)",
    "clients rows of no pool": "INSERT INTO clients (id, pool_id, name, created, modified, doc)"
    " VALUES ('c9', 'gone', 'c', 0, 0, '{}')",
    "user_aliases rows of no user": "INSERT INTO user_aliases (pool_id, attribute, alias_key, sub)"
    " VALUES ('p1', 'phone_number', '+1555', 'ghost')",
    "user_groups rows of no user": "INSERT INTO user_groups (pool_id, group_name, sub)"
    " VALUES ('p1', 'g', 'ghost')",
    "refresh tokens of no client": "INSERT INTO refresh_tokens (token_hash, pool_id, client_id, sub,"
    " origin_jti, created, expires, doc) VALUES ('h', 'p1', 'nobody', 's1', 'j', 0, 0, '{}')",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cognate.db'}"
        _migrate(url)
        yield url
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    with fresh_database("cognate_invariants") as url:
        _migrate(url)
        yield url


def _migrate(url: str) -> None:
    async def run() -> None:
        store = CachingStore(url)
        await store.migrate()
        await store.close()

    asyncio.run(run())


def _execute(url: str, statements: list[str]) -> None:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url[len("sqlite:///") :]) as db:
            for sql in statements:
                db.execute(sql)
        return
    import asyncpg
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def run() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            for sql in statements:
                await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def test_a_consistent_store_passes_and_each_broken_row_is_reported(database: str) -> None:
    _execute(database, GOOD)
    assert check_invariants(database) == []
    for rule, sql in BROKEN.items():
        _execute(database, [sql])
        broken = check_invariants(database)
        assert any(line.endswith(rule) for line in broken), (rule, broken)
    assert len(check_invariants(database)) >= len(BROKEN)
