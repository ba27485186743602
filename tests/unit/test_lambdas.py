"""cognate.lambdas: python handlers in warm worker processes, http(s) handlers, Cognito's errors.

Real handlers (tests/support/trigger_handlers.py), real worker processes, a real HTTP
server; the 5-second wait is shortened as COGNATE_TEST_LAMBDA_TIMEOUT_MS would.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from cognate.core.triggers import function_name, resolve
from cognate.errors import (
    InvalidLambdaResponseException,
    UnexpectedLambdaException,
    UserLambdaValidationException,
)
from cognate.lambdas.invoker import LambdaInvoker, trigger_name
from tests.support.http_handlers import http_handlers

pytestmark = pytest.mark.anyio

H = "python:tests.support.trigger_handlers:"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
FUNCTIONS = {
    "echo": H + "pre_token_echo",
    "context": H + "context_report",
    "naps": H + "naps",
    "raises": H + "raises",
    "sleeps": H + "sleeps",
    "crashes": H + "crashes",
    "bad": H + "bad_answer",
    "nomodule": "python:tests.support.no_such_module:handler",
    "nofunction": H + "no_such_function",
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def event(source: str = "PreSignUp_SignUp") -> dict[str, Any]:
    return {"version": "1", "triggerSource": source, "request": {"userAttributes": {}}, "response": {}}


@pytest.fixture
async def invoker() -> AsyncIterator[LambdaInvoker]:
    inv = LambdaInvoker(FUNCTIONS, timeout_s=0.3)
    await inv.start()
    yield inv
    await inv.close()


def test_functions_are_found_by_name_or_by_whole_arn() -> None:
    functions = {"a": "python:m:a", f"{ARN}b": "python:m:b"}
    assert resolve(functions, f"{ARN}a") == "python:m:a"
    assert resolve(functions, f"{ARN}a:live") == "python:m:a"  # a qualified ARN
    assert resolve(functions, f"{ARN}b") == "python:m:b"
    assert resolve(functions, f"{ARN}c") is None
    assert function_name(f"{ARN}a:live") == "a:live"


def test_trigger_names_in_messages() -> None:
    assert trigger_name(event("PreSignUp_AdminCreateUser")) == "PreSignUp"
    assert trigger_name(event("TokenGeneration_RefreshTokens")) == "PreTokenGeneration"
    assert trigger_name(event("VerifyAuthChallengeResponse_Authentication")) == "VerifyAuthChallengeResponse"


async def test_a_python_handler_runs_with_a_lambda_context(invoker: LambdaInvoker) -> None:
    first = await invoker.invoke(ARN + "context", event())
    second = await invoker.invoke(ARN + "context", event())
    claims = first["response"]["claimsOverrideDetails"]["claimsToAddOrOverride"]
    assert claims["fn"] == "context"
    assert (
        len(claims["rid"]) == 36
        and claims["rid"] != second["response"]["claimsOverrideDetails"]["claimsToAddOrOverride"]["rid"]
    )
    assert 0 < int(claims["left"]) <= 300
    import os

    assert int(claims["pid"]) != os.getpid()  # in a worker process, not the server's


async def test_a_warm_handler_adds_well_under_two_milliseconds(invoker: LambdaInvoker) -> None:
    await invoker.invoke(ARN + "echo", event())
    times = []
    for _ in range(50):
        started = time.perf_counter()
        assert await invoker.invoke(ARN + "echo", event()) == event()
        times.append(time.perf_counter() - started)
    assert sorted(times)[25] < 0.002


async def test_a_raise_is_user_lambda_validation_with_cognitos_message(invoker: LambdaInvoker) -> None:
    with pytest.raises(UserLambdaValidationException) as caught:
        await invoker.invoke(ARN + "raises", event())
    assert caught.value.message == "PreSignUp failed with error Denied by the test handler."


async def test_a_timeout_stops_the_handler_retries_three_times_then_unexpected_lambda(
    invoker: LambdaInvoker,
) -> None:
    started = time.monotonic()
    with pytest.raises(UnexpectedLambdaException) as caught:
        await invoker.invoke(ARN + "sleeps", event("PostAuthentication_Authentication"))
    assert caught.value.message == (
        "PostAuthentication invocation failed due to error Socket timeout while invoking Lambda function."
    )
    assert 0.85 < time.monotonic() - started < 3  # three attempts of 0.3 s, not 30 s of sleep
    assert invoker.pool is not None and len(invoker.pool._all) <= invoker.pool.warm
    assert await invoker.invoke(ARN + "echo", event()) == event()  # the pool recovered


async def test_a_crash_does_not_take_the_server_down(invoker: LambdaInvoker) -> None:
    with pytest.raises(UserLambdaValidationException) as caught:
        await invoker.invoke(ARN + "crashes", event("DefineAuthChallenge_Authentication"))
    assert caught.value.message.startswith("DefineAuthChallenge failed with error RequestId: ")
    assert caught.value.message.endswith("Error: Runtime exited with error: exit status 3.")
    assert await invoker.invoke(ARN + "echo", event()) == event()


async def test_an_answer_that_is_not_an_event_is_invalid_lambda_response(invoker: LambdaInvoker) -> None:
    with pytest.raises(InvalidLambdaResponseException) as caught:
        await invoker.invoke(ARN + "bad", event())
    assert caught.value.message == "Unrecognizable lambda output"


async def test_import_errors_are_reported_as_the_runtime_does(invoker: LambdaInvoker) -> None:
    with pytest.raises(UserLambdaValidationException) as caught:
        await invoker.invoke(ARN + "nomodule", event())
    assert "Unable to import module 'tests.support.no_such_module'" in caught.value.message
    with pytest.raises(UserLambdaValidationException) as caught:
        await invoker.invoke(ARN + "nofunction", event())
    assert "Handler 'no_such_function' missing on module" in caught.value.message


async def test_concurrent_calls_get_more_workers(invoker: LambdaInvoker) -> None:
    invoker.timeout_s = 2.0
    results = await asyncio.gather(*(invoker.invoke(ARN + "naps", event()) for _ in range(3)))
    pids = {r["response"]["claimsOverrideDetails"]["claimsToAddOrOverride"]["pid"] for r in results}
    assert len(pids) == 3


async def test_http_handlers() -> None:
    with http_handlers() as server:
        functions = {
            "ok": f"{server.url}/pre_signup_auto_confirm",
            "raises": f"{server.url}/raises",
            "slow": f"{server.url}/slow",
            "garbage": f"{server.url}/garbage",
            "down": "http://127.0.0.1:9/nothing-listens",
        }
        inv = LambdaInvoker(functions, timeout_s=0.3)
        try:
            answer = await inv.invoke(ARN + "ok", event())
            assert answer["response"] == {"autoConfirmUser": True}
            assert server.calls[0]["event"] == event()
            with pytest.raises(UserLambdaValidationException) as caught:
                await inv.invoke(ARN + "raises", event())
            assert caught.value.message == "PreSignUp failed with error Denied by the test handler."
            with pytest.raises(UnexpectedLambdaException):
                await inv.invoke(ARN + "slow", event())
            assert sum(1 for c in server.calls if c["path"] == "slow") == 3
            with pytest.raises(InvalidLambdaResponseException):
                await inv.invoke(ARN + "garbage", event())
            with pytest.raises(UnexpectedLambdaException) as caught:
                await inv.invoke(ARN + "down", event())
            assert caught.value.message == "PreSignUp invocation failed due to error ConnectError."
        finally:
            await inv.close()
