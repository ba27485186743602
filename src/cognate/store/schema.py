"""The tables, as SQLAlchemy Core metadata (the migrations create them; see migrations/)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

pools = sa.Table(
    "pools",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("modified", sa.Float, nullable=False),
    sa.Column("doc", sa.JSON, nullable=False),
)

clients = sa.Table(
    "clients",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("pool_id", sa.String(64), nullable=False, index=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("secret_enc", sa.Text, nullable=True),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("modified", sa.Float, nullable=False),
    sa.Column("doc", sa.JSON, nullable=False),
)


def _compared(length: int) -> sa.types.TypeEngine[str]:
    """Text that is compared and listed code point by code point: SQLite's BINARY, PostgreSQL's
    "C" collation (migration 0006), so that a prefix is an index range on both."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


users = sa.Table(
    "users",
    metadata,
    sa.Column("sub", sa.String(64), primary_key=True),
    sa.Column("pool_id", sa.String(64), nullable=False),
    sa.Column("username", sa.String(256), nullable=False),
    sa.Column("username_key", _compared(256), nullable=False),
    sa.Column("status", _compared(32), nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("attributes", sa.JSON, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=True),
    sa.Column("srp_secret", sa.Text, nullable=True),
    sa.Column("password_expires", sa.Float, nullable=True),
    sa.Column("mfa", sa.JSON, nullable=False),
    sa.Column("tokens_valid_after", sa.Float, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("modified", sa.Float, nullable=False),
    sa.UniqueConstraint("pool_id", "username_key", name="uq_users_pool_username"),
    # ListUsers' cognito:user_status and status filters, in username order.
    sa.Index("ix_users_pool_status", "pool_id", "status", "username_key"),
    sa.Index("ix_users_pool_enabled", "pool_id", "enabled", "username_key"),
)

# One row per (user, attribute) for the attributes ListUsers filters on (and sub), with
# the user's username key: the primary key lists the users of one value in username
# order, and a prefix's values in (value, username) order, so a page of a filtered
# ListUsers reads its own rows of the index and nothing else (store/users.py).
user_attrs = sa.Table(
    "user_attrs",
    metadata,
    sa.Column("pool_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", _compared(2048), primary_key=True),
    sa.Column("username_key", _compared(256), primary_key=True),
    sa.Column("sub", sa.String(64), nullable=False),
    sa.Index("ix_user_attrs_sub", "sub"),
)

# The usable aliases (a verified email or phone in an alias pool, any preferred_username,
# the email or phone that is the username), keyed on the value as the core normalises it:
# the primary key is the unique index that gives each alias one owner in its pool.
user_aliases = sa.Table(
    "user_aliases",
    metadata,
    sa.Column("pool_id", sa.String(64), primary_key=True),
    sa.Column("attribute", sa.String(32), primary_key=True),
    sa.Column("alias_key", sa.String(2048), primary_key=True),
    sa.Column("sub", sa.String(64), nullable=False),
    sa.Index("ix_user_aliases_sub", "sub"),
)

groups = sa.Table(
    "groups",
    metadata,
    sa.Column("pool_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("modified", sa.Float, nullable=False),
    sa.Column("doc", sa.JSON, nullable=False),
)

user_groups = sa.Table(
    "user_groups",
    metadata,
    sa.Column("pool_id", sa.String(64), primary_key=True),
    sa.Column("group_name", sa.String(128), primary_key=True),
    sa.Column("sub", sa.String(64), primary_key=True),
    sa.Index("ix_user_groups_sub", "sub"),
)

resource_servers = sa.Table(
    "resource_servers",
    metadata,
    sa.Column("pool_id", sa.String(64), primary_key=True),
    sa.Column("identifier", sa.String(256), primary_key=True),
    sa.Column("doc", sa.JSON, nullable=False),
)

domains = sa.Table(
    "domains",
    metadata,
    sa.Column("domain", sa.String(128), primary_key=True),
    sa.Column("pool_id", sa.String(64), nullable=False, index=True),
    sa.Column("doc", sa.JSON, nullable=False),
)

ttl_items = sa.Table(
    "ttl_items",
    metadata,
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column("doc", sa.JSON, nullable=False),
    sa.Column("expires", sa.Float, nullable=False, index=True),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("token_hash", sa.String(128), primary_key=True),
    sa.Column("pool_id", sa.String(64), nullable=False, index=True),
    sa.Column("client_id", sa.String(128), nullable=False),
    sa.Column("sub", sa.String(64), nullable=False, index=True),
    sa.Column("origin_jti", sa.String(64), nullable=False, index=True),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("expires", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float, nullable=True),
    sa.Column("rotated_at", sa.Float, nullable=True),
    sa.Column("doc", sa.JSON, nullable=False),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("kid", sa.String(128), primary_key=True),
    sa.Column("pool_id", sa.String(64), nullable=False, index=True),
    sa.Column("purpose", sa.String(16), nullable=False),
    sa.Column("private_pem_enc", sa.Text, nullable=False),
    sa.Column("public_jwk", sa.JSON, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("retired", sa.Float, nullable=True),
)

lockouts = sa.Table(
    "lockouts",
    metadata,
    sa.Column("pool_id", sa.String(64), primary_key=True),
    sa.Column("user_key", sa.String(256), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("locked_until", sa.Float, nullable=False),
    sa.Column("last_failure", sa.Float, nullable=False),
    # Attempts being checked right now (counted so that concurrent guesses cannot pass the threshold).
    sa.Column("pending", sa.Integer, nullable=False, server_default="0"),
    sa.Column("pending_since", sa.Float, nullable=False, server_default="0"),
)

# User import jobs (CreateUserImportJob): the job as UserImportJobType has it (``doc``), its
# status apart (a stop or a start is a compare-and-set on it), and the SHA-256 of its
# pre-signed URL's secret (never the secret).
user_import_jobs = sa.Table(
    "user_import_jobs",
    metadata,
    sa.Column("job_id", sa.String(64), primary_key=True),
    sa.Column("pool_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("url_secret_hash", sa.String(64), nullable=False),
    sa.Column("upload_expires", sa.Float, nullable=False),
    sa.Column("uploaded", sa.Boolean, nullable=False),
    sa.Column("heartbeat", sa.Float, nullable=True),
    sa.Column("doc", sa.JSON, nullable=False),
    sa.Index("ix_user_import_jobs_pool", "pool_id", "created", "job_id"),
)

# The CSV uploaded to a job's pre-signed URL, kept until the job ends (every node reads it here).
user_import_files = sa.Table(
    "user_import_files",
    metadata,
    sa.Column("job_id", sa.String(64), primary_key=True),
    sa.Column("pool_id", sa.String(64), nullable=False, index=True),
    sa.Column("body", sa.LargeBinary, nullable=False),
)

# A user's sign-in history (AdminListUserAuthEvents), newest first by (created, id).
auth_events = sa.Table(
    "auth_events",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("pool_id", sa.String(64), nullable=False),
    sa.Column("sub", sa.String(64), nullable=False),
    sa.Column("event_type", sa.String(32), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("expires", sa.Float, nullable=False, index=True),
    sa.Column("doc", sa.JSON, nullable=False),
    sa.Index("ix_auth_events_user", "pool_id", "sub", "created", "id"),
)

# The audit log of administrative changes, read in time order (by (at, id)).
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("expires", sa.Float, nullable=False, index=True),
    sa.Column("pool_id", sa.String(64), nullable=True),
    sa.Column("doc", sa.JSON, nullable=False),
    sa.Index("ix_audit_log_at", "at", "id"),
    sa.Index("ix_audit_log_pool", "pool_id", "at", "id"),
)
