"""User import jobs in-process: GetCSVHeader, Create/Start/Stop/Describe/ListUserImportJobs,
the CSV PUT to the job's pre-signed URL, the rows' results (imported, skipped, failed, with
the reasons in the log) and users imported with their password hashes signing in."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from cognate.core.entities import ImportJob
from cognate.core.import_jobs import STALE_AFTER_S
from cognate.core.service import Core
from tests.api import hosted_helpers as hosted
from tests.support import import_csv as ic
from tests.support.inprocess import InProcessApi

pytestmark = pytest.mark.anyio

PASSWORD = "Old-passw0rd!"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


async def make_pool(api: InProcessApi, **fields: Any) -> tuple[str, str]:
    body = {
        "PoolName": "imports",
        "AutoVerifiedAttributes": ["email"],
        "Schema": [{"Name": "tier", "AttributeDataType": "String", "Mutable": True}],
        **fields,
    }
    pool = (await api.admin("CreateUserPool", body))["UserPool"]["Id"]
    client = await api.admin(
        "CreateUserPoolClient", {"UserPoolId": pool, "ClientName": "app", "ExplicitAuthFlows": FLOWS}
    )
    return pool, client["UserPoolClient"]["ClientId"]


async def header(api: InProcessApi, pool: str) -> list[str]:
    found: list[str] = (await api.admin("GetCSVHeader", {"UserPoolId": pool}))["CSVHeader"]
    return found


async def create_job(api: InProcessApi, pool: str, algorithm: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"UserPoolId": pool, "JobName": "import-1", "CloudWatchLogsRoleArn": ic.ROLE}
    if algorithm:
        body["PasswordHashingAlgorithm"] = algorithm
    job: dict[str, Any] = (await api.admin("CreateUserImportJob", body))["UserImportJob"]
    return job


async def run_job(
    api: InProcessApi,
    pool: str,
    rows: Sequence[Mapping[str, str]],
    *,
    algorithm: str | None = None,
    columns: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Create, upload, start, and wait: the job as DescribeUserImportJob ends it."""
    job = await create_job(api, pool, algorithm)
    cols = list(columns or await header(api, pool))
    if algorithm and "cognito:password_hash" not in cols:
        cols.append("cognito:password_hash")
    put = await api.http.put(job["PreSignedUrl"], content=ic.csv_text(cols, rows))
    assert put.status_code == 200, put.text
    started = await api.admin("StartUserImportJob", {"UserPoolId": pool, "JobId": job["JobId"]})
    assert started["UserImportJob"]["Status"] == "Pending"
    await api.core.import_jobs.settle()
    done: dict[str, Any] = (
        await api.admin("DescribeUserImportJob", {"UserPoolId": pool, "JobId": job["JobId"]})
    )["UserImportJob"]
    return done


def row(username: str, email: str | None = None, **attrs: str) -> dict[str, str]:
    email = email or f"{username}@example.com"
    return {
        "cognito:username": username,
        "cognito:mfa_enabled": "false",
        "email": email,
        "email_verified": "true",
        **attrs,
    }


async def password_sign_in(api: InProcessApi, client: str, username: str, password: str) -> Any:
    return await api.call(
        "InitiateAuth",
        {
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": client,
            "AuthParameters": {"USERNAME": username, "PASSWORD": password},
        },
    )


# --- GetCSVHeader -----------------------------------------------------------------------


async def test_csv_header_lists_the_pools_attributes_custom_ones_and_cognitos_columns(
    api: InProcessApi,
) -> None:
    pool, _ = await make_pool(api)
    found = await header(api, pool)
    assert found[-2:] == ["cognito:mfa_enabled", "cognito:username"]
    assert {"name", "email", "email_verified", "phone_number", "phone_number_verified", "custom:tier"} <= set(
        found
    )
    assert "sub" not in found and "identities" not in found
    assert found.index("custom:tier") > found.index("updated_at")
    await api.error(
        "GetCSVHeader", {"UserPoolId": "us-east-1_Nope00000"}, "ResourceNotFoundException", signed=True
    )


# --- the job's life ---------------------------------------------------------------------


async def test_imported_users_are_reset_required_and_counted(api: InProcessApi) -> None:
    pool, client = await make_pool(api)
    done = await run_job(api, pool, [row("ann", **{"custom:tier": "gold"}), row("bob"), row("cy", name="Cy")])
    assert done["Status"] == "Succeeded"
    assert (done["ImportedUsers"], done["SkippedUsers"], done["FailedUsers"]) == (3, 0, 0)
    assert done["CompletionMessage"] and done["StartDate"] >= done["CreationDate"]
    assert done["CompletionDate"] >= done["StartDate"]
    ann = await api.admin("AdminGetUser", {"UserPoolId": pool, "Username": "ann"})
    assert ann["UserStatus"] == "RESET_REQUIRED"
    attrs = {a["Name"]: a["Value"] for a in ann["UserAttributes"]}
    assert attrs["custom:tier"] == "gold" and attrs["email_verified"] == "true" and attrs["sub"]
    r = await password_sign_in(api, client, "ann", "anything-1A!")
    assert r.status_code == 400 and r.json()["__type"] == "PasswordResetRequiredException"
    listed = await api.admin("ListUsers", {"UserPoolId": pool, "Filter": 'email = "bob@example.com"'})
    assert [u["Username"] for u in listed["Users"]] == ["bob"]


async def test_bad_rows_fail_duplicates_are_skipped_and_the_log_says_why_by_line(
    api: InProcessApi, caplog: pytest.LogCaptureFixture
) -> None:
    pool, _ = await make_pool(api, AliasAttributes=["email"])
    await api.admin(
        "AdminCreateUser",
        {
            "UserPoolId": pool,
            "Username": "taken",
            "MessageAction": "SUPPRESS",
            "UserAttributes": [
                {"Name": "email", "Value": "owner@example.com"},
                {"Name": "email_verified", "Value": "true"},
            ],
        },
    )
    rows = [
        row("ok1"),  # line 2
        {**row("x"), "cognito:username": ""},  # 3: no username
        {**row("mfa"), "cognito:mfa_enabled": "maybe"},  # 4
        {**row("unverified"), "email_verified": "false"},  # 5: no auto-verified attribute true
        row("badphone", phone_number="12345"),  # 6: not E.164
        row("taken"),  # 7: the username exists: skipped
        row("ok1", email="again@example.com"),  # 8: twice in the file: skipped
        row("alias", email="owner@example.com"),  # 9: another user's verified email alias
        row("ok2"),  # 10
        row("mfa2", **{"cognito:mfa_enabled": "true"}),  # 11: SMS MFA without a phone number
    ]
    with caplog.at_level(logging.INFO, logger="cognate.import_jobs"):
        done = await run_job(api, pool, rows)
    assert done["Status"] == "Succeeded"
    assert (done["ImportedUsers"], done["SkippedUsers"], done["FailedUsers"]) == (2, 2, 6)
    lines = [r.getMessage() for r in caplog.records if r.name == "cognate.import_jobs"]
    failed = {int(m.split("Line Number ")[1].split(" ")[0]) for m in lines if "[FAILED]" in m}
    skipped = {int(m.split("Line Number ")[1].split(" ")[0]) for m in lines if "[SKIPPED]" in m}
    assert failed == {3, 4, 5, 6, 9, 11} and skipped == {7, 8}
    assert any("Line Number 5 - The User Record does not set any of the auto verified" in m for m in lines)
    assert any("Line Number 9 - An account with the given email already exists." in m for m in lines)
    assert not any("owner@example.com" in m or "badphone" in m for m in lines)  # no user data in the log
    names = {u["Username"] for u in (await api.admin("ListUsers", {"UserPoolId": pool}))["Users"]}
    assert names == {"taken", "ok1", "ok2"}


async def test_a_file_that_cannot_be_parsed_fails_the_job(api: InProcessApi) -> None:
    pool, _ = await make_pool(api)
    for columns, message in (
        (["cognito:username", "cognito:mfa_enabled", "shoe_size"], "not an attribute"),
        (["email", "cognito:mfa_enabled"], "cognito:username column is missing"),
        (["cognito:username", "cognito:mfa_enabled", "cognito:password_hash"], "PasswordHashingAlgorithm"),
    ):
        done = await run_job(api, pool, [row("a")], columns=columns)
        assert done["Status"] == "Failed" and message in done["CompletionMessage"], done
        assert done["ImportedUsers"] == 0
    job = await create_job(api, pool)
    assert (await api.http.put(job["PreSignedUrl"], content=b"\xff\xfe\x00bad")).status_code == 200
    await api.admin("StartUserImportJob", {"UserPoolId": pool, "JobId": job["JobId"]})
    await api.core.import_jobs.settle()
    failed = await api.admin("DescribeUserImportJob", {"UserPoolId": pool, "JobId": job["JobId"]})
    assert failed["UserImportJob"]["Status"] == "Failed"


async def test_a_row_of_the_wrong_width_fails_alone(api: InProcessApi) -> None:
    pool, _ = await make_pool(api)
    cols = await header(api, pool)
    body = ic.csv_text(cols, [row("a")]) + b"b,false\n" + ic.csv_text(cols, [row("c")]).split(b"\n", 1)[1]
    job = await create_job(api, pool)
    await api.http.put(job["PreSignedUrl"], content=body)
    await api.admin("StartUserImportJob", {"UserPoolId": pool, "JobId": job["JobId"]})
    await api.core.import_jobs.settle()
    done = (await api.admin("DescribeUserImportJob", {"UserPoolId": pool, "JobId": job["JobId"]}))[
        "UserImportJob"
    ]
    assert (done["ImportedUsers"], done["FailedUsers"]) == (2, 1)


async def test_a_pool_without_auto_verified_attributes_fails_a_job_without_password_hashes(
    api: InProcessApi,
) -> None:
    pool, _ = await make_pool(api, AutoVerifiedAttributes=[])
    done = await run_job(api, pool, [row("a")])
    assert done["Status"] == "Failed" and "auto-verified" in done["CompletionMessage"]
    with_hashes = await run_job(
        api, pool, [{**row("b"), "cognito:password_hash": ic.bcrypt_hash(PASSWORD)}], algorithm="BCRYPT"
    )
    assert with_hashes["Status"] == "Succeeded" and with_hashes["ImportedUsers"] == 1


async def test_username_attribute_pools_import_by_email_and_skip_a_taken_one(api: InProcessApi) -> None:
    pool, _ = await make_pool(api, UsernameAttributes=["email"])
    first = await run_job(api, pool, [row("zoe@example.com", email="zoe@example.com")])
    assert first["ImportedUsers"] == 1
    user = await api.admin("AdminGetUser", {"UserPoolId": pool, "Username": "zoe@example.com"})
    assert user["Username"] != "zoe@example.com"  # a generated UUID, the sub, as AdminCreateUser
    again = await run_job(api, pool, [row("zoe@example.com", email="zoe@example.com")])
    assert (again["ImportedUsers"], again["SkippedUsers"]) == (0, 1)


# --- the operations' refusals -------------------------------------------------------------


async def test_refusals_as_cognito(api: InProcessApi) -> None:
    pool, _ = await make_pool(api)
    nopool = "us-east-1_Nope00000"
    base = {"JobName": "j", "CloudWatchLogsRoleArn": ic.ROLE}
    await api.error(
        "CreateUserImportJob", {**base, "UserPoolId": nopool}, "ResourceNotFoundException", signed=True
    )
    for arn in (
        "not-an-arn",
        "arn:aws:iam::123456789012:user/someone",
        "arn:aws:s3:::bucket-name-long-enough",
    ):
        await api.error(
            "CreateUserImportJob",
            {**base, "UserPoolId": pool, "CloudWatchLogsRoleArn": arn},
            "InvalidParameterException",
            signed=True,
        )
    await api.error(
        "CreateUserImportJob",
        {**base, "UserPoolId": pool, "PasswordHashingAlgorithm": "MD5"},
        "InvalidParameterException",
        signed=True,
    )
    await api.error(
        "CreateUserImportJob", {**base, "UserPoolId": pool}, "MissingAuthenticationTokenException"
    )
    job = await create_job(api, pool)
    assert job["Status"] == "Created" and job["JobId"].startswith("import-")
    assert job["PreSignedUrl"].startswith("http://cognate.test/user-import/" + job["JobId"] + "?")
    ids = {"UserPoolId": pool, "JobId": job["JobId"]}
    await api.error("StartUserImportJob", ids, "PreconditionNotMetException", signed=True)  # nothing uploaded
    await api.error("StopUserImportJob", ids, "PreconditionNotMetException", signed=True)  # not running
    unknown = {"UserPoolId": pool, "JobId": "import-0000000000"}
    for op in ("DescribeUserImportJob", "StartUserImportJob", "StopUserImportJob"):
        await api.error(op, unknown, "ResourceNotFoundException", signed=True)
        await api.error(op, {**ids, "UserPoolId": nopool}, "ResourceNotFoundException", signed=True)
    other_pool, _ = await make_pool(api)
    await api.error(  # a job is found in its own pool only
        "DescribeUserImportJob", {**ids, "UserPoolId": other_pool}, "ResourceNotFoundException", signed=True
    )
    await api.error(
        "DescribeUserImportJob", {**ids, "JobId": "bad id"}, "InvalidParameterException", signed=True
    )
    await api.error(
        "ListUserImportJobs",
        {"UserPoolId": nopool, "MaxResults": 5},
        "ResourceNotFoundException",
        signed=True,
    )
    await api.error(
        "ListUserImportJobs", {"UserPoolId": pool, "MaxResults": 61}, "InvalidParameterException", signed=True
    )


async def test_started_once_and_finished_jobs_cannot_be_started_or_stopped(api: InProcessApi) -> None:
    pool, _ = await make_pool(api)
    done = await run_job(api, pool, [row("a")])
    ids = {"UserPoolId": pool, "JobId": done["JobId"]}
    await api.error("StartUserImportJob", ids, "PreconditionNotMetException", signed=True)
    await api.error("StopUserImportJob", ids, "PreconditionNotMetException", signed=True)


async def test_a_job_not_started_within_a_day_expires(api: InProcessApi) -> None:
    pool, _ = await make_pool(api)
    job = await create_job(api, pool)
    assert (
        await api.http.put(job["PreSignedUrl"], content=ic.csv_text(await header(api, pool), [row("a")]))
    ).status_code == 200
    api.clock.advance(24 * 3600 + 1)
    ids = {"UserPoolId": pool, "JobId": job["JobId"]}
    described = (await api.admin("DescribeUserImportJob", ids))["UserImportJob"]
    assert described["Status"] == "Expired"
    await api.error("StartUserImportJob", ids, "PreconditionNotMetException", signed=True)


async def test_list_pages_through_the_pools_jobs_in_creation_order(api: InProcessApi) -> None:
    pool, _ = await make_pool(api)
    made = []
    for _ in range(3):
        made.append((await create_job(api, pool))["JobId"])
        api.clock.advance(1)
    seen: list[str] = []
    body: dict[str, Any] = {"UserPoolId": pool, "MaxResults": 2}
    while True:
        page = await api.admin("ListUserImportJobs", body)
        seen += [j["JobId"] for j in page["UserImportJobs"]]
        assert all("PreSignedUrl" in j for j in page["UserImportJobs"])
        if "PaginationToken" not in page:
            break
        body = {**body, "PaginationToken": page["PaginationToken"]}
    assert seen == made
    other, _ = await make_pool(api)
    assert (await api.admin("ListUserImportJobs", {"UserPoolId": other, "MaxResults": 5}))[
        "UserImportJobs"
    ] == []
    await api.error(
        "ListUserImportJobs",
        {
            "UserPoolId": other,
            "MaxResults": 2,
            "PaginationToken": page.get("PaginationToken") or "eyJ4IjoxfQ==",
        },
        "InvalidParameterException",
        signed=True,
    )


async def test_stop_mid_job_stops_after_the_current_batch(api: InProcessApi) -> None:
    pool, _ = await make_pool(api)
    jobs = api.core.import_jobs
    jobs.batch_size = 2
    stopped_at: list[int] = []

    async def stop_after_first(job: ImportJob) -> None:
        if not stopped_at:
            stopped_at.append(job.imported)
            r = await api.admin("StopUserImportJob", {"UserPoolId": pool, "JobId": job.job_id})
            assert r["UserImportJob"]["Status"] == "Stopping"

    jobs.after_batch = stop_after_first
    done = await run_job(api, pool, [row(f"u{i}") for i in range(6)])
    assert done["Status"] == "Stopped" and stopped_at == [2]
    assert done["ImportedUsers"] == 2 and done["CompletionDate"]
    assert len((await api.admin("ListUsers", {"UserPoolId": pool}))["Users"]) == 2
    assert await api.core.store.get_import_file(done["JobId"]) is None  # the file is gone with the job


# --- password hashes: the extension beyond Cognito ------------------------------------------


HASHERS = {
    "ARGON2ID": ic.argon2id_hash,
    "BCRYPT": ic.bcrypt_hash,
    "SCRYPT": ic.scrypt_hash,
    "PBKDF2_SHA256": ic.pbkdf2_hash,
}


@pytest.mark.parametrize("algorithm", sorted(HASHERS))
async def test_users_imported_with_hashes_sign_in_with_their_old_passwords_and_are_rehashed(
    api: InProcessApi, algorithm: str
) -> None:
    pool, client = await make_pool(api)
    rows = [
        {**row("ann"), "cognito:password_hash": HASHERS[algorithm](PASSWORD)},
        {**row("bob"), "cognito:password_hash": HASHERS[algorithm]("other-Passw0rd")},
    ]
    done = await run_job(api, pool, rows, algorithm=algorithm)
    assert done["PasswordHashingAlgorithm"] == algorithm and done["ImportedUsers"] == 2
    ann = await api.admin("AdminGetUser", {"UserPoolId": pool, "Username": "ann"})
    assert ann["UserStatus"] == "CONFIRMED"
    core = api.core
    pool_obj = await core.pools.get(pool)
    before = await core.users.get(pool_obj, "ann")
    assert before.srp_secret is None
    wrong = await password_sign_in(api, client, "ann", "wrong-Passw0rd")
    assert wrong.status_code == 400 and wrong.json()["__type"] == "NotAuthorizedException"
    ok = await password_sign_in(api, client, "ann", PASSWORD)
    assert ok.status_code == 200 and "AccessToken" in ok.json()["AuthenticationResult"], ok.text
    after = await core.users.get(pool_obj, "ann")
    assert after.srp_secret is not None and after.password_hash.startswith("$argon2id$")  # type: ignore[union-attr]
    assert after.password_hash != before.password_hash
    again = await api.admin(
        "AdminInitiateAuth",
        {
            "UserPoolId": pool,
            "ClientId": client,
            "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "ann", "PASSWORD": PASSWORD},
        },
    )
    assert "AccessToken" in again["AuthenticationResult"]
    bob = await api.admin(
        "AdminInitiateAuth",
        {
            "UserPoolId": pool,
            "ClientId": client,
            "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "bob", "PASSWORD": "other-Passw0rd"},
        },
    )
    assert "AccessToken" in bob["AuthenticationResult"]


async def test_django_pbkdf2_and_bcrypt_2y_hashes_are_accepted(api: InProcessApi) -> None:
    pool, client = await make_pool(api)
    done = await run_job(
        api,
        pool,
        [{**row("dj"), "cognito:password_hash": ic.django_pbkdf2_hash(PASSWORD)}],
        algorithm="PBKDF2_SHA256",
    )
    assert done["ImportedUsers"] == 1
    php = ic.bcrypt_hash(PASSWORD).replace("$2b$", "$2y$", 1)
    done = await run_job(api, pool, [{**row("php"), "cognito:password_hash": php}], algorithm="BCRYPT")
    assert done["ImportedUsers"] == 1
    for name in ("dj", "php"):
        assert (await password_sign_in(api, client, name, PASSWORD)).status_code == 200


async def test_unusable_hashes_fail_their_rows_and_never_reach_the_log(
    api: InProcessApi, caplog: pytest.LogCaptureFixture
) -> None:
    pool, _ = await make_pool(api)
    too_costly = "$2b$20$" + "a" * 53
    rows = [
        {**row("a"), "cognito:password_hash": ic.scrypt_hash(PASSWORD)},  # not bcrypt
        {**row("b"), "cognito:password_hash": too_costly},
        {**row("c"), "cognito:password_hash": "plain-text-password"},
        {**row("d"), "cognito:password_hash": ic.bcrypt_hash(PASSWORD)},
        {**row("e", email_verified="false")},  # no hash: needs a verified contact
    ]
    with caplog.at_level(logging.INFO, logger="cognate.import_jobs"):
        done = await run_job(api, pool, rows, algorithm="BCRYPT")
    assert (done["ImportedUsers"], done["FailedUsers"]) == (1, 4)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "not a usable BCRYPT hash" in text and "plain-text-password" not in text and "$2b$20$" not in text


async def test_an_imported_user_signs_in_on_the_hosted_login_with_the_old_password(core: Core) -> None:
    pool, client = await hosted.setup(core, pool_fields={"AutoVerifiedAttributes": ["email"]})
    jobs = core.import_jobs
    job = await jobs.create(pool, "hosted", ic.ROLE, "SCRYPT")
    secret = parse_qs(urlsplit(job.pre_signed_url).query)["X-Amz-Signature"][0]
    body = ic.csv_text(
        [*jobs.csv_header(pool), "cognito:password_hash"],
        [{**row("alice"), "cognito:password_hash": ic.scrypt_hash(hosted.PASSWORD)}],
    )
    await jobs.upload(await jobs.upload_target(job.job_id, secret), body)
    await jobs.start(pool, job.job_id)
    await jobs.settle()
    done = hosted.Completions()
    async with hosted.browser(core, done) as b:
        f = await hosted.open_form(b, "/login", hosted.authorize_params(client))
        wrong = await hosted.submit(b, f, username="alice", password="not-the-Passw0rd")
        assert wrong.status_code in (200, 400) and "<form" in wrong.text and not done.calls
        f = await hosted.open_form(b, "/login", hosted.authorize_params(client))
        r = await hosted.submit(b, f, username="alice", password=hosted.PASSWORD)
        assert r.status_code == 302 and done.calls[0][1].user.username == "alice"
    user = await core.users.get(pool, "alice")
    assert user.srp_secret and (user.password_hash or "").startswith("$argon2id$")


async def test_the_pool_cannot_change_or_go_while_a_job_runs(api: InProcessApi) -> None:
    pool, _ = await make_pool(api)
    jobs = api.core.import_jobs
    jobs.batch_size = 1
    refused: list[str] = []

    async def try_changes(job: ImportJob) -> None:
        if refused:
            return
        for op, body in (
            ("DeleteUserPool", {"UserPoolId": pool}),
            ("UpdateUserPool", {"UserPoolId": pool}),
            (
                "AddCustomAttributes",
                {"UserPoolId": pool, "CustomAttributes": [{"Name": "x", "AttributeDataType": "String"}]},
            ),
        ):
            refused.append(await api.error(op, body, "UserImportInProgressException", signed=True))

    jobs.after_batch = try_changes
    done = await run_job(api, pool, [row("a"), row("b")])
    assert done["Status"] == "Succeeded" and len(refused) == 3
    await api.admin("UpdateUserPool", {"UserPoolId": pool, "AutoVerifiedAttributes": ["email"]})
    await api.admin("DeleteUserPool", {"UserPoolId": pool})


async def test_a_reset_required_user_sets_a_password_by_forgot_password_and_signs_in(
    api: InProcessApi,
) -> None:
    pool, client = await make_pool(api)
    assert (await run_job(api, pool, [row("rita")]))["ImportedUsers"] == 1
    sent = await api.ok("ForgotPassword", {"ClientId": client, "Username": "rita"})
    assert sent["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    code = hosted.outbox_codes(api.data_dir)[-1]
    await api.ok(
        "ConfirmForgotPassword",
        {"ClientId": client, "Username": "rita", "ConfirmationCode": code, "Password": "New-passw0rd!"},
    )
    user = await api.admin("AdminGetUser", {"UserPoolId": pool, "Username": "rita"})
    assert user["UserStatus"] == "CONFIRMED"
    assert (await password_sign_in(api, client, "rita", "New-passw0rd!")).status_code == 200


async def test_a_run_whose_process_ended_is_resumed_after_its_last_batch(api: InProcessApi) -> None:
    pool, _ = await make_pool(api)
    jobs = api.core.import_jobs
    jobs.batch_size = 2
    batches: list[int] = []

    async def die_after_first(job: ImportJob) -> None:
        batches.append(job.lines_done)
        if len(batches) == 1:
            raise asyncio.CancelledError  # the process ends here (a restart, a crash)

    jobs.after_batch = die_after_first
    job = await create_job(api, pool)
    rows = [row(f"u{i}") for i in range(5)] + [row("u0")]  # the last line repeats the first
    await api.http.put(job["PreSignedUrl"], content=ic.csv_text(await header(api, pool), rows))
    ids = {"UserPoolId": pool, "JobId": job["JobId"]}
    await api.admin("StartUserImportJob", ids)
    await jobs.settle()
    halfway = (await api.admin("DescribeUserImportJob", ids))["UserImportJob"]
    assert halfway["Status"] == "InProgress" and halfway["ImportedUsers"] == 2
    assert await api.core.purge_expired() >= 0 and not jobs._running  # not stale yet: left alone
    api.clock.advance(STALE_AFTER_S + 1)
    await api.core.purge_expired()  # another process's minute: it takes the run over
    await jobs.settle()
    done = (await api.admin("DescribeUserImportJob", ids))["UserImportJob"]
    assert done["Status"] == "Succeeded", done
    assert (done["ImportedUsers"], done["SkippedUsers"], done["FailedUsers"]) == (5, 1, 0)
    assert batches[:2] == [3, 5]  # lines 2-3 committed before the end, the run went on from line 4
    assert len((await api.admin("ListUsers", {"UserPoolId": pool}))["Users"]) == 5
