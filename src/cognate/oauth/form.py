"""Reading the ``application/x-www-form-urlencoded`` body of the back-channel endpoints.

RFC 6749 section 3.2 (the token endpoint takes form posts; "Request and response
parameters MUST NOT be included more than once"), RFC 7009 section 2.1, RFC 7662
section 2.1. A body is bounded in size and in fields before it is parsed.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import Receive

from cognate.errors import InvalidAuthorizationRequest, InvalidRequestError

MAX_BODY = 64 * 1024
MAX_FIELDS = 64


async def read(request: Request) -> dict[str, str]:
    """The form's fields; ``invalid_request`` for another content type, a repeat, or excess."""
    content_type = request.headers.get("content-type", "")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise InvalidRequestError("The request body is too large.")
    return parse(content_type, body)


async def receive_body(receive: Receive) -> bytes | None:
    """A plain ASGI request's whole body, bounded by ``MAX_BODY``; None if the client left."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise InvalidRequestError("The request body is too large.")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def parse(content_type: str, body: bytes) -> dict[str, str]:
    """The fields of a form body sent with ``content_type`` (see ``read``)."""
    if content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise InvalidRequestError("The body must be application/x-www-form-urlencoded.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequestError("The request body is not a valid form.") from None
    if text.count("&") >= MAX_FIELDS:
        raise InvalidRequestError("The request body is not a valid form.")
    fields: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in _pairs(text):
        if name in seen:
            raise InvalidRequestError(f"The {name} parameter is repeated.")
        seen.add(name)
        if value:  # "Parameters sent without a value MUST be treated as if they were omitted" (3.1)
            fields[name] = value
    return fields


def _pairs(text: str) -> list[tuple[str, str]]:
    """``parse_qsl(text, keep_blank_values=True)``, decoding only what is encoded (the hot path
    of the token endpoint: most names and many values need no decoding)."""
    pairs = []
    for part in text.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((_decoded(name), _decoded(value)))
    return pairs


def _decoded(text: str) -> str:
    return unquote_plus(text) if "%" in text or "+" in text else text


async def browser_fields(request: Request, *, max_fields: int) -> list[tuple[str, str]]:
    """The text fields a browser posted to a front-channel endpoint (/oauth2/authorize,
    /logout), in any form encoding Starlette reads; a malformed body (say a multipart
    without its boundary) is the caller's ``InvalidAuthorizationRequest``, never a fault."""
    try:
        form = await request.form(max_files=0, max_fields=max_fields)
    except HTTPException:  # Starlette's answer to a body it cannot parse
        raise InvalidAuthorizationRequest("The request body is not a valid form.") from None
    return [(key, item) for key, item in form.multi_items() if isinstance(item, str)]
