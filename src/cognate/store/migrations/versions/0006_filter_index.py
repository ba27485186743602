"""ListUsers' filters served by indexes, in list order

Revision ID: 0006
Revises: 0004

``user_attrs`` (one row per user and filterable attribute) gains the user's
username key, and its primary key becomes (pool, attribute, value, username key):
an ``=`` filter reads the users of one value already in username order, a ``^=``
filter reads a range of values in (value, username) order, and a page is the next
``Limit`` entries of the index -- never the pool's users one by one, whatever the
pool's size. The table holds derived data: it is rebuilt here from the users'
attributes (sub, email, phone_number, name, given_name, family_name,
preferred_username -- the rule written out, not imported, as a migration stays
what it was when it ran).

``users`` gains (pool, status, username key) and (pool, enabled, username key) for
the ``cognito:user_status`` and ``status`` filters.

On PostgreSQL the compared texts (``users.username_key``, ``users.status``,
``user_attrs.value``, ``user_attrs.username_key``) take the "C" collation: they
compare code point by code point, as SQLite's do, so a prefix is an index range
and both databases list in the same order (under a linguistic collation such as
ICU's, "ABc" sorts between "ab" and "ab\\U0010ffff" and a prefix cannot be a range).

Downgrading restores the former table (rebuilt from the new one) and collations.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"

FILTERED = ("email", "phone_number", "name", "given_name", "family_name", "preferred_username")

_users = sa.table(
    "users",
    sa.column("sub", sa.String),
    sa.column("pool_id", sa.String),
    sa.column("username_key", sa.String),
    sa.column("attributes", sa.JSON),
)


def _text(length: int, pg: bool) -> sa.String:
    return sa.String(length, collation="C") if pg else sa.String(length)


def _set_collation(pg: bool, c: bool) -> None:
    """users.username_key and users.status in "C" (``c``) or the database's default collation."""
    if not pg:
        return
    for column, length in (("username_key", 256), ("status", 32)):
        op.alter_column(
            "users",
            column,
            type_=sa.String(length, collation="C" if c else None),
            existing_type=sa.String(length),
            existing_nullable=False,
        )


def upgrade() -> None:
    conn = op.get_bind()
    pg = conn.dialect.name == "postgresql"
    _set_collation(pg, c=True)
    # Derived data: dropped and rebuilt from the users' attributes.
    with op.batch_alter_table("user_attrs", schema=None) as batch_op:
        batch_op.drop_index("ix_user_attrs_sub")
    op.drop_table("user_attrs")
    attrs = op.create_table(
        "user_attrs",
        sa.Column("pool_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", _text(2048, pg), nullable=False),
        sa.Column("username_key", _text(256, pg), nullable=False),
        sa.Column("sub", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("pool_id", "name", "value", "username_key", name="pk_user_attrs"),
    )
    cols = ["pool_id", "name", "value", "username_key", "sub"]
    u = _users.c
    conn.execute(
        attrs.insert().from_select(
            cols, sa.select(u.pool_id, sa.literal("sub"), u.sub, u.username_key, u.sub)
        )
    )
    for name in FILTERED:
        value = u.attributes[name].as_string()
        conn.execute(
            attrs.insert().from_select(
                cols,
                sa.select(u.pool_id, sa.literal(name), value, u.username_key, u.sub).where(
                    value.is_not(None), value != ""
                ),
            )
        )
    op.create_index("ix_user_attrs_sub", "user_attrs", ["sub"])
    op.create_index("ix_users_pool_status", "users", ["pool_id", "status", "username_key"])
    op.create_index("ix_users_pool_enabled", "users", ["pool_id", "enabled", "username_key"])


def downgrade() -> None:
    conn = op.get_bind()
    pg = conn.dialect.name == "postgresql"
    op.drop_index("ix_users_pool_enabled", table_name="users")
    op.drop_index("ix_users_pool_status", table_name="users")
    op.drop_index("ix_user_attrs_sub", table_name="user_attrs")
    op.rename_table("user_attrs", "user_attrs_0006")
    old = op.create_table(
        "user_attrs",
        sa.Column("pool_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=2048), nullable=False),
        sa.Column("sub", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("pool_id", "name", "value", "sub"),
    )
    new = sa.table(
        "user_attrs_0006",
        sa.column("pool_id", sa.String),
        sa.column("name", sa.String),
        sa.column("value", sa.String),
        sa.column("sub", sa.String),
    )
    conn.execute(
        old.insert().from_select(
            ["pool_id", "name", "value", "sub"],
            sa.select(new.c.pool_id, new.c.name, new.c.value, new.c.sub),
        )
    )
    op.drop_table("user_attrs_0006")
    with op.batch_alter_table("user_attrs", schema=None) as batch_op:
        batch_op.create_index("ix_user_attrs_sub", ["sub"], unique=False)
    _set_collation(pg, c=False)
