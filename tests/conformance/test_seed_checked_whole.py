"""The seed file is checked whole, the core's own rules included, before anything is written;
it can mark attributes verified, so ForgotPassword reaches seeded users."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.test_seed import start_with_seed
from tests.support.server import running_server

GOOD = {"Username": "good", "Password": "Passw0rd!"}


def two_pools(second_users: list[dict[str, Any]], **second: Any) -> str:
    """A valid first pool, then a second whose content only the core can refuse."""
    return json.dumps(
        {
            "UserPools": [
                {"PoolName": "fine", "Users": [GOOD], "Clients": [{"ClientName": "c"}]},
                {"PoolName": "broken", "Users": second_users, **second},
            ]
        }
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            two_pools([{"Username": "u", "Password": "longenough"}]),
            "Password must have uppercase characters",
            id="default-policy",
        ),
        pytest.param(
            two_pools(
                [{"Username": "u", "Password": "Passw0rd!"}],
                Policies={"PasswordPolicy": {"MinimumLength": 12}},
            ),
            "Password not long enough",
            id="pool-policy",
        ),
        pytest.param(
            two_pools(
                [
                    {
                        "Username": "u",
                        "Password": "Passw0rd!",
                        "Attributes": [{"Name": "custom:x", "Value": "1"}],
                    }
                ]
            ),
            "custom:x",
            id="attribute-not-in-schema",
        ),
        pytest.param(
            two_pools([{"Username": "u", "Password": "Passw0rd!", "Groups": ["admins"]}]),
            "'admins' does not exist",
            id="group-not-declared",
        ),
    ],
)
def test_nothing_is_written_when_any_part_of_the_file_is_refused(
    tmp_path: Path, content: str, expected: str
) -> None:
    proc = start_with_seed(tmp_path, content)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("cognate: ")]
    assert len(errors) == 1 and expected in errors[0], proc.stderr
    assert str(tmp_path / "seed.json") in errors[0]
    assert "broken" in errors[0]
    assert not (tmp_path / "data").exists()  # not even the first, valid pool


def test_seed_can_mark_attributes_verified_so_forgot_password_reaches_the_user(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    client = {
        "ClientId": "seededclient00000000000001",
        "ClientName": "web",
        "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    }
    seed.write_text(
        json.dumps(
            {
                "UserPools": [
                    {
                        "Id": "us-east-1_Verified1",
                        "PoolName": "verified",
                        "AutoVerifiedAttributes": ["email"],
                        "Clients": [client],
                        "Users": [
                            {
                                "Username": "vera",
                                "Password": "Passw0rd!",
                                "Attributes": [
                                    {"Name": "email", "Value": "vera@example.com"},
                                    {"Name": "email_verified", "Value": "true"},
                                ],
                            },
                            {
                                "Username": "una",
                                "Password": "Passw0rd!",
                                "Attributes": [{"Name": "email", "Value": "una@example.com"}],
                            },
                        ],
                    }
                ]
            }
        )
    )
    with running_server("--seed", str(seed), data_dir=tmp_path / "d") as srv:
        public = srv.boto(signed=False)
        sent = public.forgot_password(ClientId=client["ClientId"], Username="vera")
        assert sent["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
        message = srv.outbox()[-1]
        assert message["to"] == "vera@example.com" and message["kind"] == "reset"
        public.confirm_forgot_password(
            ClientId=client["ClientId"],
            Username="vera",
            ConfirmationCode=message["code"],
            Password="N3w-Passw0rd!",
        )
        signed_in = srv.boto().admin_initiate_auth(
            UserPoolId="us-east-1_Verified1", ClientId=client["ClientId"],
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "vera", "PASSWORD": "N3w-Passw0rd!"},
        )  # fmt: skip
        assert "AuthenticationResult" in signed_in
        # The log says which seeded users cannot be reached, and how to fix it.
        log = srv.log()
        assert "email of user una is not verified" in log and "email_verified" in log
        assert "user vera is not verified" not in log
