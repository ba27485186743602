"""What the core needs from storage: typed interfaces, one per thing kept, and the store's errors.

The core depends on these Protocols only (docs/architecture.md: the store is an engine with
transactions and repositories by aggregate behind Protocols in store/base.py);
``cognate.store.sql.Store`` (SQLite and PostgreSQL behind
SQLAlchemy Core) and its caching subclass implement all of them, and only the
composition root (``cognate.app``, the commands) names the concrete classes.

Writes run in a transaction of their own unless they are given ``tx=``: then they
join the transaction ``Store.transaction()`` opened, and commit or roll back with
it. A read given ``tx=`` sees that transaction's writes and, on PostgreSQL, locks
the rows it reads (``SELECT ... FOR UPDATE``) until the end of the transaction;
SQLite's write transaction already holds the whole database.

Uniqueness is the database's job, never check-then-insert: a username and a usable
alias (``UserIndex.aliases``) belong to one user, enforced by unique indexes; a
write that would break one raises ``Conflict`` (``AliasConflict`` for an alias).
Short-lived records (codes, challenge sessions, authorization codes, browser
sessions) go through the TTL store, whose ``consume`` is one ``DELETE ...
RETURNING``, so that two nodes never redeem one record (docs/deployment.md, "What a node keeps in memory").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from cognate.core.entities import (
    AuditEntry,
    AuthEvent,
    Client,
    Domain,
    Group,
    ImportJob,
    ImportJobStatus,
    Lockout,
    Pool,
    RefreshToken,
    ResourceServer,
    SigningKey,
    User,
)

# --- errors ----------------------------------------------------------------------


class Conflict(Exception):
    """A unique key already exists (the core turns it into the Cognito error that fits)."""


class AliasConflict(Conflict):
    """A usable alias (``attribute``: email, phone_number or preferred_username) has another owner."""

    def __init__(self, attribute: str) -> None:
        super().__init__(attribute)
        self.attribute = attribute


# --- values ----------------------------------------------------------------------


@dataclass(frozen=True)
class UserIndex:
    """What a user is found by, besides the username.

    ``attributes``: (name, value) pairs ListUsers filters on (many users may share one).
    ``aliases``: (attribute, normalised value) pairs the user signs in with; each
    belongs to one user of the pool (a unique index). The core decides what is
    usable and how it is normalised; the store only keeps them unique.
    """

    attributes: Sequence[tuple[str, str]] = ()
    aliases: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class UserFilter:
    """ListUsers' one filter, as the store runs it: always on an index, a page at a time.

    ``on`` is a column of the user -- ``username_key`` (the key the core computed from
    the value), ``status`` or ``enabled`` (a bool; ``=`` only) -- or an attribute of the
    attribute index (``UserIndex.attributes``: sub, email, phone_number, ...). ``op`` is
    ``=`` or ``^=`` (starts with, comparing code points; the empty prefix matches every
    value). Users are listed by username key, except under a ``status`` or attribute
    filter: by (value, username key), which for ``=`` is username order again.
    ``position`` is where a listing resumes after ``user`` (``after=`` of ``list_users``).
    """

    on: str
    op: str
    value: str | bool

    @property
    def by_value(self) -> bool:
        return self.on not in ("username_key", "enabled")

    def position(self, user: User, username_key: str) -> tuple[str, ...]:
        if not self.by_value:
            return (username_key,)
        if self.on == "status":
            return (str(user.status), username_key)
        if self.on == "sub":
            return (user.sub, username_key)
        return (user.attributes.get(self.on, ""), username_key)


@dataclass(frozen=True)
class ImportedUser:
    """One row of an import job's batch: the new user, its username key and what it is found by."""

    user: User
    username_key: str
    index: UserIndex


class Verdict(StrEnum):
    ALLOWED = "allowed"  # counted as in flight; call finish_attempt afterwards
    LOCKED = "locked"  # locked out now; nothing was counted
    WAIT = "wait"  # enough attempts are in flight to reach the threshold: try again shortly


@dataclass(frozen=True)
class Attempt:
    verdict: Verdict
    failures: int
    locked_until: float


# --- transactions ----------------------------------------------------------------


class Tx(Protocol):
    """An open write transaction; pass it as ``tx=`` to make a call part of it."""

    def after_commit(self, fn: Callable[[], object]) -> None:
        """Run ``fn`` once the transaction has committed (never if it rolls back)."""
        ...


class Transactions(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """One write transaction that several writes share: all of them commit, or none.

        Every write inside it must be given ``tx=`` (one that is not raises RuntimeError:
        it would wait for this very transaction).
        """
        ...


# --- repositories, by what they keep ---------------------------------------------------


class PoolStore(Protocol):
    async def insert_pool(self, pool: Pool) -> None: ...
    async def get_pool(self, pool_id: str) -> Pool | None: ...
    async def cached_pool(self, pool_id: str) -> Pool | None:
        """As ``get_pool``, possibly up to one second old."""
        ...

    async def update_pool(self, pool: Pool) -> None: ...
    async def list_pools(self, limit: int, after: str | None) -> list[Pool]: ...
    async def delete_pool(self, pool_id: str) -> None:
        """The pool and everything in it, in one transaction."""
        ...


class ClientStore(Protocol):
    async def insert_client(self, client: Client, secret_enc: str | None) -> None: ...
    async def get_client(self, client_id: str) -> tuple[Client, str | None] | None:
        """The client and its sealed secret (unsealed by the caller)."""
        ...

    async def cached_client(self, client_id: str) -> tuple[Client, str | None] | None: ...
    async def update_client(self, client: Client) -> None: ...
    async def list_clients(self, pool_id: str, limit: int, after: str | None) -> list[Client]: ...
    async def delete_client(self, client_id: str) -> None: ...


class ResourceStore(Protocol):
    async def put_resource_server(self, rs: ResourceServer, *, create: bool) -> None: ...
    async def list_resource_servers(self, pool_id: str) -> list[ResourceServer]: ...
    async def delete_resource_server(self, pool_id: str, identifier: str) -> None: ...
    async def insert_domain(self, domain: Domain) -> None: ...
    async def get_domain(self, domain: str) -> Domain | None: ...
    async def domains_of_pool(self, pool_id: str) -> list[Domain]: ...
    async def update_domain(self, domain: Domain) -> None: ...
    async def delete_domain(self, domain: str) -> None: ...


class UserStore(Protocol):
    async def insert_user(
        self, user: User, username_key: str, index: UserIndex, *, tx: Tx | None = None
    ) -> None:
        """``Conflict`` if the username is taken, ``AliasConflict`` if an alias is."""
        ...

    async def update_user(
        self, user: User, username_key: str, index: UserIndex | None = None, *, tx: Tx | None = None
    ) -> None:
        """Rewrite a user; with ``index``, what it is found by too (``AliasConflict`` as above)."""
        ...

    async def get_user(self, pool_id: str, username_key: str, *, tx: Tx | None = None) -> User | None: ...
    async def get_user_by_sub(self, pool_id: str, sub: str, *, tx: Tx | None = None) -> User | None: ...
    async def cached_user_by_sub(self, pool_id: str, sub: str) -> User | None: ...
    async def user_by_alias(self, pool_id: str, attribute: str, key: str) -> User | None:
        """The one user whose usable alias ``attribute`` is ``key`` (normalised)."""
        ...

    async def take_alias(self, pool_id: str, attribute: str, key: str, sub: str, *, tx: Tx) -> str | None:
        """Give the alias to ``sub`` (ForceAliasCreation); the previous owner's sub, if another."""
        ...

    async def find_subs_by_attr(self, pool_id: str, name: str, value: str) -> list[str]: ...
    async def delete_user(self, pool_id: str, sub: str) -> None: ...
    async def list_users(
        self, pool_id: str, limit: int, after: tuple[str, ...] | None = None, flt: UserFilter | None = None
    ) -> list[User]:
        """Up to ``limit`` users matching ``flt``, in its order, after the position ``after``
        (``(username_key,)`` without a filter; ``UserFilter.position`` with one)."""
        ...

    async def count_users(self, pool_id: str) -> int: ...
    async def import_users(
        self, pool_id: str, rows: Sequence[ImportedUser], *, tx: Tx | None = None
    ) -> list[str | None]:
        """Insert new users in one transaction (an import job's batch). Per row: None when
        inserted, ``"username"`` when the username is taken, or the alias attribute
        (email, phone_number, preferred_username) another user holds; those are not inserted.
        The caller reports what committed with ``imported``."""
        ...

    async def imported(self, inserted: int) -> None:
        """After a batch of ``import_users`` has committed: the database's planner
        statistics kept up with the tables' growth."""
        ...


class ImportJobStore(Protocol):
    async def insert_import_job(self, job: ImportJob, url_secret_hash: str) -> None:
        """A new job; ``url_secret_hash``: the SHA-256 (hex) of its pre-signed URL's secret."""
        ...

    async def get_import_job(self, pool_id: str, job_id: str, *, tx: Tx | None = None) -> ImportJob | None:
        """The job (with ``tx``: locked on PostgreSQL until the transaction ends)."""
        ...

    async def stale_import_jobs(self, before: float) -> list[ImportJob]:
        """Jobs Pending, InProgress or Stopping whose run showed no life since ``before``."""
        ...

    async def claim_import_job(self, job: ImportJob, now: float) -> bool:
        """Take over a stale run: set its heartbeat to ``now`` if it is still ``job.heartbeat``
        (of two processes that try, one wins)."""
        ...

    async def import_upload_target(self, job_id: str) -> tuple[ImportJob, str] | None:
        """The job a pre-signed URL names, with its secret's hash (the upload checks it)."""
        ...

    async def list_import_jobs(
        self, pool_id: str, limit: int, after: tuple[float, str] | None
    ) -> list[ImportJob]:
        """Jobs by (creation time, job id), after ``after``."""
        ...

    async def update_import_job(
        self, job: ImportJob, *, expect: Sequence[ImportJobStatus] | None = None, tx: Tx | None = None
    ) -> bool:
        """Rewrite the job; with ``expect``, only if its status is one of them (False if not)."""
        ...

    async def put_import_file(self, job: ImportJob, body: bytes) -> bool:
        """Keep the job's CSV, once, while the job is Created (False otherwise)."""
        ...

    async def get_import_file(self, job_id: str) -> bytes | None: ...
    async def delete_import_file(self, job_id: str) -> None: ...


class GroupStore(Protocol):
    async def insert_group(self, group: Group) -> None: ...
    async def get_group(self, pool_id: str, name: str) -> Group | None: ...
    async def update_group(self, group: Group) -> None: ...
    async def list_groups(self, pool_id: str, limit: int, after: str | None) -> list[Group]: ...
    async def delete_group(self, pool_id: str, name: str) -> None: ...
    async def add_user_to_group(self, pool_id: str, group_name: str, sub: str) -> None: ...
    async def remove_user_from_group(self, pool_id: str, group_name: str, sub: str) -> None: ...
    async def groups_of_user(self, pool_id: str, sub: str) -> list[Group]: ...
    async def cached_groups_of_user(self, pool_id: str, sub: str) -> list[Group]: ...
    async def users_in_group(
        self, pool_id: str, group_name: str, limit: int, after: str | None
    ) -> list[User]: ...


class TokenStore(Protocol):
    async def insert_refresh_token(self, rt: RefreshToken) -> None: ...
    async def get_refresh_token(self, token_hash: str) -> RefreshToken | None: ...
    async def cached_refresh_token(self, token_hash: str) -> RefreshToken | None: ...
    async def rotate_refresh_token(self, old_hash: str, new: RefreshToken, now: float) -> bool:
        """Mark ``old_hash`` rotated (only if it was not already) and store ``new``: atomically."""
        ...

    async def revoke_refresh_family(self, origin_jti: str, now: float) -> None: ...
    async def origin_revoked(self, origin_jti: str) -> bool: ...
    async def cached_origin_revoked(self, origin_jti: str) -> bool: ...
    async def sign_out_user(self, pool_id: str, sub: str, now: float, *, tx: Tx | None = None) -> None:
        """Revoke every refresh token of the user and refuse tokens issued before ``now``."""
        ...


class KeyStore(Protocol):
    async def insert_signing_key(self, key: SigningKey) -> None: ...
    async def insert_first_keys(self, pool_id: str, keys: Sequence[SigningKey]) -> bool:
        """Insert ``keys`` only if the pool has no active key yet (two workers may race)."""
        ...

    async def rotate_signing_keys(self, new_keys: Sequence[SigningKey], now: float) -> None: ...
    async def signing_keys(self, pool_id: str) -> list[SigningKey]: ...


class TtlStore(Protocol):
    async def put(self, kind: str, key: str, doc: Mapping[str, Any], ttl_s: float) -> None: ...

    async def put_new(self, kind: str, key: str, doc: Mapping[str, Any], ttl_s: float) -> bool:
        """Store only if nothing live is there (atomically); True if stored."""
        ...

    async def get(self, kind: str, key: str) -> dict[str, Any] | None: ...

    async def consume(self, kind: str, key: str) -> dict[str, Any] | None:
        """Read and delete in one statement (``DELETE ... RETURNING``); None if absent or expired."""
        ...

    async def delete(self, kind: str, key: str) -> None: ...


class AttemptStore(Protocol):
    async def begin_attempt(
        self, pool_id: str, user_key: str, now: float, quiet_s: float, threshold: int
    ) -> Attempt: ...
    async def finish_attempt(
        self,
        pool_id: str,
        user_key: str,
        now: float,
        *,
        success: bool,
        quiet_s: float,
        lock_for: Callable[[int], float],
    ) -> Attempt: ...
    async def get_lockout(self, pool_id: str, user_key: str) -> Lockout | None: ...


class EventStore(Protocol):
    """A user's sign-in history and the audit log; rows go when their ``expires`` passes."""

    async def put_auth_event(self, event: AuthEvent, *, replace: bool = True) -> None:
        """Insert, or replace the event with the same id (a sign-in's later steps); with
        ``replace=False``, keep the one already there."""
        ...

    async def get_auth_event(self, pool_id: str, sub: str, event_id: str) -> AuthEvent | None: ...
    async def list_auth_events(
        self, pool_id: str, sub: str, limit: int, before: tuple[float, str] | None = None
    ) -> list[AuthEvent]:
        """Newest first by (created, id); with ``before``, only events older than that key."""
        ...

    async def insert_audit_entry(self, entry: AuditEntry) -> None: ...
    async def list_audit_entries(
        self,
        limit: int,
        after: tuple[float, str] | None = None,
        *,
        since: float | None = None,
        pool_id: str | None = None,
    ) -> list[AuditEntry]:
        """Oldest first by (at, id), from ``since`` on, of ``pool_id`` when given."""
        ...


class Store(
    Transactions,
    PoolStore,
    ClientStore,
    ResourceStore,
    UserStore,
    ImportJobStore,
    GroupStore,
    TokenStore,
    KeyStore,
    TtlStore,
    AttemptStore,
    EventStore,
    Protocol,
):
    """Everything kept, and the store's own life: migrate, purge, close."""

    async def migrate(self) -> None: ...
    async def purge_expired(self, now: float | None = None) -> int: ...
    async def close(self) -> None: ...
