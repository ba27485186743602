"""Refresh-token rotation across two nodes on one clock instant (issue 7, item 20).

The audit's race, made deterministic: two nodes both read a refresh token before either
rotates it, at the same instant. With RetryGracePeriodSeconds 0 only the rotation's
winner gets tokens; a request that read its clock before the twin's rotation is not
"within the grace period".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cognate.core.clock import Clock
from cognate.core.context import Door, RequestContext
from cognate.core.outcome import Authenticated
from cognate.core.service import Core, CoreConfig
from cognate.errors import RefreshTokenReuseException
from cognate.store.cached import CachingStore
from tests.api.conftest import MASTER_KEY

pytestmark = pytest.mark.anyio
CTX = RequestContext(Door.AWS)
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


class Frozen(Clock):
    def now(self) -> float:
        return 1_900_000_000.0 + self._offset


async def _nodes(tmp_path: Path) -> list[Core]:
    cores = []
    for _ in range(2):
        store = CachingStore(f"sqlite:///{tmp_path / 'cognate.db'}")
        await store.migrate()
        config = CoreConfig(
            "us-east-1", tmp_path, "http://cognate.test", "local", MASTER_KEY, password_hash_cost="low"
        )
        cores.append(Core(store, config, clock=Frozen()))
    return cores


@pytest.mark.parametrize("grace", [0, 30])
async def test_twins_that_read_before_the_rotation(tmp_path: Path, grace: int) -> None:
    a, b = await _nodes(tmp_path)
    try:
        pool = await a.pools.create({"PoolName": "p"})
        rotation = {"Feature": "ENABLED", "RetryGracePeriodSeconds": grace}
        client = await a.clients.create(
            pool, {"ClientName": "c", "ExplicitAuthFlows": FLOWS, "RefreshTokenRotation": rotation}
        )
        await a.users.create_confirmed(pool, "ann", "Passw0rd!", {})
        step = await a.auth.initiate(
            CTX, client.id, "USER_PASSWORD_AUTH", {"USERNAME": "ann", "PASSWORD": "Passw0rd!"}
        )
        assert isinstance(step, Authenticated)
        token = (await a.tokens.complete(CTX, step)).refresh_token
        assert token
        # Both nodes read the token (not rotated yet), then both complete, same instant.
        seen_a = await a.auth.get_tokens_from_refresh(CTX, client.id, token)
        seen_b = await b.auth.get_tokens_from_refresh(CTX, client.id, token)
        won = await a.tokens.complete(CTX, seen_a)
        assert won.refresh_token
        if grace == 0:
            with pytest.raises(RefreshTokenReuseException):
                await b.tokens.complete(CTX, seen_b)
        else:
            retry = await b.tokens.complete(CTX, seen_b)
            assert retry.refresh_token and retry.refresh_token != won.refresh_token
            # Past the period, the old token is a reuse.
            b.clock.advance(grace + 1)
            late = await b.auth.get_tokens_from_refresh(CTX, client.id, token)
            with pytest.raises(RefreshTokenReuseException):
                await b.tokens.complete(CTX, late)
    finally:
        for core in (a, b):
            await core.store.close()
