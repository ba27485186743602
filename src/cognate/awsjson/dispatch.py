"""``POST /``: the AWS JSON 1.1 door.

Order of checks (as AWS's front door does): body size, ``X-Amz-Target`` prefix and
operation, JSON body, authorisation (Signature V4 for IAM operations), input shape;
then the operation. Errors are rendered as AWS does: HTTP 400 (5xx for faults),
``{"__type", "message"}``, ``x-amzn-ErrorType: Name:``. Every response carries CORS
headers so browser SDKs can call the public operations.

This door is a plain ASGI app (no framework objects on the hot path): it sits in
front of the Starlette app for ``/`` only, as measured in bench/.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson

from cognate.awsjson import audit, sigv4, validation
from cognate.awsjson.params import Params
from cognate.awsjson.registry import OPERATIONS, Auth
from cognate.core.service import Core
from cognate.errors import (
    CognateError,
    InternalErrorException,
    RequestEntityTooLargeException,
    SerializationException,
    UnknownOperationException,
)
from cognate.forwarded import Network, source_address
from cognate.logs import new_request_id

log = logging.getLogger("cognate.awsjson")

TARGET_PREFIX = "AWSCognitoIdentityProviderService."
MAX_BODY = 1024 * 1024
# The deepest input shape of cognito-idp nests five levels (a pool's schema constraints);
# anything far deeper is refused before any code walks it.
MAX_DEPTH = 32
CONTENT_TYPE = "application/x-amz-json-1.1"
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, Date",
}
ALLOWED_HEADERS = (
    "content-type, x-amz-target, x-amz-user-agent, cache-control, authorization, x-amz-date, "
    "x-amz-security-token, x-amz-content-sha256, amz-sdk-invocation-id, amz-sdk-request"
)


Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_BASE_HEADERS = [(k.lower().encode(), v.encode()) for k, v in CORS_HEADERS.items()]
_JSON_TYPE = (b"content-type", CONTENT_TYPE.encode())


# Control characters (tab aside) a header value may not hold: uvicorn refuses to send such a
# header and drops the connection instead, so an error message echoing them must lose them.
_HEADER_UNSAFE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _latin1(text: str) -> bytes:
    # Header values must be latin-1, single-line and free of control characters.
    return _HEADER_UNSAFE.sub(" ", text).encode("latin-1", "replace")


async def _send_json(
    send: Send,
    status: int,
    body: dict[str, Any],
    request_id: str,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    payload = orjson.dumps(body)
    headers = [
        _JSON_TYPE,
        (b"content-length", str(len(payload)).encode()),
        (b"x-amzn-requestid", request_id.encode()),
        *_BASE_HEADERS,
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def send_error(send: Send, exc: CognateError, request_id: str) -> None:
    await _send_json(
        send,
        exc.status,
        {"__type": exc.type_name, "message": exc.message},
        request_id,
        [(b"x-amzn-errortype", f"{exc.type_name}:".encode()), (b"x-amzn-errormessage", _latin1(exc.message))],
    )


def _headers(scope: Scope) -> dict[str, str]:
    """Request headers, names lower-cased, repeated ones joined with commas (as SigV4 wants)."""
    merged: dict[str, str] = {}
    for k, v in scope["headers"]:
        name, value = k.decode("latin-1").lower(), v.decode("latin-1")
        merged[name] = f"{merged[name]},{value}" if name in merged else value
    return merged


async def _read_body(headers: dict[str, str], receive: Receive) -> bytes:
    declared = headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > MAX_BODY:
                raise RequestEntityTooLargeException()
        except ValueError:
            raise SerializationException("Invalid Content-Length") from None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise RequestEntityTooLargeException()
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _too_deep(value: Any, limit: int) -> bool:
    """Whether lists and objects nest deeper than ``limit`` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))
    return False


class AwsJsonDoor:
    def __init__(
        self,
        core_getter: Callable[[], Core],
        credentials: Callable[[str], str | None],
        trusted_proxies: Sequence[Network] = (),
    ) -> None:
        self._core = core_getter
        self._credentials = credentials
        self._trusted_proxies = tuple(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if method == "OPTIONS":
            await self._preflight(scope, send)
            return
        request_id = new_request_id()
        headers = _headers(scope)
        if method != "POST":
            exc = UnknownOperationException(f"{method} is not supported on /; use POST")
            await send_error(send, exc, request_id)
            return
        try:
            result = await self._handle(scope, headers, receive)
        except CognateError as exc:
            if exc.detail:  # for the operator's log only; the caller sees type and message
                log.info(
                    "%s %s %s: %s", request_id, headers.get("x-amz-target", "?"), exc.type_name, exc.detail
                )
            await send_error(send, exc, request_id)
            return
        except Exception:
            log.exception("internal error in %s", headers.get("x-amz-target", "?"))
            await send_error(send, InternalErrorException(), request_id)
            return
        await _send_json(send, 200, result, request_id)

    async def _preflight(self, scope: Scope, send: Send) -> None:
        asked = _headers(scope).get("access-control-request-headers")
        headers = [
            (b"access-control-allow-origin", b"*"),
            (b"access-control-allow-methods", b"POST, OPTIONS"),
            (b"access-control-allow-headers", _latin1(asked or ALLOWED_HEADERS)),
            (b"access-control-max-age", b"86400"),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _handle(self, scope: Scope, headers: dict[str, str], receive: Receive) -> dict[str, Any]:
        body_bytes = await _read_body(headers, receive)
        target = headers.get("x-amz-target", "")
        if not target.startswith(TARGET_PREFIX):
            raise UnknownOperationException()
        op = OPERATIONS.get(target[len(TARGET_PREFIX) :])
        if op is None:
            raise UnknownOperationException()
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in (CONTENT_TYPE, "application/x-amz-json-1.0", "application/json"):
            raise SerializationException(f"Unsupported Content-Type: {ctype or 'none'}")
        try:
            # orjson also refuses what json would let through: lone surrogates (escaped or
            # UTF-8-encoded), which no storage or message can carry, and nesting deeper than 1024.
            body = orjson.loads(body_bytes or b"{}")
        except orjson.JSONDecodeError:
            raise SerializationException(
                "Could not parse the request body as JSON "
                "(or it holds invalid Unicode text, or nests too deeply)."
            ) from None
        if not isinstance(body, dict):
            raise SerializationException("Start of list found where not expected")
        if _too_deep(body, MAX_DEPTH):
            raise SerializationException(f"The request body nests more than {MAX_DEPTH} levels deep.")
        access_key = None
        core = self._core()
        if op.auth is Auth.IAM:
            signed = sigv4.SignedRequest(
                method=scope["method"],
                path=scope.get("raw_path", b"/").decode("latin-1") or "/",
                query=scope.get("query_string", b"").decode("latin-1"),
                headers=headers,
                body=body_bytes,
            )
            access_key = sigv4.verify(
                signed,
                self._credentials,
                core.clock.now(),
                region=core.config.region,
                must_sign=("host", "x-amz-target"),
            )
        validation.validate(op.name, body)
        client = scope.get("client")
        source = source_address(
            client[0] if client else None, headers.get("x-forwarded-for"), self._trusted_proxies
        )
        params = Params(
            body,
            access_key_id=access_key,
            source_ip=source or "",
            user_agent=headers.get("user-agent"),
        )
        if access_key is None or not audit.audited(op.name):
            return await op.handler(core, params)
        # An administrator's change: its audit entry once it has answered, ok or not.
        try:
            result = await op.handler(core, params)
        except CognateError as exc:
            await _audit(core, op.name, params, None, exc.type_name)
            raise
        except Exception:
            await _audit(core, op.name, params, None, InternalErrorException.__name__)
            raise
        await _audit(core, op.name, params, result, "ok")
        return result


async def _audit(
    core: Core, operation: str, params: Params, result: dict[str, Any] | None, outcome: str
) -> None:
    """Record the entry; a failure to store it is logged (the log line is written first)."""
    try:
        await core.audit.record(
            params.ctx,
            actor=params.access_key_id or "",
            operation=operation,
            target=audit.target(params.body, result),
            fields=audit.fields(params.body),
            result=outcome,
        )
    except Exception:
        log.exception("writing the audit entry of %s failed", operation)
