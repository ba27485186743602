"""User import jobs and the bulk insert of imported users, on every backend."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
import sqlalchemy as sa

from cognate.core.entities import ImportJob, ImportJobStatus
from cognate.store.base import ImportedUser, UserIndex
from cognate.store.sql import Store
from tests.store import factories as f
from tests.store.conftest import StoreFactory

pytestmark = pytest.mark.anyio

P = "us-east-1_Pool00001"
OTHER = "us-east-1_Pool00002"


def job(job_id: str, pool_id: str = P, created: float = f.T0) -> ImportJob:
    return ImportJob(
        job_id=job_id,
        pool_id=pool_id,
        name="j",
        status=ImportJobStatus.CREATED,
        created=created,
        role_arn="arn:aws:iam::123456789012:role/R",
        pre_signed_url=f"https://cognate.test/user-import/{job_id}?X-Amz-Signature=s",
        upload_expires=created + 900,
        password_algorithm="BCRYPT",
    )


def imported(username: str, *aliases: tuple[str, str], **attrs: str) -> ImportedUser:
    u = f.user(username, P, **attrs)
    return ImportedUser(u, username.lower(), UserIndex([("sub", u.sub)], aliases))


async def test_jobs_are_kept_listed_and_change_status_by_compare_and_set(store: Store) -> None:
    await store.insert_pool(f.pool(P))
    a, b, c = job("import-a", created=f.T0), job("import-b", created=f.T0 + 1), job("import-c", OTHER)
    for j in (a, b, c):
        await store.insert_import_job(j, "h" * 64)
    assert await store.get_import_job(P, "import-a") == a
    assert await store.get_import_job(OTHER, "import-a") is None  # found in its own pool only
    found = await store.import_upload_target("import-a")
    assert found == (a, "h" * 64)
    assert [j.job_id for j in await store.list_import_jobs(P, 10, None)] == ["import-a", "import-b"]
    assert [j.job_id for j in await store.list_import_jobs(P, 10, (a.created, a.job_id))] == ["import-b"]
    pending = replace(a, status=ImportJobStatus.PENDING, started=f.T0 + 5)
    assert await store.update_import_job(pending, expect=[ImportJobStatus.CREATED])
    assert not await store.update_import_job(pending, expect=[ImportJobStatus.CREATED])  # once
    assert await store.get_import_job(P, "import-a") == pending
    counted = replace(pending, imported=7, skipped=1, failed=2, completion_message="done")
    assert await store.update_import_job(counted)
    assert await store.get_import_job(P, "import-a") == counted


async def test_a_file_is_taken_once_while_the_job_is_created_and_goes_with_the_pool(store: Store) -> None:
    await store.insert_pool(f.pool(P))
    j = job("import-f")
    await store.insert_import_job(j, "h" * 64)
    assert await store.put_import_file(j, b"one")
    assert not await store.put_import_file(j, b"two")
    assert await store.get_import_file("import-f") == b"one"
    assert (await store.get_import_job(P, "import-f")).uploaded  # type: ignore[union-attr]
    started = job("import-g")
    await store.insert_import_job(started, "h" * 64)
    await store.update_import_job(replace(started, status=ImportJobStatus.PENDING))
    assert not await store.put_import_file(started, b"late")
    await store.delete_import_file("import-g")  # nothing there: no error
    other = job("import-h")
    await store.insert_import_job(other, "h" * 64)
    await store.put_import_file(other, b"kept")
    await store.delete_import_file("import-h")
    assert await store.get_import_file("import-h") is None
    await store.delete_pool(P)
    assert await store.get_import_job(P, "import-f") is None
    assert await store.get_import_file("import-f") is None


async def test_two_uploads_at_once_one_wins(store: Store, make_store: StoreFactory) -> None:
    one, two = store, await make_store()
    await one.insert_pool(f.pool(P))
    j = job("import-race")
    await one.insert_import_job(j, "h" * 64)
    results = await asyncio.gather(one.put_import_file(j, b"1"), two.put_import_file(j, b"2"))
    assert sorted(results) == [False, True]


async def test_import_users_inserts_a_batch_and_names_what_is_taken(store: Store) -> None:
    await store.insert_pool(f.pool(P))
    existing = f.user("old", P, email="old@example.com")
    await store.insert_user(
        existing, "old", UserIndex([("sub", existing.sub)], [("email", "old@example.com")])
    )
    rows = [
        imported("new1", ("email", "new1@example.com"), email="new1@example.com"),
        imported("Old"),  # the username key "old" is taken
        imported("new2", ("email", "old@example.com")),  # the alias is taken
        imported("new3"),
    ]
    assert await store.import_users(P, rows) == [None, "username", "email", None]
    assert (await store.get_user(P, "new1")) == rows[0].user
    assert (await store.user_by_alias(P, "email", "new1@example.com")) == rows[0].user
    assert await store.find_subs_by_attr(P, "sub", rows[3].user.sub) == [rows[3].user.sub]
    assert await store.get_user(P, "new2") is None
    assert await store.count_users(P) == 3


async def test_import_users_racing_another_writer_falls_back_row_by_row(
    store: Store, make_store: StoreFactory
) -> None:
    """Two batches naming one new user: each row lands once, the loser's row says why."""
    one, two = store, await make_store()
    await one.insert_pool(f.pool(P))
    a = [imported(f"a{i}") for i in range(50)] + [imported("both")]
    b = [imported(f"b{i}") for i in range(50)] + [imported("both")]
    ra, rb = await asyncio.gather(one.import_users(P, a), two.import_users(P, b))
    assert ra[:50] == [None] * 50 and rb[:50] == [None] * 50
    assert sorted([ra[50], rb[50]], key=str) == [None, "username"]
    assert await one.count_users(P) == 101


async def test_purge_drops_the_files_no_run_will_read(store: Store) -> None:
    await store.insert_pool(f.pool(P))
    fresh, stale, running, ended = (
        job("import-fresh"),
        job("import-stale"),
        job("import-run"),
        job("import-end"),
    )
    for j in (fresh, stale, running, ended):
        await store.insert_import_job(j, "h" * 64)
        assert await store.put_import_file(j, b"csv")
    await store.update_import_job(replace(running, status=ImportJobStatus.IN_PROGRESS))
    await store.update_import_job(replace(ended, status=ImportJobStatus.FAILED))
    assert await store.purge_expired(f.T0 + 60) == 1  # the ended job's
    assert await store.get_import_file("import-end") is None
    assert await store.purge_expired(f.T0 + 24 * 3600 + 1) == 2  # the day-old never-started ones
    kept = {j: await store.get_import_file(j) for j in ("import-fresh", "import-stale", "import-run")}
    assert kept == {"import-fresh": None, "import-stale": None, "import-run": b"csv"}


async def test_a_stale_run_is_claimed_by_one_process(store: Store, make_store: StoreFactory) -> None:
    other = await make_store()
    await store.insert_pool(f.pool(P))
    running = replace(job("import-r"), status=ImportJobStatus.IN_PROGRESS, heartbeat=f.T0 + 10)
    alive = replace(job("import-a"), status=ImportJobStatus.IN_PROGRESS, heartbeat=f.T0 + 500)
    for j in (running, alive, job("import-c")):  # a Created job is never stale
        await store.insert_import_job(j, "h" * 64)
        await store.update_import_job(j)
    assert [j.job_id for j in await store.stale_import_jobs(f.T0 + 400)] == ["import-r"]
    stale = (await store.stale_import_jobs(f.T0 + 400))[0]
    results = await asyncio.gather(
        store.claim_import_job(stale, f.T0 + 600), other.claim_import_job(stale, f.T0 + 601)
    )
    assert sorted(results) == [False, True]
    assert (await store.get_import_job(P, "import-r")).heartbeat in (f.T0 + 600, f.T0 + 601)  # type: ignore[union-attr]
    assert not await store.claim_import_job(stale, f.T0 + 700)  # its heartbeat moved on
    assert await store.stale_import_jobs(f.T0 + 400) == []


async def test_batches_imported_in_a_transaction_keep_the_planner_statistics(store: Store) -> None:
    """PostgreSQL plans an import's lookups by its statistics: a batch that committed inside
    the job's transaction reports what it inserted, and the tables are analyzed as they grow."""
    await store.insert_pool(f.pool(P))
    rows = [imported(f"user{i:05d}") for i in range(1200)]
    async with store.transaction() as tx:
        assert await store.import_users(P, rows, tx=tx) == [None] * len(rows)
    before = await _analyzed(store)
    await store.imported(len(rows))
    after = await _analyzed(store)
    if store.is_sqlite:
        assert before == after == 0  # SQLite plans by its own index statistics
    else:
        assert after > before


async def _analyzed(store: Store) -> int:
    if store.is_sqlite:
        return 0
    async with store.read() as conn:
        q = sa.text(
            "SELECT analyze_count + autoanalyze_count FROM pg_stat_user_tables WHERE relname = 'users'"
        )
        return int((await conn.execute(q)).scalar_one())
