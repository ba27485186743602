"""Shared pieces of the fuzz tests: one in-process application on its own event loop,
driven from Hypothesis' synchronous ``@given`` tests, and the invariants checked after.

Bounds: ``COGNATE_FUZZ_EXAMPLES`` (examples per operation or endpoint; small by default
so CI stays short, e.g. ``COGNATE_FUZZ_EXAMPLES=500`` for a long run).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, settings

from cognate.testing.keys import KeyReserve, installed
from tests.support.inprocess import InProcessApi, inprocess_api
from tests.support.invariants import check_invariants

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
def running_app(tmp: Path, config: pytest.Config | None = None) -> Iterator[Running]:
    """The application in-process; a new pool's signing keys come from the reserve kept in
    pytest's cache (as the ``cognate`` fixtures' do): the fuzz makes many pools, and RSA key
    generation would otherwise be most of its cost."""
    cache = getattr(config, "cache", None)  # None when the cache plugin is off (-p no:cacheprovider)
    keys = KeyReserve(cache.mkdir("cognate") / "signing-keys.pem" if cache is not None else None)
    loop = asyncio.new_event_loop()
    context = inprocess_api(tmp)
    try:
        with installed(keys):
            api = loop.run_until_complete(context.__aenter__())
            try:
                yield Running(loop, api)
            finally:
                loop.run_until_complete(context.__aexit__(None, None, None))
    finally:
        loop.close()


def check_store_invariants(data_dir: Path) -> None:
    """The store's invariants (tests/support/invariants.py) hold in this data directory's SQLite file."""
    broken = check_invariants(f"sqlite:///{data_dir / 'cognate.db'}")
    assert not broken, "store invariants broken: " + "; ".join(broken[:20])


# What uvicorn refuses to send (it drops the connection instead, leaving the client no answer
# at all): the in-process transport would pass such headers, so the fuzz checks them itself.
_HEADER_NAME_UNSAFE = re.compile(b'[\x00-\x1f\x7f()<>@,;:\\[\\]={} \t\\\\"]')
_HEADER_VALUE_UNSAFE = re.compile(b"[\x00-\x08\x0a-\x1f\x7f]")


def assert_sendable_headers(resp: httpx.Response) -> None:
    """Every header of ``resp`` is one a real server (uvicorn) would put on the wire."""
    for name, value in resp.headers.raw:
        assert not _HEADER_NAME_UNSAFE.search(name), ("unsendable header name", name)
        assert not _HEADER_VALUE_UNSAFE.search(value), ("unsendable header value", name, value[:300])
