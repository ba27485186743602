"""User import jobs: users from a CSV file, in bulk (docs/import.md).

Sources: Amazon Cognito API reference (CreateUserImportJob, StartUserImportJob,
StopUserImportJob, DescribeUserImportJob, ListUserImportJobs, GetCSVHeader); developer
guide, "Importing users into user pools from a CSV file": the header GetCSVHeader
gives (the pool's attributes, custom ones included, ``cognito:mfa_enabled`` and
``cognito:username``), a pre-signed URL valid 15 minutes that the CSV is PUT to, a
job not started within a day expires, and each line's result is logged by line
number without user data (``[SUCCEEDED]`` / ``[SKIPPED] ... The user already exists.``
/ ``[FAILED] ...``); imported users are RESET_REQUIRED.

Beyond Cognito: with ``PasswordHashingAlgorithm`` a row may carry its user's password
hash (``cognito:password_hash``, crypto/imported_hashes.py); such a user is CONFIRMED
and signs in with the old password; the first sign-in re-hashes it with Cognate's
argon2id and adds the SRP verifier (``Users.upgrade_credentials``). Nothing is hashed
at import: each batch of rows is one transaction of multi-row INSERTs.

The pre-signed URL is served by Cognate (the door's ``/user-import/{job}``): its secret
is 256 random bits, kept as a SHA-256 and compared in constant time; it names one job,
is refused once used or after 15 minutes, and its body is bounded.
"""

from __future__ import annotations

import asyncio
import builtins
import csv
import hashlib
import hmac
import io
import logging
import re
import secrets
import string
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace

from cognate.core import attributes, paging
from cognate.core.clock import Clock
from cognate.core.entities import ImportJob, ImportJobStatus, Pool, User, UserStatus
from cognate.core.mfa import SMS
from cognate.core.sign_in_names import index_of, username_key
from cognate.core.users import Users
from cognate.crypto import imported_hashes
from cognate.errors import (
    CognateError,
    InvalidParameterException,
    PreconditionNotMetException,
    PreSignedUrlRefused,
    ResourceNotFoundException,
)
from cognate.store.base import ImportedUser, Store

log = logging.getLogger("cognate.import_jobs")

UPLOAD_VALIDITY_S = 15 * 60  # the pre-signed URL's life, as Cognito's
START_WITHIN_S = 24 * 3600  # a job not started by then is Expired
MAX_CSV_BYTES = 100 * 1024 * 1024  # Cognito's limit for the file
# Rows per transaction. Each commit writes out the pages of the tables and indexes the
# batch touched, the upper B-tree levels every time: 1,000 rows a batch took a third more
# CPU per user than 5,000 on SQLite (bench/import_users.py, 100,000 users: 4,633 users/s
# against 6,805). A batch holds SQLite's write lock for under a second.
BATCH = 5000
STALE_AFTER_S = 300  # a run without a committed batch for this long is taken over
UPLOAD_PATH = "/user-import/"

USERNAME = "cognito:username"
MFA_ENABLED = "cognito:mfa_enabled"
PASSWORD_HASH = "cognito:password_hash"
_NOT_IN_HEADER = {"sub", "identities"}
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_ALNUM = string.ascii_lowercase + string.digits

SUCCEEDED = "The user import job has completed."
STOPPED = "The user import job was stopped."
EXPIRED = "The user import job was not started within a day of its creation."


class _LostRun(Exception):
    """Another process took this run over (it looked stale): this one must stop."""


class _BadFile(Exception):
    """The CSV cannot be read at all: the job fails."""


class ImportJobs:
    def __init__(self, store: Store, clock: Clock, users: Users, public_url: str) -> None:
        self.store = store
        self.clock = clock
        self.users = users
        self.public_url = public_url.rstrip("/")
        self.batch_size = BATCH
        self.max_csv_bytes = MAX_CSV_BYTES
        # Awaited after each batch (tests use it to stop a job half-way).
        self.after_batch: Callable[[ImportJob], Awaitable[None]] | None = None
        self._running: dict[str, asyncio.Task[None]] = {}

    # --- GetCSVHeader -------------------------------------------------------------

    @staticmethod
    def csv_header(pool: Pool) -> list[str]:
        """The pool's attributes (standard, then custom), ``cognito:mfa_enabled``, ``cognito:username``."""
        names = [a["Name"] for a in pool.doc["SchemaAttributes"]]
        standard = [
            n for n in names if not attributes.is_custom(n.removeprefix("dev:")) and n not in _NOT_IN_HEADER
        ]
        custom = [n.removeprefix("dev:") for n in names if attributes.is_custom(n.removeprefix("dev:"))]
        return [*standard, *custom, MFA_ENABLED, USERNAME]

    # --- the jobs -----------------------------------------------------------------

    async def create(self, pool: Pool, name: str, role_arn: str, algorithm: str | None) -> ImportJob:
        if not _ROLE_ARN.match(role_arn):
            raise InvalidParameterException("CloudWatchLogsRoleArn must be the ARN of an IAM role.")
        if algorithm is not None and algorithm not in imported_hashes.ALGORITHMS:
            raise InvalidParameterException(
                f"PasswordHashingAlgorithm must be one of {', '.join(imported_hashes.ALGORITHMS)}."
            )
        job_id = "import-" + "".join(secrets.choice(_ALNUM) for _ in range(10))
        secret = secrets.token_urlsafe(32)
        now = self.clock.now()
        query = f"X-Amz-Expires={UPLOAD_VALIDITY_S}&X-Amz-Signature={secret}"
        url = f"{self.public_url}{UPLOAD_PATH}{job_id}?{query}"
        job = ImportJob(
            job_id=job_id,
            pool_id=pool.id,
            name=name,
            status=ImportJobStatus.CREATED,
            created=now,
            role_arn=role_arn,
            pre_signed_url=url,
            upload_expires=now + UPLOAD_VALIDITY_S,
            password_algorithm=algorithm,
        )
        await self.store.insert_import_job(job, _digest(secret))
        return job

    async def get(self, pool: Pool, job_id: str) -> ImportJob:
        job = await self.store.get_import_job(pool.id, job_id)
        if job is None:
            raise ResourceNotFoundException(f"Import job {job_id} does not exist.")
        return await self._expire(job)

    async def _expire(self, job: ImportJob) -> ImportJob:
        """A job still Created a day after its creation is Expired (and its file dropped)."""
        if job.status != ImportJobStatus.CREATED or self.clock.now() < job.created + START_WITHIN_S:
            return job
        expired = replace(job, status=ImportJobStatus.EXPIRED, completion_message=EXPIRED)
        if await self.store.update_import_job(expired, expect=[ImportJobStatus.CREATED]):
            await self.store.delete_import_file(job.job_id)
            return expired
        found = await self.store.get_import_job(job.pool_id, job.job_id)
        return found or expired

    async def list(self, pool: Pool, limit: int, token: str | None) -> tuple[list[ImportJob], str | None]:
        scope = f"ListUserImportJobs\n{pool.id}"
        after = None
        if token:
            created, _, job_id = paging.decode(token, scope).partition("|")
            try:
                after = (float(created), job_id)
            except ValueError:
                raise InvalidParameterException("Invalid pagination token.") from None
        jobs = await self.store.list_import_jobs(pool.id, limit + 1, after)
        more = len(jobs) > limit
        jobs = [await self._expire(j) for j in jobs[:limit]]
        next_token = paging.encode(f"{jobs[-1].created!r}|{jobs[-1].job_id}", scope) if more else None
        return jobs, next_token

    async def start(self, pool: Pool, job_id: str) -> ImportJob:
        job = await self.get(pool, job_id)
        if job.status != ImportJobStatus.CREATED:
            raise PreconditionNotMetException(f"Import job {job_id} cannot be started: it is {job.status}.")
        if not job.uploaded:
            raise PreconditionNotMetException(
                f"Import job {job_id} cannot be started: no CSV file was uploaded to its pre-signed URL."
            )
        now = self.clock.now()
        pending = replace(job, status=ImportJobStatus.PENDING, started=now, heartbeat=now)
        if not await self.store.update_import_job(pending, expect=[ImportJobStatus.CREATED]):
            raise PreconditionNotMetException(f"Import job {job_id} was started already.")
        self._spawn(pool, pending)
        return pending

    async def stop(self, pool: Pool, job_id: str) -> ImportJob:
        """Pending or InProgress -> Stopping; the run stops after its current batch (Stopped)."""
        job = await self.get(pool, job_id)
        stopping = replace(job, status=ImportJobStatus.STOPPING)
        active = [ImportJobStatus.PENDING, ImportJobStatus.IN_PROGRESS]
        if job.status not in active or not await self.store.update_import_job(stopping, expect=active):
            raise PreconditionNotMetException(f"Import job {job_id} cannot be stopped: it is {job.status}.")
        return stopping

    async def close(self) -> None:
        """Shutdown: the runs of this process end where they are; another process resumes them
        (``resume_stale``) once they have been silent ``STALE_AFTER_S``."""
        for task in list(self._running.values()):
            task.cancel()
        await asyncio.gather(*list(self._running.values()), return_exceptions=True)

    async def settle(self) -> None:
        """Wait for the runs this process started (tests; shutdown)."""
        while self._running:
            await asyncio.gather(*list(self._running.values()), return_exceptions=True)

    # --- the pre-signed URL -----------------------------------------------------------

    async def upload_target(self, job_id: str, secret: str) -> ImportJob:
        """The job whose pre-signed URL this is, if it admits an upload now."""
        found = await self.store.import_upload_target(job_id) if job_id.startswith("import-") else None
        expected = found[1] if found else _digest("")
        # Compared in constant time, and compared even for an unknown job.
        if not hmac.compare_digest(_digest(secret), expected) or found is None:
            raise PreSignedUrlRefused("Access Denied")
        job = found[0]
        if self.clock.now() > job.upload_expires:
            raise PreSignedUrlRefused("Request has expired")
        if job.uploaded or job.status != ImportJobStatus.CREATED:
            raise PreSignedUrlRefused("This pre-signed URL was used already")
        return job

    async def upload(self, job: ImportJob, body: bytes) -> None:
        if not await self.store.put_import_file(job, body):
            raise PreSignedUrlRefused("This pre-signed URL was used already")

    # --- the run ----------------------------------------------------------------------

    def _spawn(self, pool: Pool, job: ImportJob) -> None:
        task = asyncio.create_task(self._run(pool, job), name=f"import {job.job_id}")
        self._running[job.job_id] = task
        task.add_done_callback(lambda _t: self._running.pop(job.job_id, None))

    async def _run(self, pool: Pool, job: ImportJob) -> None:
        """The run; its file is deleted when it ends, not when it is cancelled (a shutdown: the
        job resumes in another process, ``resume_stale``) nor when another process took it."""
        try:
            await self._import(pool, job)
        except _LostRun:
            log.warning("%s: another process took the run over; this one stops", job.job_id)
            return
        except Exception:
            log.exception("%s: the import job failed", job.job_id)
            current = await self.store.get_import_job(job.pool_id, job.job_id) or job
            failed = replace(
                current,
                status=ImportJobStatus.FAILED,
                completed=self.clock.now(),
                completion_message="The user import job failed on an internal error.",
            )
            await self.store.update_import_job(failed)
        await self.store.delete_import_file(job.job_id)

    async def resume_stale(self) -> int:
        """Take over the runs that showed no life for ``STALE_AFTER_S`` (their process ended):
        a Stopping job ends Stopped; a Pending or InProgress one goes on here, after the last
        line its batches committed. Called with the minute's purge; of several processes
        that try, one wins each job. The number resumed."""
        now = self.clock.now()
        resumed = 0
        for job in await self.store.stale_import_jobs(now - STALE_AFTER_S):
            if job.job_id in self._running or not await self.store.claim_import_job(job, now):
                continue
            job = replace(job, heartbeat=now)
            pool = await self.store.get_pool(job.pool_id)
            if job.status == ImportJobStatus.STOPPING or pool is None:
                await self._finish(job, ImportJobStatus.STOPPED, STOPPED)
                await self.store.delete_import_file(job.job_id)
                continue
            log.warning("%s: its run showed no life; resumed here after line %d", job.job_id, job.lines_done)
            self._spawn(pool, job)
            resumed += 1
        return resumed

    async def _finish(self, job: ImportJob, status: ImportJobStatus, message: str) -> ImportJob:
        done = replace(job, status=status, completed=self.clock.now(), completion_message=message)
        if status in (ImportJobStatus.SUCCEEDED, ImportJobStatus.FAILED):
            active = [ImportJobStatus.PENDING, ImportJobStatus.IN_PROGRESS]
            if await self.store.update_import_job(done, expect=active):
                return done
            done = replace(done, status=ImportJobStatus.STOPPED, completion_message=STOPPED)
        await self.store.update_import_job(done)
        log.info(
            "%s: %s (imported %d, skipped %d, failed %d)",
            job.job_id,
            done.status,
            done.imported,
            done.skipped,
            done.failed,
        )
        return done

    async def _import(self, pool: Pool, job: ImportJob) -> None:
        if job.status == ImportJobStatus.PENDING:
            job = replace(job, status=ImportJobStatus.IN_PROGRESS)
            if not await self.store.update_import_job(job, expect=[ImportJobStatus.PENDING]):
                await self._finish(job, ImportJobStatus.STOPPED, STOPPED)
                return
        if not job.password_algorithm and not pool.doc.get("AutoVerifiedAttributes"):
            await self._finish(
                job,
                ImportJobStatus.FAILED,
                "The user pool has no auto-verified attributes: imported users could not reset passwords.",
            )
            return
        body = await self.store.get_import_file(job.job_id)
        try:
            rows = _rows(body or b"", self._columns(pool, job))
            batch: list[tuple[int, dict[str, str] | None]] = []
            seen: tuple[set[str], set[tuple[str, str]]] = (set(), set())
            for line, row in rows:
                if line <= job.lines_done:
                    continue  # committed by the run this one took over
                batch.append((line, row))
                if len(batch) >= self.batch_size:
                    job = await self._batch(pool, job, batch, seen)
                    batch = []
                    if job.status != ImportJobStatus.IN_PROGRESS:
                        return
            job = await self._batch(pool, job, batch, seen)
            if job.status != ImportJobStatus.IN_PROGRESS:
                return
        except _BadFile as bad:
            current = await self.store.get_import_job(job.pool_id, job.job_id) or job
            await self._finish(
                current, ImportJobStatus.FAILED, f"The CSV file could not be parsed: {bad}"[:128]
            )
            return
        await self._finish(job, ImportJobStatus.SUCCEEDED, SUCCEEDED)

    def _columns(self, pool: Pool, job: ImportJob) -> set[str]:
        known = set(self.csv_header(pool))
        if job.password_algorithm:
            known.add(PASSWORD_HASH)
        return known

    async def _batch(
        self,
        pool: Pool,
        job: ImportJob,
        batch: builtins.list[tuple[int, dict[str, str] | None]],
        seen: tuple[set[str], set[tuple[str, str]]],
    ) -> ImportJob:
        """Import one batch (one transaction), count it, and see whether the job was stopped."""
        names, aliases = seen
        ready: list[tuple[int, ImportedUser]] = []
        imported = skipped = failed = 0
        for line, row in batch:
            if row is None:
                failed += 1
                _line(job, "FAILED", line, "The line does not have a value for each column of the header.")
                continue
            try:
                item = self._user(pool, job, row)
            except CognateError as exc:
                failed += 1
                _line(job, "FAILED", line, exc.message)
                continue
            if item.username_key in names:
                skipped += 1
                _line(job, "SKIPPED", line, "The user already exists.")
                continue
            clash = next((a for a in item.index.aliases if a in aliases), None)
            if clash is not None:
                skipped, failed = self._clash(pool, job, line, clash[0], skipped, failed)
                continue
            names.add(item.username_key)
            aliases.update(item.index.aliases)
            ready.append((line, item))
        async with self.store.transaction() as tx:
            current = await self.store.get_import_job(job.pool_id, job.job_id, tx=tx)
            if current is None or current.heartbeat != job.heartbeat:
                raise _LostRun  # another process took the run over: this one stops here
            results = await self.store.import_users(pool.id, [i for _, i in ready], tx=tx) if ready else []
            for (line, _item), taken in zip(ready, results, strict=True):
                if taken is None:
                    imported += 1
                elif taken == "username":
                    skipped += 1
                    _line(job, "SKIPPED", line, "The user already exists.")
                else:
                    skipped, failed = self._clash(pool, job, line, taken, skipped, failed)
            job = replace(
                job,
                status=current.status,
                imported=job.imported + imported,
                skipped=job.skipped + skipped,
                failed=job.failed + failed,
                lines_done=batch[-1][0] if batch else job.lines_done,
                heartbeat=self.clock.now(),
            )
            # The users and the count of them commit together: a run taken over resumes exactly.
            await self.store.update_import_job(job, tx=tx)
        # PostgreSQL plans the next batch's lookups by statistics that must see the new rows
        # (without them, a large import slowed down as it went: 382 users/s over 100,000).
        await self.store.imported(imported)
        if job.status != ImportJobStatus.IN_PROGRESS:  # stopped meanwhile (by any node)
            job = await self._finish(job, ImportJobStatus.STOPPED, STOPPED)
        if self.after_batch is not None:
            await self.after_batch(job)
            refreshed = await self.store.get_import_job(job.pool_id, job.job_id)
            if refreshed is not None and refreshed.status == ImportJobStatus.STOPPING:
                job = await self._finish(job, ImportJobStatus.STOPPED, STOPPED)
        return job

    @staticmethod
    def _clash(
        pool: Pool, job: ImportJob, line: int, attribute: str, skipped: int, failed: int
    ) -> tuple[int, int]:
        """An alias another user holds: the sign-in name (UsernameAttributes) is an existing
        user, skipped; any other alias fails the row."""
        if attribute in (pool.doc.get("UsernameAttributes") or []):
            _line(job, "SKIPPED", line, "The user already exists.")
            return skipped + 1, failed
        _line(job, "FAILED", line, f"An account with the given {attribute} already exists.")
        return skipped, failed + 1

    def _user(self, pool: Pool, job: ImportJob, row: dict[str, str]) -> ImportedUser:
        """One row as a new user (InvalidParameterException with the reason when it cannot be)."""
        username = row.pop(USERNAME, "")
        mfa = row.pop(MFA_ENABLED, "").lower()
        encoded = row.pop(PASSWORD_HASH, "")
        if not username:
            raise InvalidParameterException("The cognito:username value is missing.")
        if mfa not in ("true", "false"):
            raise InvalidParameterException("The cognito:mfa_enabled value must be true or false.")
        attrs = {k: v for k, v in row.items() if v != ""}
        username, attrs = self.users.apply_username_attributes(pool, username, attrs)
        schema = pool.doc["SchemaAttributes"]
        attributes.check_writes(schema, attrs, creating=True)
        attrs = attributes.canonical(schema, attrs)
        attributes.check_required(schema, attrs)
        for contact in ("email", "phone_number"):
            if attrs.get(f"{contact}_verified") == "true" and not attrs.get(contact):
                raise InvalidParameterException(f"{contact}_verified is true but {contact} is empty.")
        password_hash = None
        if encoded:
            assert job.password_algorithm is not None  # the column is refused without one
            try:
                password_hash = imported_hashes.parse(job.password_algorithm, encoded)
            except imported_hashes.UnusableHash as why:
                raise InvalidParameterException(
                    f"The cognito:password_hash value is not a usable {job.password_algorithm} hash: {why}."
                ) from None
        else:
            auto = pool.doc.get("AutoVerifiedAttributes") or []
            if not any(attrs.get(f"{a}_verified") == "true" for a in auto):
                raise InvalidParameterException(
                    "The User Record does not set any of the auto verified attributes to true. "
                    "(Example: email_verified to true)."
                )
        if mfa == "true" and not attrs.get("phone_number"):
            raise InvalidParameterException("cognito:mfa_enabled is true but phone_number is empty.")
        now = self.clock.now()
        sub = self.users.new_sub(pool, username)
        user = User(
            sub=sub,
            pool_id=pool.id,
            username=username,
            status=UserStatus.CONFIRMED if password_hash else UserStatus.RESET_REQUIRED,
            enabled=True,
            attributes={"sub": sub, **attrs},
            created=now,
            modified=now,
            password_hash=password_hash,
            mfa={"enabled": [SMS], "preferred": SMS} if mfa == "true" else {},
        )
        return ImportedUser(user, username_key(pool, username), index_of(pool, user))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _line(job: ImportJob, result: str, line: int, message: str) -> None:
    """One line's result, by line number and without user data (as Cognito's CloudWatch log)."""
    log.info("%s/%s [%s] Line Number %d - %s", job.job_id, job.name, result, line, message)


def _rows(body: bytes, known: set[str]) -> Iterator[tuple[int, dict[str, str] | None]]:
    """(line number, column -> value, or None for a row of the wrong width) for each user
    row; ``_BadFile`` if the file cannot be read."""
    try:
        text = io.TextIOWrapper(io.BytesIO(body), encoding="utf-8-sig", newline="")
        reader = csv.reader(text, strict=True)
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _BadFile("it is not UTF-8 CSV") from exc
    if not header:
        raise _BadFile("it is empty")
    header = [h.strip() for h in header]
    unknown = sorted(set(header) - known)
    if unknown:
        if PASSWORD_HASH in unknown:
            raise _BadFile("cognito:password_hash needs the job's PasswordHashingAlgorithm")
        raise _BadFile("a column is not an attribute of the pool")
    if len(set(header)) != len(header):
        raise _BadFile("a column appears twice")
    for required in (USERNAME, MFA_ENABLED):
        if required not in header:
            raise _BadFile(f"the {required} column is missing")
    width = len(header)
    try:
        for values in reader:
            line = reader.line_num
            if not values or values == [""]:
                continue
            yield line, dict(zip(header, values, strict=True)) if len(values) == width else None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _BadFile(f"line {reader.line_num} is not valid CSV") from exc
