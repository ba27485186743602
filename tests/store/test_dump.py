"""Every row of every table, dumped from one backend and loaded into another (issue 13,
"Operating it"): the dump of the copy is the dump of the original, line for line; a load
is all or nothing; the rewrite behind master-key rotation changes exactly what it is told."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from cognate.core.entities import AuditEntry, AuthEvent, Domain, ImportJob, ImportJobStatus, ResourceServer
from cognate.store import schema
from cognate.store.dump import TABLES
from cognate.store.sql import Store
from tests.store import factories as f
from tests.support.postgres import NO_POSTGRES, POSTGRES_URL, fresh_database

pytestmark = pytest.mark.anyio


async def fill(store: Store) -> None:
    """A row in every table, with text outside ASCII and keys whose byte order differs from a
    linguistic collation's (``B`` < ``a`` byte-wise)."""
    pool = f.pool(name="Pöol", MfaConfiguration="OPTIONAL", Policies={"PasswordPolicy": {"MinimumLength": 9}})
    await store.insert_pool(pool)
    await store.insert_pool(f.pool("us-east-1_Bpool0002", name="second"))
    await store.insert_client(f.client("clientB"), "v1.sealed-secret")
    await store.insert_client(f.client("clienta"), None)
    alice = f.user("alice", email="alice@example.com", email_verified="true", name="Ålice")
    bob = f.user("Bob", email="bob@example.com")
    await store.insert_user(alice, "alice", f.indexed(alice, ("email", "alice@example.com")))
    await store.insert_user(bob, "bob", f.indexed(bob))
    await store.insert_group(f.group("admins", precedence=1))
    await store.add_user_to_group(pool.id, "admins", alice.sub)
    await store.put_resource_server(
        ResourceServer(pool.id, "https://api.example.com", {"Name": "api", "Scopes": []}), create=True
    )
    await store.insert_domain(Domain("auth-example", pool.id, {"Version": "1"}))
    await store.insert_refresh_token(f.refresh("hash-1", sub=alice.sub))
    await store.insert_signing_key(f.signing_key("kid-a"))
    await store.rotate_signing_keys([f.signing_key("kid-b", created=f.T0 + 1)], f.T0 + 2)
    await store.put("srp", "k1", {"b": "v1.sealed-b", "n": 1.5, "nested": [{"x": "ü"}]}, 3600)
    await store.begin_attempt(pool.id, "alice", f.T0, 900.0, 5)
    await store.put_auth_event(
        AuthEvent("ev-1", pool.id, alice.sub, "SignIn", f.T0, f.T0 + 90 * 86400, {"EventResponse": "Pass"})
    )
    await store.insert_audit_entry(
        AuditEntry("au-1", f.T0, f.T0 + 365 * 86400, pool.id, {"operation": "AdminCreateUser", "actor": "Ä"})
    )
    job = ImportJob(
        job_id="import-dump",
        pool_id=pool.id,
        name="jöb",
        status=ImportJobStatus.CREATED,
        created=f.T0,
        role_arn="arn:aws:iam::123456789012:role/R",
        pre_signed_url="https://cognate.test/user-import/import-dump?X-Amz-Signature=s",
        upload_expires=f.T0 + 900,
        password_algorithm="BCRYPT",
    )
    await store.insert_import_job(job, "h" * 64)
    await store.put_import_file(job, b"cognito:username\n\xff\x00bytes")  # not UTF-8: kept as bytes


async def rows(store: Store) -> list[tuple[str, dict[str, Any]]]:
    return [record async for record in store.dump()]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'target.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    with fresh_database("cognate_dump") as url:
        yield url


@pytest.fixture
async def target(target_url: str) -> AsyncIterator[Store]:
    store = Store(target_url)
    await store.migrate()
    try:
        yield store
    finally:
        await store.close()


async def _records(items: list[tuple[str, dict[str, Any]]]) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    for item in items:
        yield item


async def test_every_table_round_trips_to_either_backend(store: Store, target: Store) -> None:
    await fill(store)
    original = await rows(store)
    assert {name for name, _ in original} == {t.name for t in TABLES}  # the fill reaches every table
    assert await target.nonempty_tables() == []
    counts = await target.load(_records(original))
    assert sum(counts.values()) == len(original)
    assert await rows(target) == original
    assert set(await target.nonempty_tables()) == {t.name for t in TABLES}


async def test_rows_come_in_byte_order(store: Store) -> None:
    await fill(store)
    clients = [row["id"] for name, row in await rows(store) if name == "clients"]
    assert clients == ["clientB", "clienta"]


async def test_a_load_that_fails_keeps_nothing(store: Store, target: Store) -> None:
    await fill(store)
    original = await rows(store)
    doubled = [*original, next(r for r in original if r[0] == "users")]  # a duplicate key at the end
    with pytest.raises(Exception):  # noqa: B017 - the driver's integrity error
        await target.load(_records(doubled))
    assert await target.nonempty_tables() == []


async def test_every_migrated_table_is_dumped(store: Store) -> None:
    assert await store.unlisted_tables() == []
    assert {t.name for t in TABLES} == set(schema.metadata.tables)


async def test_rewrite_strings_changes_what_it_is_told_everywhere(store: Store) -> None:
    await fill(store)

    def change(value: str) -> str | None:
        return "v1.NEW" + value[len("v1.sealed") :] if value.startswith("v1.sealed") else None

    changed = await store.rewrite_strings(change)
    after = await rows(store)
    text = repr(after)
    assert "v1.sealed" not in text
    # client secret, srp_secret x2, two signing keys, the ttl doc's "b"
    assert changed == 6
    assert "v1.NEW-secret" in text and "v1.NEW-b" in text and "Ålice" in text
    assert await store.rewrite_strings(change) == 0
