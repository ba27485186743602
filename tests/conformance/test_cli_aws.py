"""The AWS CLI (``aws cognito-idp --endpoint-url``) manages pools as it does on Cognito."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.helpers import POOL_ID, delete_pool, unique

AWS = shutil.which("aws")
pytestmark = pytest.mark.skipif(AWS is None, reason="the AWS CLI (`aws`, pip package awscli) is not on PATH")


def aws(server: Any, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    creds = server.credentials
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_PAGER="",
    )
    assert AWS is not None
    return subprocess.run(
        [AWS, "cognito-idp", "--endpoint-url", server.url, "--output", "json", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_creates_and_lists_a_pool(server: Any, idp: Any, tmp_path: Path) -> None:
    name = unique("cli")
    created = aws(
        server,
        tmp_path,
        "create-user-pool",
        "--pool-name",
        name,
        "--policies",
        json.dumps({"PasswordPolicy": {"MinimumLength": 10}}),
        "--username-attributes",
        "email",
    )
    assert created.returncode == 0, created.stderr
    pool = json.loads(created.stdout)["UserPool"]
    try:
        assert POOL_ID.match(pool["Id"])
        assert pool["Name"] == name
        assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 10
        assert pool["UsernameAttributes"] == ["email"]

        listed = aws(server, tmp_path, "list-user-pools", "--max-results", "2")
        assert listed.returncode == 0, listed.stderr
        # The CLI follows NextToken by itself: the new pool is there wherever it sorts.
        assert pool["Id"] in {p["Id"] for p in json.loads(listed.stdout)["UserPools"]}

        client = aws(
            server,
            tmp_path,
            "create-user-pool-client",
            "--user-pool-id",
            pool["Id"],
            "--client-name",
            "cli-web",
            "--generate-secret",
        )
        assert client.returncode == 0, client.stderr
        described = aws(
            server,
            tmp_path,
            "describe-user-pool-client",
            "--user-pool-id",
            pool["Id"],
            "--client-id",
            json.loads(client.stdout)["UserPoolClient"]["ClientId"],
        )
        assert described.returncode == 0, described.stderr
        assert json.loads(described.stdout)["UserPoolClient"]["ClientSecret"]
    finally:
        delete_pool(idp, pool["Id"])


def test_cli_bad_call_exits_with_the_cognito_error(server: Any, tmp_path: Path) -> None:
    missing = aws(server, tmp_path, "describe-user-pool", "--user-pool-id", "us-east-1_NoSuchPoo")
    assert missing.returncode != 0
    assert "ResourceNotFoundException" in missing.stderr
    assert "us-east-1_NoSuchPoo" in missing.stderr

    invalid = aws(
        server, tmp_path, "create-user-pool", "--pool-name", "p", "--mfa-configuration", "SOMETIMES"
    )
    assert invalid.returncode != 0
    assert "InvalidParameterException" in invalid.stderr


def test_cli_with_wrong_secret_is_refused(server: Any, tmp_path: Path) -> None:
    bad = {**server.credentials, "SecretAccessKey": "not-the-secret" * 3}

    class Wrong:
        url = server.url
        credentials = bad

    denied = aws(Wrong(), tmp_path, "list-user-pools", "--max-results", "1")
    assert denied.returncode != 0
    assert "InvalidSignatureException" in denied.stderr
