"""A signing key rotated by one process reaches every other within the key cache's bound.

Two cores on one database stand for two nodes (or a node and ``cognate keys rotate``),
on one pinned clock. docs/deployment.md states the bound: a node serves the new keys in
its JWKS and signs with them at most ``CACHE_TTL_S`` (5 s) after the rotation, and a
token signed with a key it has not loaded yet makes it reload at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cognate.core.clock import Clock
from cognate.core.keys import CACHE_TTL_S
from cognate.core.service import Core, CoreConfig
from cognate.store.cached import CachingStore
from tests.api.conftest import MASTER_KEY

pytestmark = pytest.mark.anyio


async def _nodes(tmp_path: Path, clock: Clock) -> list[Core]:
    cores = []
    for _ in range(2):
        store = CachingStore(f"sqlite:///{tmp_path / 'cognate.db'}")
        await store.migrate()
        config = CoreConfig(
            "us-east-1", tmp_path, "http://cognate.test", "local", MASTER_KEY, password_hash_cost="low"
        )
        cores.append(Core(store, config, clock=clock))
    return cores


def kids(jwks: list[dict[str, str]]) -> set[str]:
    return {k["kid"] for k in jwks}


async def test_jwks_and_signing_follow_a_rotation_elsewhere_within_the_bound(tmp_path: Path) -> None:
    clock = Clock.pinned()
    a, b = await _nodes(tmp_path, clock)
    try:
        pool = await a.pools.create({"PoolName": "p"})
        before = await b.keys.get(pool.id)
        old = kids(before.jwks)
        new = set(await a.keys.rotate(pool.id))
        # Within the bound B may still serve and sign with what it loaded before ...
        clock.advance(CACHE_TTL_S - 0.01)
        stale = await b.keys.get(pool.id)
        assert kids(stale.jwks) == old and {s.kid for s in stale.signers.values()} <= old
        # ... and no later: past it, B serves both sets and signs with the new keys.
        clock.advance(0.02)
        fresh = await b.keys.get(pool.id)
        assert kids(fresh.jwks) == old | new
        assert {s.kid for s in fresh.signers.values()} == new
    finally:
        for core in (a, b):
            await core.store.close()


async def test_a_token_of_a_key_not_loaded_yet_is_verified_at_once(tmp_path: Path) -> None:
    clock = Clock.pinned()
    a, b = await _nodes(tmp_path, clock)
    try:
        pool = await a.pools.create({"PoolName": "p"})
        await b.keys.get(pool.id)  # B has the first keys cached
        new = await a.keys.rotate(pool.id)
        for kid in new:  # no time passes: the unknown kid makes B read the keys again
            assert await b.keys.public_key(pool.id, kid) is not None
        assert await b.keys.public_key(pool.id, "no-such-kid") is None
    finally:
        for core in (a, b):
            await core.store.close()
