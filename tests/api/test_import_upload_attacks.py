"""Attacks on a user import job's pre-signed URL: reuse, guessing, another job's secret,
expiry, other methods, huge bodies. Each is refused as S3 refuses (an XML ``<Error>``),
before a byte of the body is kept, and the job stays as it was."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.api.test_import_jobs import create_job, header, make_pool, row
from tests.support import import_csv as ic
from tests.support.inprocess import InProcessApi

pytestmark = pytest.mark.anyio


def secret_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]


def with_secret(url: str, secret: str) -> str:
    return url.replace(secret_of(url), secret)


def code(body: str) -> str:
    return body.split("<Code>")[1].split("</Code>")[0]


async def csv_of(api: InProcessApi, pool: str) -> bytes:
    return ic.csv_text(await header(api, pool), [row("a")])


async def test_the_url_is_used_once(api: InProcessApi) -> None:
    pool, _ = await make_pool(api)
    job = await create_job(api, pool)
    body = await csv_of(api, pool)
    first = await api.http.put(job["PreSignedUrl"], content=body)
    assert first.status_code == 200 and first.headers["etag"].startswith('"')
    again = await api.http.put(
        job["PreSignedUrl"], content=b"cognito:username,cognito:mfa_enabled\nevil,false\n"
    )
    assert again.status_code == 403 and code(again.text) == "AccessDenied"
    assert await api.core.store.get_import_file(job["JobId"]) == body


async def test_a_guessed_or_another_jobs_secret_is_refused(
    api: InProcessApi, caplog: pytest.LogCaptureFixture
) -> None:
    pool, _ = await make_pool(api)
    mine, other = await create_job(api, pool), await create_job(api, pool)
    body = await csv_of(api, pool)
    url = mine["PreSignedUrl"]
    with caplog.at_level(logging.INFO):
        for bad in (
            with_secret(url, "A" * 43),  # guessed
            with_secret(url, secret_of(other["PreSignedUrl"])),  # the other job's secret on this job
            url.split("?")[0],  # no secret at all
            url.replace(mine["JobId"], "import-zzzzzzzzzz"),  # an unknown job
            url.replace(mine["JobId"], "../../etc/passwd"),
        ):
            r = await api.http.put(bad, content=body)
            assert r.status_code in (403, 404), (bad, r.status_code)
            if r.status_code == 403:
                assert code(r.text) == "AccessDenied"
    assert await api.core.store.get_import_file(mine["JobId"]) is None
    server_log = "\n".join(
        f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name.startswith("cognate")
    )
    assert server_log and secret_of(url) not in server_log  # the secret never reaches the server's log
    assert (await api.http.put(url, content=body)).status_code == 200  # the right one still works


async def test_the_url_expires_after_fifteen_minutes(api: InProcessApi) -> None:
    pool, _ = await make_pool(api)
    job = await create_job(api, pool)
    api.clock.advance(15 * 60 + 1)
    r = await api.http.put(job["PreSignedUrl"], content=await csv_of(api, pool))
    assert r.status_code == 403 and "expired" in r.text


async def test_a_started_jobs_url_takes_nothing(api: InProcessApi) -> None:
    pool, _ = await make_pool(api)
    job = await create_job(api, pool)
    await api.http.put(job["PreSignedUrl"], content=await csv_of(api, pool))
    await api.admin("StartUserImportJob", {"UserPoolId": pool, "JobId": job["JobId"]})
    await api.core.import_jobs.settle()
    assert (await api.http.put(job["PreSignedUrl"], content=b"x")).status_code == 403


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE", "PATCH"])
async def test_other_methods_are_not_allowed(api: InProcessApi, method: str) -> None:
    pool, _ = await make_pool(api)
    job = await create_job(api, pool)
    r = await api.http.request(method, job["PreSignedUrl"], content=b"cognito:username\n")
    assert r.status_code == 405 and code(r.text) == "MethodNotAllowed" and r.headers["allow"] == "PUT"
    assert await api.core.store.get_import_file(job["JobId"]) is None


async def test_a_body_over_the_limit_is_refused_whether_declared_or_streamed(api: InProcessApi) -> None:
    pool, _ = await make_pool(api)
    jobs = api.core.import_jobs
    job = await create_job(api, pool)
    declared = await api.http.put(
        job["PreSignedUrl"], content=b"x", headers={"Content-Length": str(jobs.max_csv_bytes + 1)}
    )
    assert declared.status_code in (400, 413)
    jobs.max_csv_bytes = 64 * 1024

    async def stream() -> object:
        for _ in range(100):  # 100 x 4 KiB, no Content-Length: refused once past 64 KiB
            yield b"a,b\n" * 1024

    streamed = await api.http.put(job["PreSignedUrl"], content=stream())  # type: ignore[arg-type]
    assert streamed.status_code == 413 and code(streamed.text) == "EntityTooLarge"
    assert await api.core.store.get_import_file(job["JobId"]) is None
    fits = await api.http.put(job["PreSignedUrl"], content=await csv_of(api, pool))
    assert fits.status_code == 200  # a refused upload did not use the URL up
