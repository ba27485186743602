"""core/triggers.py call sites (issue 6): each trigger point is called from one place in the
core, with the request context the door filled; a RecordingInvoker stands in for the pool's
functions (the functions themselves are issue 10's)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

import cognate.core
from cognate.core.context import Door, RequestContext
from cognate.core.outcome import Authenticated
from cognate.core.triggers import RecordingInvoker, Triggers
from cognate.errors import NotAuthorizedException, UserLambdaValidationException, UserNotFoundException
from tests.api.conftest import MakeCore

pytestmark = pytest.mark.anyio
PASSWORD = "Passw0rd!"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
CTX = RequestContext(Door.AWS, source_ip="192.0.2.7", client_metadata={"k": "v"})
POINTS = [
    "pre_sign_up",
    "post_confirmation",
    "pre_authentication",
    "post_authentication",
    "pre_token_generation",
    "user_migration",
    "custom_message",
    "define_auth_challenge",
    "create_auth_challenge",
    "verify_auth_challenge_response",
]


def arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:000000000000:function:{name}"


def call_sites() -> dict[str, list[str]]:
    """``<something>.triggers.<point>(`` calls in the core, by point."""
    found: dict[str, list[str]] = {p: [] for p in POINTS}
    root = Path(cognate.core.__file__).parent
    for path in sorted(root.glob("*.py")):
        if path.name == "triggers.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in found
                and isinstance(node.func.value, ast.Attribute)
                and node.func.value.attr == "triggers"
            ):
                found[node.func.attr].append(f"{path.name}:{node.lineno}")
    return found


def test_every_trigger_point_has_exactly_one_call_site() -> None:
    assert set(POINTS) <= {name for name in vars(Triggers) if not name.startswith("_")}
    sites = call_sites()
    assert {p: s for p, s in sites.items() if len(s) > 1} == {}
    assert {p: s for p, s in sites.items() if len(s) != 1} == {}


async def setup(make_core: MakeCore, answer: Any = None, **client_fields: Any) -> tuple[Any, Any, Any]:
    invoker = RecordingInvoker(answer)
    core = await make_core(invoker)
    config = {"PreAuthentication": arn("pre"), "PostAuthentication": arn("post")}
    pool = await core.pools.create({"PoolName": "p", "LambdaConfig": config})
    client = await core.clients.create(pool, {"ClientName": "c", "ExplicitAuthFlows": FLOWS, **client_fields})
    await core.users.create_confirmed(pool, "ann", PASSWORD, {"email": "ann@example.com"})
    return core, client, invoker


async def sign_in(core: Any, client_id: str, username: str = "ann", password: str = PASSWORD) -> Any:
    params = {"USERNAME": username, "PASSWORD": password}
    return await core.auth.initiate(CTX, client_id, "USER_PASSWORD_AUTH", params)


async def test_sign_in_calls_pre_then_post_authentication(make_core: MakeCore) -> None:
    core, client, invoker = await setup(make_core)
    step = await sign_in(core, client.id)
    assert isinstance(step, Authenticated)
    assert [(a, e["triggerSource"]) for a, e in invoker.calls] == [
        (arn("pre"), "PreAuthentication_Authentication"),
        (arn("post"), "PostAuthentication_Authentication"),
    ]
    pre, post = (e for _, e in invoker.calls)
    assert pre["request"]["validationData"] == {"k": "v"} and pre["request"]["userNotFound"] is False
    assert post["request"]["clientMetadata"] == {"k": "v"}
    assert pre["callerContext"]["clientId"] == client.id and post["userName"] == "ann"
    # A refresh is not a sign-in: neither function hears of it.
    issued = await core.tokens.complete(CTX, step)
    await core.auth.initiate(CTX, client.id, "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": issued.refresh_token})
    assert len(invoker.calls) == 2


async def test_pre_authentication_can_deny(make_core: MakeCore) -> None:
    def deny(function: str, event: dict[str, Any]) -> dict[str, Any]:
        if function == arn("pre"):
            raise UserLambdaValidationException("PreAuthentication failed with error Not today.")
        return event

    core, client, invoker = await setup(make_core, deny)
    with pytest.raises(UserLambdaValidationException, match="Not today"):
        await sign_in(core, client.id)
    assert [a for a, _ in invoker.calls] == [arn("pre")]  # no password checked, no PostAuthentication


async def test_a_wrong_password_never_reaches_post_authentication(make_core: MakeCore) -> None:
    core, client, invoker = await setup(make_core)
    with pytest.raises(NotAuthorizedException):
        await sign_in(core, client.id, password="Wrong-pass1!")
    assert [a for a, _ in invoker.calls] == [arn("pre")]


async def test_unknown_users_reach_pre_authentication_only_when_hidden(make_core: MakeCore) -> None:
    core, client, invoker = await setup(make_core)
    with pytest.raises(UserNotFoundException):
        await sign_in(core, client.id, "nobody")
    assert invoker.calls == []
    hidden = await core.clients.create(
        (await core.client_auth.client(CTX, client.id))[0],
        {"ClientName": "h", "ExplicitAuthFlows": FLOWS, "PreventUserExistenceErrors": "ENABLED"},
    )
    with pytest.raises(NotAuthorizedException):
        await sign_in(core, hidden.id, "nobody")
    [(_, event)] = invoker.calls
    assert event["request"]["userNotFound"] is True and event["userName"] == "nobody"
