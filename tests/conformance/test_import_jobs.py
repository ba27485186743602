"""User import jobs against a real server: boto3 makes and runs the job, the CSV goes up by
an HTTP PUT (requests, as ``curl -T`` in Cognito's guide) to the pre-signed URL the job
returned, and the imported users sign in: RESET_REQUIRED ones are asked to reset, ones
imported with a bcrypt hash sign in with their old password, then by SRP (pycognito)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests

from tests.conformance.test_signin import make_client
from tests.conformance.test_srp import srp
from tests.support import import_csv as ic
from tests.support.server import Server

PASSWORD = "Old-passw0rd!"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


def wait(idp: Any, pool_id: str, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job: dict[str, Any] = idp.describe_user_import_job(UserPoolId=pool_id, JobId=job_id)["UserImportJob"]
        if job["Status"] in ("Succeeded", "Failed", "Stopped"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"the job did not end: {job}")


def test_import_job_through_boto3_and_a_put_to_the_pre_signed_url(server: Server, idp: Any) -> None:
    pool = idp.create_user_pool(PoolName=f"p{uuid.uuid4().hex[:8]}", AutoVerifiedAttributes=["email"])[
        "UserPool"
    ]
    pool_id = pool["Id"]
    try:
        client = make_client(idp, pool_id, ExplicitAuthFlows=FLOWS)["ClientId"]
        header = idp.get_csv_header(UserPoolId=pool_id)["CSVHeader"]
        assert header[-2:] == ["cognito:mfa_enabled", "cognito:username"]
        job = idp.create_user_import_job(
            JobName="boto3-import",
            UserPoolId=pool_id,
            CloudWatchLogsRoleArn=ic.ROLE,
            PasswordHashingAlgorithm="BCRYPT",
        )["UserImportJob"]
        assert job["Status"] == "Created" and job["PreSignedUrl"].startswith(server.url)
        rows = [
            {
                "cognito:username": "old",
                "cognito:mfa_enabled": "false",
                "email": "old@example.com",
                "email_verified": "true",
                "cognito:password_hash": ic.bcrypt_hash(PASSWORD),
            },
            {
                "cognito:username": "reset",
                "cognito:mfa_enabled": "false",
                "email": "reset@example.com",
                "email_verified": "true",
            },
            {"cognito:username": "", "cognito:mfa_enabled": "false"},
        ]
        body = ic.csv_text([*header, "cognito:password_hash"], rows)
        put = requests.put(
            job["PreSignedUrl"], data=body, headers={"x-amz-server-side-encryption": "aws:kms"}, timeout=30
        )
        assert put.status_code == 200 and put.headers["ETag"]
        assert requests.put(job["PreSignedUrl"], data=body, timeout=30).status_code == 403  # used once
        assert requests.get(job["PreSignedUrl"], timeout=30).status_code == 405
        started = idp.start_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])["UserImportJob"]
        assert started["Status"] in ("Pending", "InProgress")
        done = wait(idp, pool_id, job["JobId"])
        assert done["Status"] == "Succeeded", done
        assert (done["ImportedUsers"], done["SkippedUsers"], done["FailedUsers"]) == (2, 0, 1)
        listed = idp.list_user_import_jobs(UserPoolId=pool_id, MaxResults=10)["UserImportJobs"]
        assert [j["JobId"] for j in listed] == [job["JobId"]]

        public = server.boto(signed=False)
        assert idp.admin_get_user(UserPoolId=pool_id, Username="reset")["UserStatus"] == "RESET_REQUIRED"
        with pytest.raises(public.exceptions.PasswordResetRequiredException):
            public.initiate_auth(
                ClientId=client,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": "reset", "PASSWORD": "whatever-1A"},
            )
        assert idp.admin_get_user(UserPoolId=pool_id, Username="old")["UserStatus"] == "CONFIRMED"
        with pytest.raises(public.exceptions.NotAuthorizedException):  # no verifier yet: SRP fails
            srp(server, pool_id, client, "old", PASSWORD).authenticate_user()
        signed_in = public.initiate_auth(
            ClientId=client,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "old", "PASSWORD": PASSWORD},
        )
        assert signed_in["AuthenticationResult"]["AccessToken"]
        tokens = srp(server, pool_id, client, "old", PASSWORD).authenticate_user()  # the verifier was added
        assert tokens["AuthenticationResult"]["AccessToken"]

        with pytest.raises(idp.exceptions.PreconditionNotMetException):
            idp.stop_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])
        with pytest.raises(idp.exceptions.ResourceNotFoundException):
            idp.describe_user_import_job(UserPoolId=pool_id, JobId="import-0000000000")
    finally:
        idp.delete_user_pool(UserPoolId=pool_id)
