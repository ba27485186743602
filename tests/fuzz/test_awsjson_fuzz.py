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
from hypothesis import strategies as st

from cognate.awsjson.registry import Auth, load_all
from tests.fuzz.strategies import JSON_ANY, MODEL, TEXT, check_answer, post
from tests.fuzz.support import Running, check_store_invariants, fuzz_settings, running_app

OPERATIONS = load_all()
PASSWORD = "Passw0rd!"
DEFAULT_EXAMPLES = 12  # per operation in CI; COGNATE_FUZZ_EXAMPLES=N for a longer run

OVERSIZED = b'{"a":"' + b"a" * (1024 * 1024) + b'"}'  # over the 1 MiB body limit
DEEP = "\u2063deep\u2063"  # a placeholder value the encoder turns into deep nesting (see raw_bodies)


def deep(depth: int) -> bytes:
    """A body nested ``depth`` levels (as bytes: Python's own encoder would recurse)."""
    return b'{"a":[' * depth + b"1" + b"]}" * depth


def from_shape(shape: Any, known: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if kind == "structure":
        if depth > 4:
            return st.just({})
        required = set(shape.required_members)
        members = {name: _member(name, member, known, depth) for name, member in shape.members.items()}
        return st.fixed_dictionaries(
            {k: v for k, v in members.items() if k in required},
            optional={k: v for k, v in members.items() if k not in required},
        )
    if kind == "list":
        return st.lists(from_shape(shape.member, known, depth + 1), max_size=3)
    if kind == "map":
        return st.dictionaries(
            from_shape(shape.key, known, depth + 1), from_shape(shape.value, known, depth + 1), max_size=3
        )
    if kind == "string":
        if shape.enum:
            return st.sampled_from(shape.enum) | TEXT
        return TEXT
    if kind in ("integer", "long"):
        return st.integers(-(2**63), 2**63) | st.integers(-5, 100)
    if kind == "boolean":
        return st.booleans()
    if kind in ("double", "float"):
        return st.floats(allow_nan=False)
    if kind == "timestamp":
        return st.integers(0, 2**40) | TEXT
    return TEXT  # blob and anything new


def _member(name: str, member: Any, known: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    shaped = from_shape(member, known, depth + 1)
    if name in known:
        return st.one_of(st.just(known[name]), shaped)
    return shaped


def mutate(body: dict[str, Any]) -> st.SearchStrategy[Any]:
    keys = sorted(body)
    choices: list[st.SearchStrategy[Any]] = [
        st.just(body),
        st.builds(lambda k, v: {**body, k: v}, TEXT, JSON_ANY),  # an extra field
        st.builds(lambda k: {**body, k: DEEP}, TEXT),  # an extra field, deeply nested
        JSON_ANY,  # not the shape at all
    ]
    if keys:
        choices += [
            st.sets(st.sampled_from(keys), min_size=1).map(  # missing fields
                lambda gone: {n: v for n, v in body.items() if n not in gone}
            ),
            st.builds(lambda k, v: {**body, k: v}, st.sampled_from(keys), JSON_ANY),  # wrong type
            st.builds(lambda k: {**body, k: DEEP}, st.sampled_from(keys)),  # a known field, deeply nested
        ]
    return st.one_of(choices)


def _encode(body: Any, depth: int) -> bytes:
    nested = b"[" * depth + b"1" + b"]" * depth
    return json.dumps(body).encode().replace(json.dumps(DEEP).encode(), nested)


def input_shape(operation: str) -> Any:
    """botocore's input shape of ``operation`` (None for an operation this botocore lacks)."""
    if operation not in MODEL.operation_names:
        return None
    return MODEL.operation_model(operation).input_shape


def raw_bodies(operation: str, known: dict[str, Any]) -> st.SearchStrategy[bytes]:
    shape = input_shape(operation)
    bodies = from_shape(shape, known).flatmap(mutate) if shape is not None else JSON_ANY
    encoded = st.builds(_encode, bodies, st.sampled_from([3, 100, 5000]))
    garbage = st.sampled_from(
        [b"", b"{", b"\xff\xfe", b"[]", b"null", b'{"a":1,"a":2}', b"1e999999", OVERSIZED]
    )
    nested = st.sampled_from([100, 5000, 100000]).map(deep)
    return st.one_of(encoded, encoded, encoded, garbage | st.binary(max_size=64) | nested)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with running_app(tmp_path_factory.mktemp("fuzz")) as app:
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
