"""User import jobs and their CSV files; the bulk insert of imported users.

API reference: CreateUserImportJob, StartUserImportJob, StopUserImportJob,
DescribeUserImportJob, ListUserImportJobs. A job's status changes by compare-and-set
(``update_import_job(..., expect=...)``), so a stop and the end of the run, or two
starts on two nodes, never both win. The pre-signed URL's secret is kept as its SHA-256.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from cognate.core.entities import ImportJob, ImportJobStatus
from cognate.store import schema as t
from cognate.store.base import ImportedUser, Tx
from cognate.store.engine import Database
from cognate.store.users import UserRows

_J = t.user_import_jobs.c
_U = t.users.c
_A = t.user_aliases.c


def _doc(job: ImportJob) -> dict[str, Any]:
    return {
        "name": job.name,
        "role_arn": job.role_arn,
        "pre_signed_url": job.pre_signed_url,
        "password_algorithm": job.password_algorithm,
        "started": job.started,
        "completed": job.completed,
        "imported": job.imported,
        "skipped": job.skipped,
        "failed": job.failed,
        "completion_message": job.completion_message,
        "lines_done": job.lines_done,
    }


def _job(row: Any) -> ImportJob:
    d = row.doc
    return ImportJob(
        job_id=row.job_id,
        pool_id=row.pool_id,
        name=d["name"],
        status=ImportJobStatus(row.status),
        created=row.created,
        role_arn=d["role_arn"],
        pre_signed_url=d["pre_signed_url"],
        upload_expires=row.upload_expires,
        password_algorithm=d.get("password_algorithm"),
        started=d.get("started"),
        completed=d.get("completed"),
        imported=d.get("imported", 0),
        skipped=d.get("skipped", 0),
        failed=d.get("failed", 0),
        completion_message=d.get("completion_message"),
        uploaded=row.uploaded,
        lines_done=d.get("lines_done", 0),
        heartbeat=row.heartbeat,
    )


# A job not started within a day of its creation expires (core/import_jobs.py): its file
# can never be used after that, and goes with the next purge.
UNSTARTED_FILE_HORIZON_S = 24 * 3600
_RUNNING = [str(s) for s in (ImportJobStatus.PENDING, ImportJobStatus.IN_PROGRESS, ImportJobStatus.STOPPING)]


class ImportRows(Database):
    @staticmethod
    async def _purge_import_files(conn: Any, now: float) -> int:
        """Files no run will read: of jobs that ended (a run that died left one), or that were
        never started within a day. A running job's file stays."""
        unused = sa.select(_J.job_id).where(
            sa.or_(
                _J.status.not_in([*_RUNNING, str(ImportJobStatus.CREATED)]),
                sa.and_(
                    _J.status == str(ImportJobStatus.CREATED),
                    _J.created <= now - UNSTARTED_FILE_HORIZON_S,
                ),
            )
        )
        files = t.user_import_files
        res = await conn.execute(files.delete().where(files.c.job_id.in_(unused)))
        return int(res.rowcount or 0)

    async def insert_import_job(self, job: ImportJob, url_secret_hash: str) -> None:
        async with self.write() as conn:
            await conn.execute(
                t.user_import_jobs.insert().values(
                    job_id=job.job_id,
                    pool_id=job.pool_id,
                    status=str(job.status),
                    created=job.created,
                    url_secret_hash=url_secret_hash,
                    upload_expires=job.upload_expires,
                    uploaded=False,
                    heartbeat=job.heartbeat,
                    doc=_doc(job),
                )
            )

    async def get_import_job(self, pool_id: str, job_id: str, *, tx: Tx | None = None) -> ImportJob | None:
        q = t.user_import_jobs.select().where(_J.job_id == job_id, _J.pool_id == pool_id)
        async with self.read(tx) as conn:
            row = (await conn.execute(self._locking(q, tx))).first()
        return _job(row) if row else None

    async def stale_import_jobs(self, before: float) -> list[ImportJob]:
        q = t.user_import_jobs.select().where(
            _J.status.in_(_RUNNING), sa.or_(_J.heartbeat.is_(None), _J.heartbeat < before)
        )
        async with self.read() as conn:
            return [_job(r) for r in await conn.execute(q)]

    async def claim_import_job(self, job: ImportJob, now: float) -> bool:
        beat = _J.heartbeat.is_(None) if job.heartbeat is None else _J.heartbeat == job.heartbeat
        stmt = (
            t.user_import_jobs.update()
            .where(_J.job_id == job.job_id, _J.pool_id == job.pool_id, _J.status.in_(_RUNNING), beat)
            .values(heartbeat=now)
        )
        async with self.write() as conn:
            return bool((await conn.execute(stmt)).rowcount)

    async def import_upload_target(self, job_id: str) -> tuple[ImportJob, str] | None:
        q = t.user_import_jobs.select().where(_J.job_id == job_id)
        async with self.read() as conn:
            row = (await conn.execute(q)).first()
        return (_job(row), row.url_secret_hash) if row else None

    async def list_import_jobs(
        self, pool_id: str, limit: int, after: tuple[float, str] | None
    ) -> list[ImportJob]:
        q = t.user_import_jobs.select().where(_J.pool_id == pool_id)
        if after is not None:
            q = q.where(
                sa.tuple_(_J.created, _J.job_id) > sa.tuple_(sa.literal(after[0]), sa.literal(after[1]))
            )
        q = q.order_by(_J.created, _J.job_id).limit(limit)
        async with self.read() as conn:
            return [_job(r) for r in await conn.execute(q)]

    async def update_import_job(
        self, job: ImportJob, *, expect: Sequence[ImportJobStatus] | None = None, tx: Tx | None = None
    ) -> bool:
        """Rewrite the job; with ``expect``, only if its status is one of those (compare-and-set)."""
        stmt = t.user_import_jobs.update().where(_J.job_id == job.job_id, _J.pool_id == job.pool_id)
        if expect is not None:
            stmt = stmt.where(_J.status.in_([str(s) for s in expect]))
        async with self.write(tx) as conn:
            values = {"status": str(job.status), "doc": _doc(job), "heartbeat": job.heartbeat}
            result = await conn.execute(stmt.values(**values))
            return bool(result.rowcount)

    async def put_import_file(self, job: ImportJob, body: bytes) -> bool:
        """Keep the CSV of a job still Created and not yet given one (its URL is used once)."""
        async with self.write() as conn:
            result = await conn.execute(
                t.user_import_jobs.update()
                .where(
                    _J.job_id == job.job_id,
                    _J.status == str(ImportJobStatus.CREATED),
                    _J.uploaded == sa.false(),
                )
                .values(uploaded=True)
            )
            if not result.rowcount:
                return False
            await conn.execute(
                t.user_import_files.insert().values(job_id=job.job_id, pool_id=job.pool_id, body=body)
            )
        return True

    async def get_import_file(self, job_id: str) -> bytes | None:
        q = sa.select(t.user_import_files.c.body).where(t.user_import_files.c.job_id == job_id)
        async with self.read() as conn:
            body = (await conn.execute(q)).scalar_one_or_none()
        return bytes(body) if body is not None else None

    async def delete_import_file(self, job_id: str) -> None:
        async with self.write() as conn:
            await conn.execute(t.user_import_files.delete().where(t.user_import_files.c.job_id == job_id))


class BulkUserRows(UserRows):
    # PostgreSQL: users this process imported since its last ANALYZE, and the next threshold.
    _imported_since_analyze = 0
    _analyze_at = 1000

    async def import_users(
        self, pool_id: str, rows: Sequence[ImportedUser], *, tx: Tx | None = None
    ) -> list[str | None]:
        """Insert a batch of new users in one transaction; per row, None when inserted, or
        ``"username"`` / the alias attribute another user of the pool already holds.

        The taken names are looked up first, in the transaction, so the rest goes in
        by a few multi-row INSERTs; should another node take one in between, the
        unique index refuses the batch and each row is tried again on its own.
        """
        async with self.write(tx) as conn:
            return await self._bulk_or_one_by_one(conn, pool_id, rows)

    async def _bulk_or_one_by_one(
        self, conn: Any, pool_id: str, rows: Sequence[ImportedUser]
    ) -> list[str | None]:
        try:
            async with conn.begin_nested():
                return await self._bulk(conn, pool_id, rows)
        except IntegrityError:
            pass
        out: list[str | None] = []
        for row in rows:
            try:
                async with conn.begin_nested():
                    taken = await self._bulk(conn, pool_id, [row])
                out.append(taken[0])
            except IntegrityError:
                out.append("username")
        return out

    async def imported(self, inserted: int) -> None:
        if not self.is_sqlite:
            await self._keep_statistics(inserted)

    async def _keep_statistics(self, inserted: int) -> None:
        """PostgreSQL plans the batch's lookups by the tables' statistics: while an import
        doubles a table faster than autovacuum analyzes it, the planner takes the new rows
        for none and scans them. ANALYZE each time this process has imported as many users
        as it had at the last one (so a few times in all, log2 of the import)."""
        self._imported_since_analyze += inserted
        if self._imported_since_analyze < self._analyze_at:
            return
        async with self.write() as conn:
            await conn.execute(sa.text("ANALYZE users, user_attrs, user_aliases"))
            total = (await conn.execute(sa.select(sa.func.count()).select_from(t.users))).scalar_one()
        self._imported_since_analyze = 0
        self._analyze_at = max(1000, int(total))

    async def _bulk(self, conn: Any, pool_id: str, rows: Sequence[ImportedUser]) -> list[str | None]:
        keys = [r.username_key for r in rows]
        taken_names: set[str] = set()
        for chunk in _chunks(keys, 500):
            q = sa.select(_U.username_key).where(_U.pool_id == pool_id, _U.username_key.in_(chunk))
            taken_names.update(r.username_key for r in await conn.execute(q))
        wanted = {alias for r in rows for alias in r.index.aliases}
        taken_aliases: set[tuple[str, str]] = set()
        for attribute in {a for a, _ in wanted}:
            values = [v for a, v in wanted if a == attribute]
            for chunk in _chunks(values, 500):
                q = sa.select(_A.alias_key).where(
                    _A.pool_id == pool_id, _A.attribute == attribute, _A.alias_key.in_(chunk)
                )
                taken_aliases.update((attribute, r.alias_key) for r in await conn.execute(q))
        out: list[str | None] = []
        users: list[dict[str, Any]] = []
        attrs: list[dict[str, Any]] = []
        aliases: list[dict[str, Any]] = []
        for r in rows:
            if r.username_key in taken_names:
                out.append("username")
                continue
            clash = next((a for a in r.index.aliases if a in taken_aliases), None)
            if clash is not None:
                out.append(clash[0])
                continue
            out.append(None)
            u = r.user
            users.append(self._user_values(u, r.username_key))
            attrs += [
                {"pool_id": pool_id, "name": n, "value": v, "username_key": r.username_key, "sub": u.sub}
                for n, v in r.index.attributes
            ]
            aliases += [
                {"pool_id": pool_id, "attribute": a, "alias_key": k, "sub": u.sub} for a, k in r.index.aliases
            ]
        for table, new_rows in ((t.users, users), (t.user_attrs, attrs), (t.user_aliases, aliases)):
            if not new_rows:
                continue
            if self.is_sqlite:
                await _insert_many(conn, table, new_rows)
            else:
                await _copy(conn, table, new_rows)
        return out


def _plain(table: sa.Table, rows: list[dict[str, Any]]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The columns, and each row's values as the driver takes them (JSON as text)."""
    columns = list(rows[0])
    as_json = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, sa.JSON)]
    values = operator.itemgetter(*columns)
    records: list[tuple[Any, ...]] = []
    for row in rows:
        record = list(values(row)) if len(columns) > 1 else [values(row)]
        for i in as_json:
            record[i] = orjson.dumps(record[i]).decode()
        records.append(tuple(record))
    return columns, records


async def _insert_many(conn: Any, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """SQLite: one prepared INSERT run over the rows by the driver (``executemany``), without
    SQLAlchemy's per-row parameter processing (half the cost of a batch otherwise)."""
    columns, records = _plain(table, rows)
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    await conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', records)  # noqa: S608


async def _copy(conn: Any, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: the rows by COPY on the transaction's own connection (several times
    faster than an INSERT per row); a taken key raises IntegrityError as an INSERT would."""
    columns, records = _plain(table, rows)
    driver = (await conn.get_raw_connection()).driver_connection
    try:
        await driver.copy_records_to_table(table.name, records=records, columns=columns)
    except asyncpg.exceptions.IntegrityConstraintViolationError as exc:
        raise IntegrityError(f"COPY {table.name}", None, exc) from exc


def _chunks(items: Sequence[str], size: int) -> list[Sequence[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
