"""The real invoker: a function ARN from a pool's LambdaConfig -> its handler -> the answer.

The functions file (functions.py) maps a function name (the part after ``function:``)
or a whole ARN to a handler. Failures become Cognito's errors, with Cognito's words
(developer guide, "Customizing user pool workflows with Lambda triggers"):

- the handler raised (or its runtime crashed): ``UserLambdaValidationException``,
  "<Trigger> failed with error <message>." -- a crash reads as Lambda's
  "RequestId: <id> Error: Runtime exited with error: exit status 1";
- no answer in time: Cognito waits 5 seconds and "If it doesn't [respond] and if the
  call can be retried, Amazon Cognito retries the call. After three unsuccessful
  attempts, the function times out": so three attempts, then
  ``UnexpectedLambdaException``, "<Trigger> invocation failed due to error Socket
  timeout while invoking Lambda function."; an unreachable URL likewise;
- an answer that is not a JSON object: ``InvalidLambdaResponseException``,
  "Unrecognizable lambda output" (what is wrong inside it is the core's to say).

The 5 seconds never change; tests shorten them with ``COGNATE_TEST_LAMBDA_TIMEOUT_MS``.
Events are never logged: a UserMigration event carries a password.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

import orjson

from cognate.core.triggers import function_name, resolve
from cognate.errors import (
    InvalidLambdaResponseException,
    UnexpectedLambdaException,
    UserLambdaValidationException,
)
from cognate.lambdas.http_handler import HandlerError, HandlerUnreachable, HttpHandlers, NotJson
from cognate.lambdas.pool import WorkerDied, WorkerPool, WorkerTimeout

log = logging.getLogger("cognate.lambdas")

TIMEOUT_S = 5.0
ATTEMPTS = 3
UNRECOGNIZABLE = "Unrecognizable lambda output"
TIMEOUT_REASON = "Socket timeout while invoking Lambda function"


def trigger_name(event: dict[str, Any]) -> str:
    """The trigger named in Cognito's messages, from the event's triggerSource."""
    source = str(event.get("triggerSource") or "")
    prefix = source.split("_", 1)[0]
    return "PreTokenGeneration" if prefix == "TokenGeneration" else prefix or "Lambda"


class LambdaInvoker:
    """The core's ``Invoker``: python handlers in warm workers, http(s) handlers by POST."""

    def __init__(
        self,
        functions: Mapping[str, str],
        *,
        timeout_s: float = TIMEOUT_S,
        attempts: int = ATTEMPTS,
        warm_workers: int = 1,
        max_workers: int = 8,
    ) -> None:
        self.functions = dict(functions)
        self.timeout_s = timeout_s
        self.attempts = attempts
        python = [h for h in self.functions.values() if h.startswith("python:")]
        self.pool = WorkerPool(python, warm=warm_workers, max_workers=max_workers) if python else None
        self.http = HttpHandlers()

    def defines(self, arn: str) -> bool:
        return resolve(self.functions, arn) is not None

    async def start(self) -> None:
        if self.pool is not None:
            await self.pool.start()

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
        await self.http.close()

    async def invoke(self, function_arn: str, event: dict[str, Any]) -> dict[str, Any]:
        handler = resolve(self.functions, function_arn)
        trigger = trigger_name(event)
        if handler is None:  # checked when the pool was saved; the file may have changed since
            log.error("%s: no handler for %s in the functions file", trigger, function_arn)
            raise UnexpectedLambdaException(
                f"{trigger} invocation failed due to error ResourceNotFoundException."
            )
        name = function_name(function_arn).split(":", 1)[0]
        reason = TIMEOUT_REASON
        for attempt in range(1, self.attempts + 1):
            request_id = str(uuid.uuid4())
            try:
                result = await self._once(handler, name, function_arn, request_id, event)
            except _Retry as exc:
                reason = str(exc)
                log.warning("%s (%s): attempt %d of %d: %s", trigger, name, attempt, self.attempts, reason)
                continue
            except _Failed as exc:
                log.info("%s (%s) failed: %s", trigger, name, exc)
                raise UserLambdaValidationException(f"{trigger} failed with error {exc}.") from None
            if not isinstance(result, dict):
                log.info("%s (%s) answered something that is not an event", trigger, name)
                raise InvalidLambdaResponseException(UNRECOGNIZABLE)
            return result
        raise UnexpectedLambdaException(f"{trigger} invocation failed due to error {reason}.")

    async def _once(self, handler: str, name: str, arn: str, request_id: str, event: dict[str, Any]) -> Any:
        if handler.startswith("python:"):
            assert self.pool is not None
            request = {
                "handler": handler,
                "function_name": name,
                "function_arn": arn,
                "request_id": request_id,
                "timeout_ms": int(self.timeout_s * 1000),
                "event": event,
            }
            try:
                answer = await self.pool.invoke(orjson.dumps(request), self.timeout_s)
            except WorkerTimeout:
                raise _Retry(TIMEOUT_REASON) from None
            except WorkerDied as exc:
                raise _Failed(f"RequestId: {request_id} Error: {exc}") from None
            if "errorType" in answer:
                if answer["errorType"] == "Runtime.MarshalError":
                    raise InvalidLambdaResponseException(UNRECOGNIZABLE)
                raise _Failed(str(answer.get("errorMessage") or answer["errorType"]))
            return answer.get("result")
        try:
            return await self.http.invoke(handler, orjson.dumps(event), request_id, self.timeout_s)
        except HandlerUnreachable as exc:
            raise _Retry(str(exc)) from None
        except HandlerError as exc:
            raise _Failed(str(exc)) from None
        except NotJson:
            raise InvalidLambdaResponseException(UNRECOGNIZABLE) from None


class _Retry(Exception):
    """This attempt got no answer; another may."""


class _Failed(Exception):
    """The handler's own error: its message goes into Cognito's."""
