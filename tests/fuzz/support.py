"""Shared pieces of the fuzz tests: one in-process application on its own event loop,
driven from Hypothesis' synchronous ``@given`` tests, and the invariants checked after.

Bounds: ``COGNATE_FUZZ_EXAMPLES`` (examples per operation or endpoint; small by default
so CI stays short, e.g. ``COGNATE_FUZZ_EXAMPLES=500`` for a long run).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings

from tests.support.inprocess import InProcessApi, inprocess_api

T = TypeVar("T")
EXAMPLES = int(os.environ.get("COGNATE_FUZZ_EXAMPLES", "0") or 0)


def fuzz_settings(default: int) -> settings:
    return settings(
        max_examples=EXAMPLES or default,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


class Running:
    """An in-process application whose calls a synchronous test can make."""

    def __init__(self, loop: asyncio.AbstractEventLoop, api: InProcessApi) -> None:
        self.loop = loop
        self.api = api

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout=30))


@contextmanager
def running_app(tmp: Path) -> Iterator[Running]:
    loop = asyncio.new_event_loop()
    context = inprocess_api(tmp)
    try:
        api = loop.run_until_complete(context.__aenter__())
        try:
            yield Running(loop, api)
        finally:
            loop.run_until_complete(context.__aexit__(None, None, None))
    finally:
        loop.close()


def check_store_invariants(data_dir: Path) -> None:
    """No user without a sub; every alias owned by one existing user of its pool."""
    files = list(data_dir.glob("*.db")) + list(data_dir.glob("*.sqlite*"))
    assert files, f"no SQLite file under {data_dir}"
    with sqlite3.connect(files[0]) as db:
        no_sub = db.execute("SELECT count(*) FROM users WHERE sub IS NULL OR sub = ''").fetchone()[0]
        assert no_sub == 0, f"{no_sub} users without a sub"
        dangling = db.execute(
            "SELECT count(*) FROM user_aliases a LEFT JOIN users u"
            " ON u.sub = a.sub AND u.pool_id = a.pool_id WHERE u.sub IS NULL"
        ).fetchone()[0]
        assert dangling == 0, f"{dangling} aliases owned by no user"
        twice = db.execute(
            "SELECT count(*) FROM (SELECT pool_id, attribute, alias_key FROM user_aliases"
            " GROUP BY pool_id, attribute, alias_key HAVING count(DISTINCT sub) > 1)"
        ).fetchone()[0]
        assert twice == 0, f"{twice} aliases with two owners"
