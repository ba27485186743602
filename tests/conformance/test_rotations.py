"""Rotations without downtime (issue 13, "Operating it").

The master key: ``cognate rotate-master-key --new-key`` makes a new key in master.key
(accepted, then sealing: the running server with two workers takes each step without a
restart) and re-seals everything, while the server signs users in, in a loop (password
with SECRET_HASH, SRP, the client secret read back): no request fails; the server then
signs every user in (password, SRP, TOTP, a refresh token from before), and so does a
server restarted with the new key alone.

The admin key pair: ``cognate rotate-admin-key`` on a running server: the new pair works
within a second, the old one until the grace period ends, then it is refused."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.conformance.test_export_import import (
    Seeded,
    cognate,
    password_and_srp_sign_in,
    seed,
    signs_in,
)
from tests.support.server import Server, running_server


def sign_in_loop(
    server: Server, seeded: Seeded, stop: threading.Event, done: list[str], failed: list[str]
) -> None:
    public, admin = server.boto(signed=False), server.boto()
    name = seeded.users[1]
    while not stop.is_set():
        try:
            password_and_srp_sign_in(public, seeded, name)
            client = admin.describe_user_pool_client(UserPoolId=seeded.pool_id, ClientId=seeded.client_id)
            assert client["UserPoolClient"]["ClientSecret"] == seeded.client_secret
            done.append("ok")
        except Exception as exc:  # every failure is the test's finding
            failed.append(repr(exc))


def test_master_key_rotation_while_the_server_signs_users_in(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_server("--workers", "2", data_dir=data) as serving:
        seeded = seed(serving)  # sealed under the generated master key
        old = (data / "master.key").read_text().strip()
        done: list[str] = []
        failed: list[str] = []
        stop = threading.Event()
        loop = threading.Thread(target=sign_in_loop, args=(serving, seeded, stop, done, failed))
        loop.start()
        try:
            while len(done) < 2 and not failed:
                time.sleep(0.05)
            at_start = len(done)
            rotated = cognate("rotate-master-key", "--new-key", "--data-dir", str(data))
            seen = len(done)
            while len(done) < seen + 2 and not failed:  # and it keeps serving afterwards
                time.sleep(0.05)
        finally:
            stop.set()
            loop.join()
        print(f"rounds during the rotation: {seen - at_start}; {rotated.stdout}")
        assert rotated.returncode == 0, rotated.stderr
        assert failed == []
        assert seen - at_start >= 5  # the rotation did overlap the sign-ins
        assert "Re-sealed" in rotated.stdout and "Re-sealed 0 " not in rotated.stdout
        new, kept = (data / "master.key").read_text().split()
        assert kept == old and new != old
        again = cognate("rotate-master-key", "--data-dir", str(data))
        assert again.returncode == 0 and "Re-sealed 0 values" in again.stdout
        signs_in(serving, seeded)  # TOTP and the refresh token too, on the running server

    (data / "master.key").write_text(f"{new}\n")  # the old key is gone
    with running_server(data_dir=data) as after:
        signs_in(after, seeded)
    nothing = cognate("rotate-master-key", "--data-dir", str(data))
    assert nothing.returncode == 2 and "no accepted master key" in nothing.stderr


def _boto(server: Server, key_id: str, secret: str) -> Any:
    return boto3.client(
        "cognito-idp",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


def test_admin_key_rotation_keeps_the_old_pair_for_the_grace_period() -> None:
    with running_server() as server:
        before = server.credentials
        old = _boto(server, before["AccessKeyId"], before["SecretAccessKey"])
        old.list_user_pools(MaxResults=1)
        rotated = cognate("rotate-admin-key", "--grace", "8", "--data-dir", str(server.data_dir))
        assert rotated.returncode == 0, rotated.stderr
        after = json.loads((server.data_dir / "credentials.json").read_text())
        assert after["AccessKeyId"] != before["AccessKeyId"] and after["AccessKeyId"] in rotated.stdout
        assert after["Previous"]["AccessKeyId"] == before["AccessKeyId"]
        assert (server.data_dir / "credentials.json").stat().st_mode & 0o777 == 0o600
        expires = float(after["Previous"]["Expires"])
        new = _boto(server, after["AccessKeyId"], after["SecretAccessKey"])
        deadline = time.time() + 5
        while True:  # the server reads the file again within a second
            try:
                new.list_user_pools(MaxResults=1)
                break
            except new.exceptions.ClientError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        assert time.time() < expires - 1, "the machine is too slow to see the grace period"
        old.list_user_pools(MaxResults=1)  # both valid
        time.sleep(max(0.0, expires - time.time()) + 0.3)
        with pytest.raises(old.exceptions.ClientError) as refused:
            old.list_user_pools(MaxResults=1)
        assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"
        new.list_user_pools(MaxResults=1)

    fixed = cognate(
        "rotate-admin-key", env={"COGNATE_ACCESS_KEY_ID": "AKIAEXAMPLE", "COGNATE_SECRET_ACCESS_KEY": "x"}
    )
    assert fixed.returncode == 2 and "COGNATE_PREVIOUS_ACCESS_KEY_ID" in fixed.stderr
