"""usable aliases: one owner each, held by a unique index

Revision ID: 0003
Revises: 0002

Adds ``user_aliases``: one row per usable alias, keyed on (pool, attribute, normalised
value) -- the primary key is the unique index -- with the sub of its owner. Usable,
as Cognito's "Customizing sign-in attributes" has it: with UsernameAttributes the
email or phone number that is the sign-in name; with AliasAttributes a *verified*
email or phone number (an unverified one may sit on several accounts) and any
preferred_username. In a pool with ``UsernameConfiguration.CaseSensitive`` false,
email and preferred_username are keyed in lower case (the phone number as it is).

Existing users are indexed here, oldest account first (by creation time, then
sub). Before this revision nothing in the database stopped two requests from giving
one alias to two users, and case variants of one email were distinct; where two
existing accounts hold one alias:

- the oldest keeps it;
- on each other account, a verified email or phone number used as an alias is
  marked unverified (``email_verified`` / ``phone_number_verified`` = "false"), as
  ForceAliasCreation does to a previous owner: the value stays, and the user can
  no longer sign in with it;
- a preferred_username, or an email / phone number that is the sign-in name
  (UsernameAttributes), stays on the account unchanged but is no longer a way to
  sign in to it (the account keeps its username); a later attribute update of that
  account is refused with AliasExistsException until the value is changed.

Each such account is logged (logger ``cognate.store.migrations``: pool, sub,
attribute, and the sub that kept the alias -- never the value). The rule is
written out here, not imported: a migration stays what it was when it ran.
Downgrading drops the table; attributes marked unverified stay so.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

revision = "0003"
down_revision = "0002"

log = logging.getLogger("cognate.store.migrations")

ALIASES = ("email", "phone_number", "preferred_username")
PAGE = 1000

_pools = sa.table("pools", sa.column("id", sa.String), sa.column("doc", sa.JSON))
_users = sa.table(
    "users",
    sa.column("sub", sa.String),
    sa.column("pool_id", sa.String),
    sa.column("created", sa.Float),
    sa.column("attributes", sa.JSON),
)


def upgrade() -> None:
    aliases = op.create_table(
        "user_aliases",
        sa.Column("pool_id", sa.String(length=64), nullable=False),
        sa.Column("attribute", sa.String(length=32), nullable=False),
        sa.Column("alias_key", sa.String(length=2048), nullable=False),
        sa.Column("sub", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("pool_id", "attribute", "alias_key"),
    )
    with op.batch_alter_table("user_aliases", schema=None) as batch_op:
        batch_op.create_index("ix_user_aliases_sub", ["sub"], unique=False)
    conn = op.get_bind()
    for pool_id, doc in conn.execute(sa.select(_pools.c.id, _pools.c.doc)).all():
        if any(
            a in ALIASES for a in (doc.get("UsernameAttributes") or []) + (doc.get("AliasAttributes") or [])
        ):
            _index_pool(conn, aliases, pool_id, doc)


def downgrade() -> None:
    with op.batch_alter_table("user_aliases", schema=None) as batch_op:
        batch_op.drop_index("ix_user_aliases_sub")
    op.drop_table("user_aliases")


def _usable(doc: dict[str, Any], attrs: dict[str, str]) -> list[tuple[str, str]]:
    username_attrs = doc.get("UsernameAttributes") or []
    alias_attrs = doc.get("AliasAttributes") or []
    case_sensitive = bool((doc.get("UsernameConfiguration") or {}).get("CaseSensitive", True))
    out = []
    for attr in ALIASES:
        value = attrs.get(attr)
        if not value:
            continue
        if attr in username_attrs or (
            attr in alias_attrs and (attr == "preferred_username" or attrs.get(f"{attr}_verified") == "true")
        ):
            out.append((attr, value if attr == "phone_number" or case_sensitive else value.lower()))
    return out


def _pages(conn: sa.Connection, pool_id: str) -> Iterator[list[Any]]:
    """The pool's users, oldest first, a page at a time (keyset paging: no offset scans)."""
    order = (_users.c.created, _users.c.sub)
    after: tuple[float, str] | None = None
    while True:
        q = sa.select(_users.c.sub, _users.c.created, _users.c.attributes).where(_users.c.pool_id == pool_id)
        if after is not None:
            q = q.where(sa.tuple_(*order) > sa.tuple_(*after))
        rows = conn.execute(q.order_by(*order).limit(PAGE)).all()
        if not rows:
            return
        yield list(rows)
        after = (rows[-1].created, rows[-1].sub)


def _index_pool(conn: sa.Connection, aliases: Any, pool_id: str, doc: dict[str, Any]) -> None:
    insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    alias_attrs = doc.get("AliasAttributes") or []
    for rows in _pages(conn, pool_id):
        wanted: dict[tuple[str, str], str] = {}  # first (oldest) claimant in this page
        claims: list[tuple[Any, str, str]] = []
        for row in rows:
            for attr, key in _usable(doc, row.attributes or {}):
                wanted.setdefault((attr, key), row.sub)
                claims.append((row, attr, key))
        if not wanted:
            continue
        stmt = insert(aliases).values(
            [{"pool_id": pool_id, "attribute": a, "alias_key": k, "sub": s} for (a, k), s in wanted.items()]
        )
        conn.execute(stmt.on_conflict_do_nothing())
        owners = _owners(conn, aliases, pool_id, list(wanted))
        for row, attr, key in claims:
            owner = owners.get((attr, key))
            if owner == row.sub:
                continue
            log.warning(
                "pool %s: user %s no longer signs in with its %s, which user %s keeps (unique aliases)",
                pool_id,
                row.sub,
                attr,
                owner,
            )
            if attr in alias_attrs and attr != "preferred_username":
                row.attributes[f"{attr}_verified"] = "false"  # kept for this row's other claims
                conn.execute(
                    _users.update().where(_users.c.sub == row.sub).values(attributes=dict(row.attributes))
                )


def _owners(
    conn: sa.Connection, aliases: Any, pool_id: str, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    c = aliases.c
    out: dict[tuple[str, str], str] = {}
    for attr in {a for a, _ in keys}:
        values = [k for a, k in keys if a == attr]
        for start in range(0, len(values), 500):
            q = sa.select(c.alias_key, c.sub).where(
                c.pool_id == pool_id, c.attribute == attr, c.alias_key.in_(values[start : start + 500])
            )
            out.update({(attr, r.alias_key): r.sub for r in conn.execute(q)})
    return out
