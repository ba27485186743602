"""The store's own invariants, read straight from its tables (SQLite or PostgreSQL).

``check_invariants(database_url)`` returns one line per broken rule (empty: all hold):

- every user has a sub; no alias has two owners (a pool, attribute and key owned by one sub);
- no orphan rows: every client, user, group, resource server, domain and signing key
  belongs to an existing pool; every attribute row, alias, group membership and refresh
  token belongs to an existing user of its pool; a membership to an existing group; a
  refresh token to an existing client of the pool.

The fuzz and crash tests run it after the fire; it reads, never writes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

# (rule, a query counting the rows that break it)
RULES: list[tuple[str, str]] = [
    ("users without a sub", "SELECT count(*) FROM users WHERE sub IS NULL OR sub = ''"),
    (
        "aliases with two owners",
        "SELECT count(*) FROM (SELECT pool_id, attribute, alias_key FROM user_aliases"
        " GROUP BY pool_id, attribute, alias_key HAVING count(DISTINCT sub) > 1) AS twice",
    ),
    *[
        (
            f"{table} rows of no pool",
            f"SELECT count(*) FROM {table} x WHERE NOT EXISTS (SELECT 1 FROM pools p WHERE p.id = x.pool_id)",
        )
        for table in ("clients", "users", "groups", "resource_servers", "domains", "signing_keys")
    ],
    *[
        (
            f"{table} rows of no user",
            f"SELECT count(*) FROM {table} x WHERE NOT EXISTS"
            " (SELECT 1 FROM users u WHERE u.sub = x.sub AND u.pool_id = x.pool_id)",
        )
        for table in ("user_attrs", "user_aliases", "user_groups", "refresh_tokens")
    ],
    (
        "group memberships of no group",
        "SELECT count(*) FROM user_groups x WHERE NOT EXISTS"
        " (SELECT 1 FROM groups g WHERE g.pool_id = x.pool_id AND g.name = x.group_name)",
    ),
    (
        "refresh tokens of no client",
        "SELECT count(*) FROM refresh_tokens x WHERE NOT EXISTS"
        " (SELECT 1 FROM clients c WHERE c.id = x.client_id AND c.pool_id = x.pool_id)",
    ),
]


def _report(counts: list[tuple[str, int]]) -> list[str]:
    return [f"{n} {rule}" for rule, n in counts if n]


def check_invariants(database_url: str) -> list[str]:
    """Every broken invariant of the store at ``database_url`` (``sqlite:///PATH`` or ``postgresql://``)."""
    if database_url.startswith("sqlite:///"):
        engine = sa.create_engine("sqlite+pysqlite:///" + database_url[len("sqlite:///") :])
        try:
            with engine.connect() as conn:
                return _report([(rule, int(conn.execute(sa.text(q)).scalar_one())) for rule, q in RULES])
        finally:
            engine.dispose()
    url = database_url.split("://", 1)[1]

    async def run() -> list[str]:
        engine = create_async_engine("postgresql+asyncpg://" + url)
        try:
            async with engine.connect() as conn:
                counts = [(rule, int((await conn.execute(sa.text(q))).scalar_one())) for rule, q in RULES]
        finally:
            await engine.dispose()
        return _report(counts)

    return asyncio.run(run())


def sqlite_url(data_dir: Path) -> str:
    """The database a server with this data directory (and no database URL) uses."""
    return f"sqlite:///{data_dir / 'cognate.db'}"


def assert_invariants(database_url: str) -> None:
    broken = check_invariants(database_url)
    assert not broken, "store invariants broken: " + "; ".join(broken)
