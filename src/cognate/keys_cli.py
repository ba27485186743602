"""``cognate keys rotate POOL_ID``: add a new signing key pair to a pool.

It works on an existing installation only: a data dir without Cognate's master key,
or a SQLite file that does not exist, is refused rather than created. The old keys
stay in the JWKS until the tokens they signed have expired; every running server, on
every node, serves and signs with the new keys within five seconds (``CACHE_TTL_S`` of
core/keys.py, its key cache's lifetime).
"""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from pathlib import Path

from cognate import bootstrap, config
from cognate.app import core_config
from cognate.cli import check_master_key
from cognate.core.context import admin_context
from cognate.core.service import Core
from cognate.errors import CognateError
from cognate.store.cached import CachingStore


def operator() -> str:
    """Who runs an operator command, for the audit log: ``cli:`` and the system user."""
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container's)
        return f"cli:uid={os.getuid()}"


def rotate(settings: config.Settings, pool_id: str) -> int:
    secrets = bootstrap.ensure(settings, create=False)
    if settings.database_url.startswith("sqlite:///"):
        db = Path(settings.database_url[len("sqlite:///") :])
        if not db.is_file():
            raise config.ConfigError(
                f"no Cognate database at {db}: give the server's --data-dir or --database-url"
            )
    return asyncio.run(_rotate(settings, secrets, pool_id))


async def _rotate(settings: config.Settings, secrets: bootstrap.Secrets, pool_id: str) -> int:
    store = CachingStore(settings.database_url)
    try:
        await store.migrate()
        await check_master_key(store, secrets)
        core = Core(store, core_config(settings, secrets))
        try:
            await core.pools.get(pool_id)
        except CognateError as exc:
            print(f"cognate: {exc.message}", file=sys.stderr)
            return 1
        kids = await core.keys.rotate(pool_id)
        await core.audit.record(
            admin_context(),
            actor=operator(),
            operation="keys rotate",
            target={"UserPoolId": pool_id},
            fields=["SigningKeys"],
        )
    finally:
        await store.close()
    print(f"Rotated the signing keys of {pool_id}: new key ids {', '.join(kids)}")
    return 0
