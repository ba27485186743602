"""The store's invariants, read straight from the database after a test has done its worst.

``check_invariants(database_url) -> list[str]``: the violations found (empty when the
database is whole), for SQLite (``sqlite:///PATH``) and PostgreSQL URLs alike. Call it
with the server stopped or idle: it reads table by table, not in one snapshot. What it
checks:

- every user has a sub, a username key and attributes that are an object (and a
  ``sub`` attribute, if any, equal to its sub);
- nothing hangs on a pool that does not exist (every table of ``POOL_TABLES``), on a
  user that does not exist (attribute index, aliases, group memberships, refresh
  tokens), on a group or an app client that does not exist;
- each user's attribute index is exactly what its attributes give (``indexed_values``)
  and each alias it can sign in with (``usable_aliases``) is its own row: an alias held
  by two users, a row left behind by a change, or a change whose index was never
  written are all violations. (A database upgraded by migration 0003 may keep a
  ``preferred_username`` on two accounts on purpose, docs/storage.md: not for tests.)
- a rotated refresh token has a successor in its family (a rotation is one write).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections import defaultdict
from typing import Any

from cognate.core.entities import Pool, User, UserStatus
from cognate.core.sign_in_names import indexed_values, usable_aliases
from cognate.store.engine import db_file
from cognate.store.pools import POOL_TABLES

Row = dict[str, Any]


def check_invariants(database_url: str) -> list[str]:
    """Every violation of the store's invariants in the database at ``database_url``."""
    tables = _read_all(database_url, [t.name for t in POOL_TABLES] + ["pools"])
    return _check(tables)


def read_table(database_url: str, name: str) -> list[Row]:
    """Every row of one table (JSON columns as stored: text on SQLite and PostgreSQL)."""
    return _read_all(database_url, [name])[name]


# --- reading ------------------------------------------------------------------------------


def _read_all(url: str, names: list[str]) -> dict[str, list[Row]]:
    path = db_file(url)
    if path is not None:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            db.row_factory = sqlite3.Row
            return {n: [dict(r) for r in db.execute(f'SELECT * FROM "{n}"')] for n in names}
    return _run(_read_postgres(url, names))


async def _read_postgres(url: str, names: list[str]) -> dict[str, list[Row]]:
    import asyncpg
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn, timeout=30)
    try:
        return {n: [dict(r) for r in await conn.fetch(f'SELECT * FROM "{n}"')] for n in names}
    finally:
        await conn.close()


def _run(coro: Any) -> Any:
    """``asyncio.run``, also when the caller is inside a running event loop (in a thread then)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(asyncio.run(coro)))
    thread.start()
    thread.join()
    return out[0]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


# --- checking -----------------------------------------------------------------------------


def _check(tables: dict[str, list[Row]]) -> list[str]:
    out: list[str] = []
    pools = {
        r["id"]: Pool(r["id"], r["name"], r["created"], r["modified"], _json(r["doc"]))
        for r in tables["pools"]
    }
    for name, rows in tables.items():
        if name != "pools":
            out += [
                f"{name}: a row of pool {r['pool_id']!r}, which does not exist"
                for r in rows
                if r["pool_id"] not in pools
            ]

    users: dict[tuple[str, str], User] = {}
    for r in tables["users"]:
        where = f"users: {r['pool_id']}/{r['username']!r}"
        attributes = _json(r["attributes"])
        if not r["sub"]:
            out.append(f"{where} has no sub")
            continue
        if not r["username_key"]:
            out.append(f"{where} has no username key")
        if not isinstance(attributes, dict):
            out.append(f"{where}: attributes are not an object")
            continue
        if attributes.get("sub", r["sub"]) != r["sub"]:
            out.append(f"{where}: its sub attribute is not its sub")
        users[(r["pool_id"], r["sub"])] = User(
            sub=r["sub"],
            pool_id=r["pool_id"],
            username=r["username"],
            status=UserStatus(r["status"]),
            enabled=bool(r["enabled"]),
            attributes=attributes,
            created=r["created"],
            modified=r["modified"],
        )

    def owner(table: str, r: Row) -> User | None:
        user = users.get((r["pool_id"], r["sub"]))
        if user is None:
            out.append(f"{table}: a row of user {r['pool_id']}/{r['sub']}, who does not exist")
        return user

    index: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for r in tables["user_attrs"]:
        if owner("user_attrs", r):
            index[(r["pool_id"], r["sub"])].add((r["name"], r["value"]))
    alias_rows: dict[tuple[str, str, str], str] = {}
    for r in tables["user_aliases"]:
        if owner("user_aliases", r):
            alias_rows[(r["pool_id"], r["attribute"], r["alias_key"])] = r["sub"]

    holders: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for (pool_id, sub), user in users.items():
        where = f"users: {pool_id}/{user.username!r}"
        if index[(pool_id, sub)] != set(indexed_values(user)):
            out.append(f"{where}: its attribute index does not match its attributes")
        pool = pools.get(pool_id)
        if pool is None:
            continue
        for attribute, key in usable_aliases(pool, user.attributes):
            holders[(pool_id, attribute, key)].append(sub)
            if alias_rows.get((pool_id, attribute, key)) != sub:
                out.append(f"{where}: its {attribute} alias is not its own row")
    for (pool_id, attribute, _key), subs in holders.items():
        if len(subs) > 1:
            out.append(f"user_aliases: a {attribute} alias of pool {pool_id} held by {len(subs)} users")
    for alias, sub in alias_rows.items():
        if sub not in holders.get(alias, []):
            pool_id, attribute, _ = alias
            out.append(f"user_aliases: a {attribute} row of {pool_id}/{sub}, whose attributes do not hold it")

    groups = {(r["pool_id"], r["name"]) for r in tables["groups"]}
    for r in tables["user_groups"]:
        owner("user_groups", r)
        if (r["pool_id"], r["group_name"]) not in groups:
            out.append(
                f"user_groups: a member of group {r['pool_id']}/{r['group_name']}, which does not exist"
            )

    clients = {r["id"] for r in tables["clients"]}
    families: dict[str, list[Row]] = defaultdict(list)
    for r in tables["refresh_tokens"]:
        owner("refresh_tokens", r)
        if r["client_id"] not in clients:
            out.append(f"refresh_tokens: a token of client {r['client_id']}, which does not exist")
        families[r["origin_jti"]].append(r)
    for family in families.values():
        for r in family:
            if r["rotated_at"] is not None and not any(
                o is not r and o["created"] >= r["created"] for o in family
            ):
                out.append(f"refresh_tokens: a rotated token of family {r['origin_jti']} has no successor")
    return out
