"""``POST /``: the AWS JSON 1.1 door.

Order of checks (as AWS's front door does): body size, ``X-Amz-Target`` prefix and
operation, JSON body, authorisation (Signature V4 for IAM operations), input shape;
then the operation. Errors are rendered as AWS does: HTTP 400 (5xx for faults),
``{"__type", "message"}``, ``x-amzn-ErrorType: Name:``. Every response carries CORS
headers so browser SDKs can call the public operations.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from cognate.awsjson import sigv4, validation
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

log = logging.getLogger("cognate.awsjson")

TARGET_PREFIX = "AWSCognitoIdentityProviderService."
MAX_BODY = 1024 * 1024
CONTENT_TYPE = "application/x-amz-json-1.1"
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, Date",
}
ALLOWED_HEADERS = (
    "content-type, x-amz-target, x-amz-user-agent, cache-control, authorization, x-amz-date, "
    "x-amz-security-token, x-amz-content-sha256, amz-sdk-invocation-id, amz-sdk-request"
)


def _response(
    status: int, body: dict[str, Any], request_id: str, extra: dict[str, str] | None = None
) -> Response:
    headers = {"x-amzn-RequestId": request_id, **CORS_HEADERS, **(extra or {})}
    return Response(
        json.dumps(body, separators=(",", ":")), status_code=status, media_type=CONTENT_TYPE, headers=headers
    )


def error_response(exc: CognateError, request_id: str) -> Response:
    # Header values must be latin-1 and single-line.
    message = exc.message.replace("\r", " ").replace("\n", " ").encode("latin-1", "replace").decode("latin-1")
    return _response(
        exc.status,
        {"__type": exc.type_name, "message": exc.message},
        request_id,
        {"x-amzn-ErrorType": f"{exc.type_name}:", "x-amzn-ErrorMessage": message},
    )


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > MAX_BODY:
                raise RequestEntityTooLargeException()
        except ValueError:
            raise SerializationException("Invalid Content-Length") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise RequestEntityTooLargeException()
        chunks.append(chunk)
    return b"".join(chunks)


class AwsJsonDoor:
    def __init__(self, core_getter: Callable[[], Core], credentials: Callable[[str], str | None]) -> None:
        self._core = core_getter
        self._credentials = credentials

    async def preflight(self, request: Request) -> Response:
        asked = request.headers.get("access-control-request-headers")
        return Response(
            status_code=200,
            headers={
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Allow-Methods": "POST, OPTIONS",
                "Access-Control-Allow-Headers": asked or ALLOWED_HEADERS,
                "Access-Control-Max-Age": "86400",
            },
        )

    async def handle(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return await self.preflight(request)
        request_id = str(uuid.uuid4())
        try:
            return _response(200, await self._handle(request), request_id)
        except CognateError as exc:
            return error_response(exc, request_id)
        except Exception:
            log.exception("internal error in %s", request.headers.get("x-amz-target", "?"))
            return error_response(InternalErrorException(), request_id)

    async def _handle(self, request: Request) -> dict[str, Any]:
        body_bytes = await _read_body(request)
        target = request.headers.get("x-amz-target", "")
        if not target.startswith(TARGET_PREFIX):
            raise UnknownOperationException()
        op = OPERATIONS.get(target[len(TARGET_PREFIX) :])
        if op is None:
            raise UnknownOperationException()
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in (CONTENT_TYPE, "application/x-amz-json-1.0", "application/json"):
            raise SerializationException(f"Unsupported Content-Type: {ctype or 'none'}")
        try:
            body = json.loads(body_bytes or b"{}")
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            raise SerializationException("Could not parse the request body as JSON.") from None
        if not isinstance(body, dict):
            raise SerializationException("Start of list found where not expected")
        try:
            # JSON allows "\udc80" escapes that are no Unicode text (lone surrogates); refuse them
            # here rather than fail later in storage or an outgoing message.
            json.dumps(body, ensure_ascii=False).encode("utf-8")
        except (UnicodeEncodeError, RecursionError):
            raise SerializationException(
                "The request body contains invalid Unicode text or nests too deeply."
            ) from None
        access_key = None
        if op.auth is Auth.IAM:
            core = self._core()
            signed = sigv4.SignedRequest(
                method=request.method,
                path=request.scope.get("raw_path", b"/").decode("latin-1") or "/",
                query=request.scope.get("query_string", b"").decode("latin-1"),
                headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in _joined(request)},
                body=body_bytes,
            )
            access_key = sigv4.verify(signed, self._credentials, core.clock.now())
        validation.validate(op.name, body)
        client = request.client
        params = Params(body, access_key_id=access_key, source_ip=client.host if client else "")
        return await op.handler(self._core(), params)


def _joined(request: Request) -> list[tuple[bytes, bytes]]:
    merged: dict[bytes, list[bytes]] = {}
    for k, v in request.scope["headers"]:
        merged.setdefault(k.lower(), []).append(v)
    return [(k, b",".join(vs)) for k, vs in merged.items()]
