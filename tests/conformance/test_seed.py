"""The seed file (docs/seed-file.md): applied at start, idempotent, fixed ids honoured."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.helpers import CLIENT_ID, POOL_ID, UUID, attrs
from tests.support.server import free_port, running_server

# The contract's example, verbatim, plus a fixed-secret client and a pool without a fixed Id.
CONTRACT_EXAMPLE: dict[str, Any] = {
    "UserPools": [
        {
            "Id": "us-east-1_Example01",
            "PoolName": "app",
            "Domain": "app",
            "ResourceServers": [
                {
                    "Identifier": "https://api",
                    "Name": "api",
                    "Scopes": [{"ScopeName": "read", "ScopeDescription": "read"}],
                }
            ],
            "Groups": [{"GroupName": "admins"}],
            "Clients": [
                {
                    "ClientId": "exampleclient000000000000a",
                    "ClientName": "web",
                    "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                    "AllowedOAuthFlows": ["code"],
                    "AllowedOAuthScopes": ["openid", "email"],
                    "AllowedOAuthFlowsUserPoolClient": True,
                    "CallbackURLs": ["http://localhost:3000/callback"],
                }
            ],
            "Users": [
                {
                    "Username": "alice",
                    "Password": "Passw0rd!",
                    "Attributes": [
                        {"Name": "email", "Value": "alice@example.com"},
                        {"Name": "email_verified", "Value": "true"},
                    ],
                    "Groups": ["admins"],
                }
            ],
        }
    ]
}

SERVER_CLIENT = {
    "ClientId": "exampleserver0000000000000",
    "ClientSecret": "exampleSecret0123456789abcdefghijklmnop",
    "ClientName": "server",
    "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    "AllowedOAuthFlows": ["client_credentials"],
    "AllowedOAuthScopes": ["https://api/read"],
    "AllowedOAuthFlowsUserPoolClient": True,
}

POOL_WITHOUT_ID = {
    "PoolName": "seeded-without-id",
    "Policies": {"PasswordPolicy": {"MinimumLength": 6, "RequireSymbols": False}},
    "Clients": [{"ClientName": "mobile"}],
    "Users": [{"Username": "zed", "Password": "zedPass1"}],
}


def seed_doc() -> dict[str, Any]:
    doc = copy.deepcopy(CONTRACT_EXAMPLE)
    doc["UserPools"][0]["Clients"].append(copy.deepcopy(SERVER_CLIENT))
    doc["UserPools"].append(copy.deepcopy(POOL_WITHOUT_ID))
    return doc


@pytest.fixture(scope="module")
def seed_file() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="cognate-seed-") as tmp:
        path = Path(tmp) / "seed.json"
        path.write_text(json.dumps(seed_doc()))
        yield path


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="cognate-seed-data-") as tmp:
        yield Path(tmp) / "data"


def pools_named(idp: Any, name: str) -> list[dict[str, Any]]:
    return [p for p in idp.list_user_pools(MaxResults=60)["UserPools"] if p["Name"] == name]


def snapshot(idp: Any) -> dict[str, Any]:
    """Everything the seed made, as the API shows it."""
    pool_id = "us-east-1_Example01"
    other = pools_named(idp, "seeded-without-id")
    assert len(other) == 1
    other_id = other[0]["Id"]
    return {
        "pools": sorted(p["Id"] for p in idp.list_user_pools(MaxResults=60)["UserPools"]),
        "clients": sorted(
            c["ClientId"]
            for c in idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
        ),
        "other_clients": sorted(
            (c["ClientId"], c["ClientName"])
            for c in idp.list_user_pool_clients(UserPoolId=other_id, MaxResults=60)["UserPoolClients"]
        ),
        "users": sorted(
            (u["Username"], attrs(u["Attributes"])["sub"])
            for u in idp.list_users(UserPoolId=pool_id)["Users"]
        ),
        "other_users": sorted(
            (u["Username"], attrs(u["Attributes"])["sub"])
            for u in idp.list_users(UserPoolId=other_id)["Users"]
        ),
        "groups": sorted(g["GroupName"] for g in idp.list_groups(UserPoolId=pool_id)["Groups"]),
        "alice_groups": [
            g["GroupName"]
            for g in idp.admin_list_groups_for_user(UserPoolId=pool_id, Username="alice")["Groups"]
        ],
        "resource_servers": [
            rs["Identifier"]
            for rs in idp.list_resource_servers(UserPoolId=pool_id, MaxResults=50)["ResourceServers"]
        ],
    }


def test_seed_applied_then_idempotent_across_restarts(seed_file: Path, data_dir: Path) -> None:
    with running_server("--seed", str(seed_file), data_dir=data_dir) as srv:
        idp = srv.boto()
        pool = idp.describe_user_pool(UserPoolId="us-east-1_Example01")["UserPool"]
        assert pool["Name"] == "app"
        assert pool["Domain"] == "app"

        web = idp.describe_user_pool_client(UserPoolId=pool["Id"], ClientId="exampleclient000000000000a")[
            "UserPoolClient"
        ]
        assert web["ClientName"] == "web"
        assert "ClientSecret" not in web
        assert web["AllowedOAuthFlows"] == ["code"]
        assert web["CallbackURLs"] == ["http://localhost:3000/callback"]
        assert sorted(web["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]

        backend = idp.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=SERVER_CLIENT["ClientId"])[
            "UserPoolClient"
        ]
        assert backend["ClientSecret"] == SERVER_CLIENT["ClientSecret"]
        assert backend["AllowedOAuthFlows"] == ["client_credentials"]

        alice = idp.admin_get_user(UserPoolId=pool["Id"], Username="alice")
        assert alice["UserStatus"] == "CONFIRMED"
        assert alice["Enabled"] is True
        alice_attrs = attrs(alice["UserAttributes"])
        assert alice_attrs["email"] == "alice@example.com"
        assert alice_attrs["email_verified"] == "true"
        assert UUID.match(alice_attrs["sub"])

        groups = idp.admin_list_groups_for_user(UserPoolId=pool["Id"], Username="alice")["Groups"]
        assert [g["GroupName"] for g in groups] == ["admins"]
        rs = idp.describe_resource_server(UserPoolId=pool["Id"], Identifier="https://api")["ResourceServer"]
        assert rs["Name"] == "api"
        assert rs["Scopes"] == [{"ScopeName": "read", "ScopeDescription": "read"}]
        domain = idp.describe_user_pool_domain(Domain="app")["DomainDescription"]
        assert domain["UserPoolId"] == pool["Id"]

        other = pools_named(idp, "seeded-without-id")
        assert len(other) == 1
        other_id = other[0]["Id"]
        assert POOL_ID.match(other_id)
        assert (
            idp.describe_user_pool(UserPoolId=other_id)["UserPool"]["Policies"]["PasswordPolicy"][
                "MinimumLength"
            ]
            == 6
        )
        mobile = idp.list_user_pool_clients(UserPoolId=other_id, MaxResults=60)["UserPoolClients"]
        assert [c["ClientName"] for c in mobile] == ["mobile"]
        assert CLIENT_ID.match(mobile[0]["ClientId"])
        assert idp.admin_get_user(UserPoolId=other_id, Username="zed")["UserStatus"] == "CONFIRMED"

        # Made through the API between two starts: must survive re-seeding untouched.
        idp.admin_create_user(UserPoolId=pool["Id"], Username="bob", MessageAction="SUPPRESS")
        idp.admin_add_user_to_group(UserPoolId=pool["Id"], Username="bob", GroupName="admins")
        idp.create_group(UserPoolId=pool["Id"], GroupName="editors")
        extra_client = idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName="extra")[
            "UserPoolClient"
        ]
        idp.admin_update_user_attributes(
            UserPoolId=pool["Id"], Username="alice", UserAttributes=[{"Name": "given_name", "Value": "Alice"}]
        )
        api_pool = idp.create_user_pool(PoolName="made-by-api")["UserPool"]["Id"]
        before = snapshot(idp)

    with running_server("--seed", str(seed_file), data_dir=data_dir) as srv:
        idp = srv.boto()
        after = snapshot(idp)
        assert after == before, "re-applying the seed changes nothing"
        assert api_pool in after["pools"]
        assert extra_client["ClientId"] in after["clients"]
        assert ("bob", dict(before["users"])["bob"]) in after["users"]
        assert "editors" in after["groups"]
        alice_now = attrs(
            idp.admin_get_user(UserPoolId="us-east-1_Example01", Username="alice")["UserAttributes"]
        )
        assert alice_now["sub"] == alice_attrs["sub"]
        assert alice_now["given_name"] == "Alice"
        assert sorted(
            u["Username"]
            for u in idp.list_users_in_group(UserPoolId="us-east-1_Example01", GroupName="admins")["Users"]
        ) == ["alice", "bob"]
        assert len(pools_named(idp, "app")) == 1
        assert len(pools_named(idp, "seeded-without-id")) == 1


def test_seed_from_environment_variable_and_seeded_users_sign_in(seed_file: Path, tmp_path: Path) -> None:
    """COGNATE_SEED works like --seed; seeded users sign in by the flows their client allows."""
    with running_server(data_dir=tmp_path / "data", env={"COGNATE_SEED": str(seed_file)}) as srv:
        idp = srv.boto()
        pool = idp.describe_user_pool(UserPoolId="us-east-1_Example01")["UserPool"]
        assert pool["Name"] == "app"

        # The server client (a fixed secret, ALLOW_ADMIN_USER_PASSWORD_AUTH): password sign-in.
        digest = hmac.new(
            SERVER_CLIENT["ClientSecret"].encode(),
            ("alice" + SERVER_CLIENT["ClientId"]).encode(),
            hashlib.sha256,
        ).digest()
        try:
            result = idp.admin_initiate_auth(
                UserPoolId=pool["Id"],
                ClientId=SERVER_CLIENT["ClientId"],
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={
                    "USERNAME": "alice",
                    "PASSWORD": "Passw0rd!",
                    "SECRET_HASH": base64.b64encode(digest).decode(),
                },
            )
        except idp.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] == "UnknownOperationException":
                pytest.skip("sign-in operations are not registered yet")
            raise
        assert result["AuthenticationResult"]["AccessToken"]

        # The contract's web client allows SRP only: alice signs in with SRP (pycognito's client).
        from pycognito.aws_srp import AWSSRP

        srp = AWSSRP(
            username="alice",
            password="Passw0rd!",
            pool_id=pool["Id"],
            client_id="exampleclient000000000000a",
            client=srv.boto(signed=False),
        )
        tokens = srp.authenticate_user()
        assert tokens["AuthenticationResult"]["IdToken"]
        with pytest.raises(idp.exceptions.NotAuthorizedException):
            AWSSRP(
                username="alice",
                password="Wr0ng-password!",
                pool_id=pool["Id"],
                client_id="exampleclient000000000000a",
                client=srv.boto(signed=False),
            ).authenticate_user()


def start_with_seed(tmp_path: Path, content: str | None) -> subprocess.CompletedProcess[str]:
    seed = tmp_path / "seed.json"
    if content is not None:
        seed.write_text(content)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COGNATE_")}
    env["COGNATE_TEST_PASSWORD_HASH_COST"] = "low"
    cmd = [sys.executable, "-m", "cognate.cli", "serve", "--port", str(free_port())]
    cmd += ["--data-dir", str(tmp_path / "data"), "--seed", str(seed)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)


def bad_pool(**changes: Any) -> str:
    pool: dict[str, Any] = {"PoolName": "bad", **changes}
    return json.dumps({"UserPools": [pool]})


CHECKED_BEFORE_START = [
    pytest.param("{not json", "seed.json", id="not-json"),
    pytest.param("[]", "UserPools", id="not-an-object"),
    pytest.param('{"UserPools": {}}', "UserPools", id="pools-not-a-list"),
    pytest.param('{"Pools": []}', "Pools", id="unknown-top-level-key"),
    pytest.param('{"UserPools": [42]}', "UserPools[0]", id="pool-not-an-object"),
    pytest.param(bad_pool(PoolName=None), "poolName", id="pool-without-name"),
    pytest.param(bad_pool(Client=[]), "Client", id="typo-in-pool-key"),
    pytest.param(bad_pool(MfaConfiguration="SOMETIMES"), "mfaConfiguration", id="invalid-pool-field"),
    pytest.param(bad_pool(Id="not a pool id"), "Id", id="malformed-pool-id"),
    pytest.param(
        bad_pool(Clients=[{"ClientName": "c", "CallbackURLs": "http://localhost/cb"}]),
        "callbackURLs",
        id="callbacks-not-a-list",
    ),
    pytest.param(
        bad_pool(Clients=[{"ClientId": "bad id!", "ClientName": "c"}]), "ClientId", id="bad-client-id"
    ),
    pytest.param(
        bad_pool(Clients=[{"ClientSecret": "short", "ClientName": "c"}]), "clientSecret", id="short-secret"
    ),
    pytest.param(bad_pool(Users=[{"Username": "u"}]), "Password", id="user-without-password"),
    pytest.param(
        bad_pool(Users=[{"Username": "u", "Password": "x", "Email": "a"}]), "Email", id="unknown-user-key"
    ),
    pytest.param(bad_pool(Groups=[{"Description": "no name"}]), "groupName", id="group-without-name"),
    pytest.param(bad_pool(ResourceServers=[{"Identifier": "x"}]), "name", id="resource-server-without-name"),
]


@pytest.mark.parametrize(("content", "expected"), CHECKED_BEFORE_START)
def test_bad_seed_file_is_refused_with_a_message_naming_the_place(
    tmp_path: Path, content: str, expected: str
) -> None:
    from cognate import seed

    path = tmp_path / "seed.json"
    path.write_text(content)
    with pytest.raises(seed.SeedError) as err:
        seed.load(str(path))
    assert expected in str(err.value)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(None, "seed.json", id="missing-file"),
        pytest.param(bad_pool(Id="not a pool id"), "not a user pool id", id="checked-before-start"),
        pytest.param(
            bad_pool(Clients=[{"ClientName": "c", "CallbackURLs": ["http://evil.example/cb"]}]),
            "http://evil.example/cb",
            id="refused-by-the-core",
        ),
        pytest.param(
            bad_pool(Users=[{"Username": "u", "Password": "weak"}]),
            "InvalidPasswordException",
            id="weak-password",
        ),
        pytest.param(
            bad_pool(Users=[{"Username": "u", "Password": "Passw0rd!", "Groups": ["nope"]}]),
            "'nope' does not exist",
            id="unknown-group",
        ),
    ],
)
def test_bad_seed_file_exits_non_zero_with_a_clear_message(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    proc = start_with_seed(tmp_path, content)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "seed" in proc.stderr.lower(), proc.stderr
    assert expected in proc.stderr, proc.stderr
