"""Triggers in process, with the real invoker (python handlers in worker processes) where a
socket adds nothing: client-credentials tokens (PreTokenGeneration version 3 only), the
NEW_PASSWORD_REQUIRED token source, and the custom sign-in's Session lifetime
(AuthSessionValidity, on a pinned clock)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from cognate.core.context import Door, RequestContext
from cognate.core.outcome import Authenticated, Challenge
from cognate.core.service import Core
from cognate.core.triggers import RecordingInvoker
from cognate.errors import NotAuthorizedException
from cognate.lambdas.invoker import LambdaInvoker
from tests.api.conftest import MakeCore

pytestmark = pytest.mark.anyio
CTX = RequestContext(Door.AWS)
H = "python:tests.support.trigger_handlers:"
FUNCTIONS = {
    "pre-token": H + "pre_token_v2",
    "define": H + "define_auth_challenge_no_srp",
    "create": H + "create_auth_challenge",
    "verify": H + "verify_auth_challenge",
    "trigger": H + "recorder",
}


def arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:000000000000:function:{name}"


@pytest.fixture
async def real(make_core: MakeCore) -> AsyncIterator[Core]:
    invoker = LambdaInvoker(FUNCTIONS, timeout_s=2.0)
    await invoker.start()
    yield await make_core(invoker, FUNCTIONS)
    await invoker.close()


@pytest.mark.parametrize(("version", "changed"), [("V3_0", True), ("V2_0", False)])
async def test_client_credentials_tokens_run_version_3_only(real: Core, version: str, changed: bool) -> None:
    config = {"PreTokenGenerationConfig": {"LambdaArn": arn("pre-token"), "LambdaVersion": version}}
    pool = await real.pools.create({"PoolName": "p", "LambdaConfig": config})
    client = await real.clients.create(pool, {"ClientName": "m2m", "GenerateSecret": True})
    issued = await real.tokens.client_credentials(RequestContext(Door.OAUTH), pool, client, ["api/read"])
    claims = await real.tokens.verify(issued.access_token, token_use="access")
    if changed:
        assert claims["my_first_attribute"] == "first_value" and claims["tenant"] == {"id": 7}
        assert claims["scope"].split() == ["api/read", "openid", "email", "solar-system-data/asteroids.add"]
    else:
        assert "my_first_attribute" not in claims and claims["scope"] == "api/read"


async def test_new_password_challenge_token_source(make_core: MakeCore) -> None:
    invoker = RecordingInvoker()
    core = await make_core(invoker)
    pool = await core.pools.create({"PoolName": "p", "LambdaConfig": {"PreTokenGeneration": arn("trigger")}})
    client = await core.clients.create(
        pool, {"ClientName": "c", "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH"]}
    )
    await core.users.admin_create(
        pool, {"Username": "ann", "TemporaryPassword": "Temp0rary!", "MessageAction": "SUPPRESS"}
    )
    step = await core.auth.initiate(
        CTX, client.id, "USER_PASSWORD_AUTH", {"USERNAME": "ann", "PASSWORD": "Temp0rary!"}
    )
    assert isinstance(step, Challenge)
    done = await core.auth.respond(
        CTX,
        client.id,
        "NEW_PASSWORD_REQUIRED",
        {"USERNAME": "ann", "NEW_PASSWORD": "N3w-Passw0rd!"},
        step.session,
    )
    assert isinstance(done, Authenticated)
    await core.tokens.complete(CTX, done)
    sources = [
        event["triggerSource"] for _, event in invoker.calls if event["triggerSource"].startswith("Token")
    ]
    assert sources == ["TokenGeneration_NewPasswordChallenge"]


async def test_a_custom_session_lives_auth_session_validity_minutes(real: Core) -> None:
    lambdas = {
        "DefineAuthChallenge": arn("define"),
        "CreateAuthChallenge": arn("create"),
        "VerifyAuthChallengeResponse": arn("verify"),
    }
    pool = await real.pools.create({"PoolName": "p", "LambdaConfig": lambdas})
    client = await real.clients.create(
        pool, {"ClientName": "c", "ExplicitAuthFlows": ["ALLOW_CUSTOM_AUTH"], "AuthSessionValidity": 5}
    )
    await real.users.create_confirmed(pool, "ann", "Passw0rd!", {})
    answers: list[Any] = []
    for wait in (4 * 60, 5 * 60 + 1):
        step = await real.auth.initiate(CTX, client.id, "CUSTOM_AUTH", {"USERNAME": "ann"})
        assert isinstance(step, Challenge) and step.name == "CUSTOM_CHALLENGE"
        real.clock.advance(wait)
        try:
            answers.append(
                await real.auth.respond(CTX, client.id, "CUSTOM_CHALLENGE", {"ANSWER": "5"}, step.session)
            )
        except NotAuthorizedException as exc:
            answers.append(exc.message)
    assert isinstance(answers[0], Authenticated)
    assert answers[1] == "Invalid session for the user, session is expired."


async def test_private_challenge_parameters_are_sealed_at_rest(make_core: MakeCore, tmp_path: Any) -> None:
    def answer(_arn: str, event: dict[str, Any]) -> dict[str, Any]:
        source = event["triggerSource"]
        if source.startswith("Define"):
            return {**event, "response": {"challengeName": "CUSTOM_CHALLENGE"}}
        if source.startswith("Create"):
            private = {"answer": "s3cret-answer-xyz"}
            return {
                **event,
                "response": {"publicChallengeParameters": {"q": "?"}, "privateChallengeParameters": private},
            }
        ok = event["request"]["privateChallengeParameters"]["answer"] == event["request"]["challengeAnswer"]
        return {**event, "response": {"answerCorrect": ok}}

    core = await make_core(RecordingInvoker(answer))
    lambdas = {
        k: arn("trigger")
        for k in ("DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse")
    }
    pool = await core.pools.create({"PoolName": "p", "LambdaConfig": lambdas})
    client = await core.clients.create(pool, {"ClientName": "c", "ExplicitAuthFlows": ["ALLOW_CUSTOM_AUTH"]})
    await core.users.create_confirmed(pool, "ann", "Passw0rd!", {})
    step = await core.auth.initiate(CTX, client.id, "CUSTOM_AUTH", {"USERNAME": "ann"})
    assert isinstance(step, Challenge) and step.parameters == {"q": "?", "USERNAME": "ann"}
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("cognate.db*"))
    assert b"s3cret-answer-xyz" not in stored
    with pytest.raises(NotAuthorizedException):  # Define keeps asking; the wrong answer was judged
        for _ in range(20):
            step = await core.auth.respond(
                CTX, client.id, "CUSTOM_CHALLENGE", {"ANSWER": "wrong"}, step.session
            )
            assert isinstance(step, Challenge)
