"""Databases of a test's own on the PostgreSQL server of ``COGNATE_TEST_POSTGRES_URL``."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

POSTGRES_URL = os.environ.get("COGNATE_TEST_POSTGRES_URL")
NO_POSTGRES = "COGNATE_TEST_POSTGRES_URL is not set (e.g. postgresql://postgres@127.0.0.1:5432/test)"


def _admin(sql: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    assert POSTGRES_URL, NO_POSTGRES
    dsn = make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)

    async def run() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """Create ``<prefix>_<random>`` next to the database the URL names; its URL; drop it afterwards."""
    from sqlalchemy.engine import make_url

    assert POSTGRES_URL, NO_POSTGRES
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def dump(url: str) -> bytes:
    """Every row of every table of the database at ``url``, as text (what a disk would hold)."""
    import asyncpg
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def run() -> bytes:
        conn = await asyncpg.connect(dsn)
        try:
            tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            out = []
            for row in tables:
                name = row["tablename"].replace('"', '""')
                out += [r[0] for r in await conn.fetch(f'SELECT t::text FROM "{name}" t')]
            return "\n".join(out).encode()
        finally:
            await conn.close()

    return asyncio.run(run())
