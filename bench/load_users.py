"""Bulk path of the benchmark: a pool, a client and N confirmed users, straight into the store.

Runs before the server starts, on the same data dir. The pool and the client are made
by the core's own services; the users go through the store's row layout
(``Store._user_values``, ``indexed_values``, ``username_key``) in batches, a few
transactions in all. Every user gets the SAME precomputed argon2id hash (the server's
default cost) and the SAME sealed SRP verifier, computed once through
``Users.credentials`` with the data dir's real master key -- so all of them sign in
with ``USER_PASSWORD_AUTH`` and the one password. (An SRP verifier is bound to a
username, so SRP sign-in works only for the first user; the benchmark does not use it.)

    python -m bench.load_users --data-dir D --users 100000
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "Bench-Passw0rd!"
POOL_NAME = "bench"
CLIENT_FLOWS = ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


def username(i: int) -> str:
    return f"user{i:07d}"


GIVEN_NAMES = 100  # given_name is one of this many values: an "=" filter with many matches


def sub_of(pool_id: str, i: int) -> str:
    """User i's sub: a UUID4 the bench can compute again (for ``sub`` filters)."""
    return str(uuid.UUID(bytes=hashlib.sha256(f"{pool_id}/{i}".encode()).digest()[:16], version=4))


def srp_indexes(n_users: int, k: int) -> list[int]:
    """The K users (spread over the pool) that get an SRP verifier of their own."""
    return sorted({j * n_users // k for j in range(k)}) if k else []


def attributes(i: int, sub: str) -> dict[str, str]:
    """User i's attributes: an email and a phone number of its own, a shared given name."""
    return {
        "sub": sub,
        "email": f"{username(i)}@example.com",
        "email_verified": "true",
        "phone_number": f"+1555{i:07d}",
        "given_name": f"Name{i % GIVEN_NAMES:03d}",
    }


async def load(
    data_dir: Path,
    n_users: int,
    *,
    batch: int = 10_000,
    password: str = PASSWORD,
    database_url: str | None = None,
    srp_users: int = 0,
) -> dict[str, Any]:
    """``srp_users``: K users spread over the pool (``srp_indexes``) get an SRP verifier of
    their own (one is bound to a username), so that they sign in by SRP; the others share
    user 0's."""
    if os.environ.get("COGNATE_TEST_PASSWORD_HASH_COST"):
        raise SystemExit("COGNATE_TEST_PASSWORD_HASH_COST must not be set for the benchmark")
    from cognate import bootstrap, config
    from cognate.app import core_config
    from cognate.core.entities import User, UserStatus
    from cognate.core.service import Core
    from cognate.core.users import indexed_values, username_key
    from cognate.store import schema as t
    from cognate.store.sql import Store

    settings = config.load({"data_dir": str(data_dir), "database_url": database_url}, environ={})
    secrets = bootstrap.ensure(settings)
    store = Store(settings.database_url)
    try:
        await store.migrate()
        core = Core(store, core_config(settings, secrets))
        pool = await core.pools.create({"PoolName": POOL_NAME})
        client = await core.clients.create(pool, {"ClientName": POOL_NAME, "ExplicitAuthFlows": CLIENT_FLOWS})

        t0 = time.perf_counter()
        # One argon2id hash (default cost) and one sealed SRP verifier, with the real master key.
        creds = await core.users.credentials(pool, username(0), password)
        own_srp = {
            i: (await core.users.credentials(pool, username(i), password))["srp_secret"]
            for i in srp_indexes(n_users, srp_users)
        }
        t_creds = time.perf_counter() - t0

        t1 = time.perf_counter()
        now = time.time()
        done = 0
        while done < n_users:
            users, attrs = [], []
            for i in range(done, min(n_users, done + batch)):
                sub = sub_of(pool.id, i)
                user = User(
                    sub=sub,
                    pool_id=pool.id,
                    username=username(i),
                    status=UserStatus.CONFIRMED,
                    enabled=True,
                    attributes=attributes(i, sub),
                    created=now,
                    modified=now,
                    password_hash=creds["password_hash"],
                    srp_secret=own_srp.get(i, creds["srp_secret"]),
                )
                key = username_key(pool, user.username)
                users.append(Store._user_values(user, key))
                attrs += [
                    {"pool_id": pool.id, "name": k, "value": v, "username_key": key, "sub": sub}
                    for k, v in indexed_values(user)
                ]
            async with store.write() as conn:
                if store.is_sqlite:  # random inserts into the sub indexes: keep their pages in memory
                    await conn.exec_driver_sql("PRAGMA cache_size=-262144")
                await conn.execute(t.users.insert(), users)
                await conn.execute(t.user_attrs.insert(), attrs)
            done += len(users)
        t_insert = time.perf_counter() - t1
        count = await store.count_users(pool.id)
    finally:
        await store.close()
    return {
        "pool_id": pool.id,
        "client_id": client.id,
        "users": count,
        "password": password,
        "srp_usernames": [username(i) for i in srp_indexes(n_users, srp_users)],
        "hash_and_verifier_s": round(t_creds, 3),
        "insert_s": round(t_insert, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--users", required=True, type=int)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--database-url", help="PostgreSQL (default: SQLite in the data dir)")
    parser.add_argument("--srp-users", type=int, default=0, help="the first K users sign in by SRP too")
    args = parser.parse_args()
    loaded = load(
        args.data_dir, args.users, batch=args.batch, database_url=args.database_url, srp_users=args.srp_users
    )
    print(json.dumps(asyncio.run(loaded)))


if __name__ == "__main__":
    main()
