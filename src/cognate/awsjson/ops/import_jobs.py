"""User import jobs (CSV import) and GetCSVHeader; the CSV itself goes to the job's
pre-signed URL (awsjson/upload.py)."""

from __future__ import annotations

from typing import Any

from cognate.awsjson import wire
from cognate.awsjson.params import Params
from cognate.awsjson.registry import Auth, operation
from cognate.core.service import Core


@operation("GetCSVHeader", auth=Auth.IAM)
async def get_csv_header(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    return {"UserPoolId": pool.id, "CSVHeader": core.import_jobs.csv_header(pool)}


@operation("CreateUserImportJob", auth=Auth.IAM)
async def create_user_import_job(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    job = await core.import_jobs.create(
        pool, p.str("JobName"), p.str("CloudWatchLogsRoleArn"), p.opt_str("PasswordHashingAlgorithm")
    )
    return {"UserImportJob": wire.import_job(job)}


@operation("StartUserImportJob", auth=Auth.IAM)
async def start_user_import_job(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    return {"UserImportJob": wire.import_job(await core.import_jobs.start(pool, p.str("JobId")))}


@operation("StopUserImportJob", auth=Auth.IAM)
async def stop_user_import_job(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    return {"UserImportJob": wire.import_job(await core.import_jobs.stop(pool, p.str("JobId")))}


@operation("DescribeUserImportJob", auth=Auth.IAM)
async def describe_user_import_job(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    return {"UserImportJob": wire.import_job(await core.import_jobs.get(pool, p.str("JobId")))}


@operation("ListUserImportJobs", auth=Auth.IAM)
async def list_user_import_jobs(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    jobs, token = await core.import_jobs.list(pool, p.int("MaxResults", 60), p.opt_str("PaginationToken"))
    out: dict[str, Any] = {"UserImportJobs": [wire.import_job(j) for j in jobs]}
    if token:
        out["PaginationToken"] = token
    return out
