"""In-process fixtures: the core over a temp SQLite store, with a clock the test can move."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from cognate.core.clock import Clock
from cognate.core.service import Core, CoreConfig
from cognate.core.triggers import Invoker
from cognate.crypto.sealing import new_master_key
from cognate.store.cached import CachingStore
from tests.support.inprocess import InProcessApi, inprocess_api

MakeCore = Callable[..., Awaitable[Core]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def make_core(tmp_path: Path) -> AsyncIterator[MakeCore]:
    """Builds cores over one temp database (``invoker=`` a RecordingInvoker for trigger tests)."""
    stores: list[CachingStore] = []

    async def make(invoker: Invoker | None = None, functions: dict[str, str] | None = None) -> Core:
        store = CachingStore(f"sqlite:///{tmp_path / 'cognate.db'}")
        stores.append(store)
        await store.migrate()
        config = CoreConfig(
            region="us-east-1",
            data_dir=tmp_path,
            public_url="http://cognate.test",
            issuer_style="local",
            master_key=MASTER_KEY,
            password_hash_cost="low",
            # The functions a test pool's LambdaConfig may name (the invoker stands in for them).
            functions=functions if functions is not None else TEST_FUNCTIONS,
        )
        return Core(store, config, clock=Clock(), invoker=invoker)

    yield make
    for store in stores:
        await store.close()


MASTER_KEY = new_master_key()


class EveryFunction(dict[str, str]):
    """A functions file that defines every function: a RecordingInvoker stands in for them."""

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: str) -> str:
        return "python:tests.support.trigger_handlers:recorder"


TEST_FUNCTIONS = EveryFunction()


@pytest.fixture
async def core(make_core: MakeCore) -> Core:
    return await make_core()


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[InProcessApi]:
    """The whole application in-process (httpx ASGI transport) with a pinned clock."""
    async with inprocess_api(tmp_path) as running:
        yield running
