"""Every AWS-door operation under fire (issue 14): Hypothesis builds bodies from botocore's
cognito-idp input shapes, then mutates them (wrong types, missing and extra fields, huge,
empty, Unicode and control-character strings, deep nesting, bodies that are not objects).
Every answer must be a 200 or a Cognito-shaped 4xx (``__type`` + ``message``), never a 5xx
or a hang; afterwards the application still serves and the store's invariants hold.

Bounded for CI (a few examples per operation); ``COGNATE_FUZZ_EXAMPLES=N`` runs N each.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given

from cognate.awsjson.registry import Auth, load_all
from tests.fuzz.strategies import check_answer, post, raw_bodies
from tests.fuzz.support import (
    Running,
    assert_sendable_headers,
    check_store_invariants,
    fuzz_settings,
    running_app,
)

OPERATIONS = load_all()
PASSWORD = "Passw0rd!"
DEFAULT_EXAMPLES = 12  # per operation in CI; COGNATE_FUZZ_EXAMPLES=N for a longer run


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[Running]:
    with running_app(tmp_path_factory.mktemp("fuzz"), pytestconfig) as app:
        yield app
        check_store_invariants(app.api.data_dir)


def make_world(running: Running, name: str) -> dict[str, Any]:
    """A pool of its own for one operation's fuzz (what one operation's inputs delete or break
    stays there): a client, a signed-in user with a verified email alias, a group, a resource
    server and a domain; the values the fuzz mixes into its inputs."""
    api = running.api
    tag = "".join(c for c in name.lower() if c.isalnum())[:40]
    pool = running.run(api.admin("CreateUserPool", {"PoolName": f"fuzz-{tag}", "AliasAttributes": ["email"]}))
    pool_id = pool["UserPool"]["Id"]
    client = running.run(
        api.admin(
            "CreateUserPoolClient",
            {
                "UserPoolId": pool_id,
                "ClientName": "c",
                "ExplicitAuthFlows": [
                    "ALLOW_USER_PASSWORD_AUTH",
                    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                    "ALLOW_USER_SRP_AUTH",
                    "ALLOW_REFRESH_TOKEN_AUTH",
                ],
            },
        )
    )
    client_id = client["UserPoolClient"]["ClientId"]
    running.run(
        api.admin(
            "AdminCreateUser",
            {
                "UserPoolId": pool_id,
                "Username": "ann",
                "TemporaryPassword": PASSWORD,
                "MessageAction": "SUPPRESS",
                "UserAttributes": [
                    {"Name": "email", "Value": "ann@example.com"},
                    {"Name": "email_verified", "Value": "true"},
                ],
            },
        )
    )
    running.run(
        api.admin(
            "AdminSetUserPassword",
            {"UserPoolId": pool_id, "Username": "ann", "Password": PASSWORD, "Permanent": True},
        )
    )
    running.run(api.admin("CreateGroup", {"UserPoolId": pool_id, "GroupName": "g"}))
    running.run(
        api.admin("AdminAddUserToGroup", {"UserPoolId": pool_id, "Username": "ann", "GroupName": "g"})
    )
    running.run(
        api.admin(
            "CreateResourceServer",
            {"UserPoolId": pool_id, "Identifier": "https://api.example", "Name": "api"},
        )
    )
    running.run(api.admin("CreateUserPoolDomain", {"UserPoolId": pool_id, "Domain": f"d-{tag}"}))
    signed_in = running.run(
        api.ok(
            "InitiateAuth",
            {
                "ClientId": client_id,
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": "ann", "PASSWORD": PASSWORD},
            },
        )
    )
    tokens = signed_in["AuthenticationResult"]
    return {
        "UserPoolId": pool_id,
        "ClientId": client_id,
        "Username": "ann",
        "GroupName": "g",
        "Identifier": "https://api.example",
        "Domain": f"d-{tag}",
        "ResourceArn": pool["UserPool"]["Arn"],
        "AccessToken": tokens["AccessToken"],
        "Token": tokens["RefreshToken"],
        "RefreshToken": tokens["RefreshToken"],
        "AuthParameters": {"USERNAME": "ann", "PASSWORD": PASSWORD},
        "Password": PASSWORD,
        "PreviousPassword": PASSWORD,
        "AttributeName": "email",
    }


COUNTS: dict[str, int] = {}
STATUSES: dict[str, dict[int, int]] = {}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_operation_answers_4xx_never_5xx(running: Running, operation: str) -> None:
    known = make_world(running, operation)
    signed = OPERATIONS[operation].auth is Auth.IAM

    @fuzz_settings(default=DEFAULT_EXAMPLES)
    @given(payload=raw_bodies(operation, known))
    def attempt(payload: bytes) -> None:
        COUNTS[operation] = COUNTS.get(operation, 0) + 1
        resp = post(running, operation, payload, signed=signed)
        seen = STATUSES.setdefault(operation, {})
        seen[resp.status_code] = seen.get(resp.status_code, 0) + 1
        check_answer(resp, operation, payload[:300])

    attempt()
    check_store_invariants(running.api.data_dir)


def test_every_registered_operation_was_fuzzed(running: Running) -> None:
    """The parametrisation comes from the registry: an operation added later is fuzzed too."""
    assert set(COUNTS) == set(load_all()), sorted(set(load_all()) ^ set(COUNTS))


def test_still_healthy_after_the_fire(running: Running) -> None:
    api = running.api
    assert running.run(api.http.get("/health")).status_code == 200
    pool_id = running.run(api.admin("CreateUserPool", {"PoolName": "after"}))["UserPool"]["Id"]
    cid = running.run(api.admin("CreateUserPoolClient", {"UserPoolId": pool_id, "ClientName": "c"}))[
        "UserPoolClient"
    ]["ClientId"]
    running.run(api.ok("SignUp", {"ClientId": cid, "Username": "zed", "Password": PASSWORD}))
    running.run(api.admin("AdminConfirmSignUp", {"UserPoolId": pool_id, "Username": "zed"}))
    users = running.run(api.admin("ListUsers", {"UserPoolId": pool_id}))["Users"]
    assert [u["Username"] for u in users] == ["zed"]
    assert any(a["Name"] == "sub" for a in users[0]["Attributes"])
    check_store_invariants(api.data_dir)
    total = sum(COUNTS.values())
    print(f"\nfuzzed {len(COUNTS)} operations, {total} inputs: {json.dumps(COUNTS, sort_keys=True)}")
    print("statuses per operation: " + json.dumps({k: STATUSES[k] for k in sorted(STATUSES)}))


def test_an_error_message_echoing_control_characters_keeps_its_header_sendable(running: Running) -> None:
    """Found by the fuzz over TCP: a validation message quoting a value with a control
    character went into ``x-amzn-ErrorMessage`` as it was; uvicorn refused the header and
    dropped the connection with no answer at all. The body keeps the message whole."""
    payload = json.dumps({"UserPoolId": "\x1f\x00", "Username": "a\x7fb", "GroupName": "\x1b[31m"}).encode()
    resp = post(running, "AdminAddUserToGroup", payload, signed=True)
    assert resp.status_code == 400, resp.text
    assert resp.json()["__type"] == "InvalidParameterException"
    assert_sendable_headers(resp)
    assert "\x1f" in resp.json()["message"]
