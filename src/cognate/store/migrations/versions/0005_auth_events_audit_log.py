"""sign-in history and the audit log

Revision ID: 0005
Revises: 0003

Adds ``auth_events`` (AdminListUserAuthEvents: one row per sign-in, sign-up, password
reset or change, resent code of a user, listed newest first per user) and
``audit_log`` (one row per administrative change: who, what, when, from where). Both
rows carry the instant after which the purge removes them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "auth_events",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("pool_id", sa.String(length=64), nullable=False),
        sa.Column("sub", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("expires", sa.Float(), nullable=False),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("auth_events", schema=None) as batch_op:
        batch_op.create_index("ix_auth_events_expires", ["expires"], unique=False)
        batch_op.create_index("ix_auth_events_user", ["pool_id", "sub", "created", "id"], unique=False)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("expires", sa.Float(), nullable=False),
        sa.Column("pool_id", sa.String(length=64), nullable=True),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_expires", ["expires"], unique=False)
        batch_op.create_index("ix_audit_log_at", ["at", "id"], unique=False)
        batch_op.create_index("ix_audit_log_pool", ["pool_id", "at", "id"], unique=False)


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("auth_events")
