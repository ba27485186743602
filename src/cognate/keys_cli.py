"""``cognate keys rotate POOL_ID``: add a new signing key pair to a pool.

The old keys stay in the JWKS until the tokens they signed have expired; running
servers pick the new keys up within a few seconds (their key cache's lifetime).
"""

from __future__ import annotations

import sys

from cognate import bootstrap, config
from cognate.app import core_config
from cognate.core.service import Core
from cognate.errors import CognateError
from cognate.store.cached import CachingStore


async def rotate(settings: config.Settings, pool_id: str) -> int:
    secrets = bootstrap.ensure(settings)
    store = CachingStore(settings.database_url)
    try:
        await store.migrate()
        core = Core(store, core_config(settings, secrets))
        try:
            await core.pools.get(pool_id)
        except CognateError as exc:
            print(f"cognate: {exc.message}", file=sys.stderr)
            return 1
        kids = await core.keys.rotate(pool_id)
    finally:
        await store.close()
    print(f"Rotated the signing keys of {pool_id}: new key ids {', '.join(kids)}")
    return 0
