"""In-process fixtures: the core over a temp SQLite store, with a clock the test can move."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cognate.core.clock import Clock
from cognate.core.service import Core, CoreConfig
from cognate.crypto.sealing import new_master_key
from cognate.store.cached import CachingStore


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    store = CachingStore(f"sqlite:///{tmp_path / 'cognate.db'}")
    await store.migrate()
    config = CoreConfig(
        region="us-east-1",
        data_dir=tmp_path,
        public_url="http://cognate.test",
        issuer_style="local",
        master_key=new_master_key(),
        password_hash_cost="low",
    )
    yield Core(store, config, clock=Clock())
    await store.close()
