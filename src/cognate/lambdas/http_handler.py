"""``http://`` / ``https://`` handlers: the event POSTed as JSON, the answer is the returned event.

docs/triggers.md. A 2xx answer's body is the handler's result; any other
status is the handler's own error (its ``errorMessage`` when the body is Lambda's error
JSON, else the status line), as a function error is on AWS Lambda. Connections are
kept alive between calls (one ``httpx.AsyncClient`` per server process).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a handler is first called: start-up does not pay for it
    import httpx

MAX_ERROR_TEXT = 500
# AWS Lambda's limit on a synchronous invocation's answer (6 MB): a larger one is not an event.
MAX_ANSWER_BYTES = 6 * 1024 * 1024


class HandlerError(Exception):
    """The handler answered with an error (its message is Cognito's ``<message>``)."""


class HandlerUnreachable(Exception):
    """The call could not be made or answered in time (retried, then UnexpectedLambda)."""

    def __init__(self, reason: str, *, timed_out: bool) -> None:
        super().__init__(reason)
        self.timed_out = timed_out


class NotJson(Exception):
    """A 2xx answer whose body is not JSON."""


class HttpHandlers:
    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(follow_redirects=False, trust_env=False)
        return self._client

    async def invoke(self, url: str, body: bytes, request_id: str, timeout_s: float) -> Any:
        """The handler's answer within ``timeout_s`` in all: httpx's timeouts bound each
        read, so a handler that trickles its answer a byte at a time is cut off here."""
        import httpx

        headers = {"content-type": "application/json", "x-amz-request-id": request_id}
        try:
            async with asyncio.timeout(timeout_s):
                request = self.client().build_request(
                    "POST", url, content=body, headers=headers, timeout=timeout_s
                )
                response = await self.client().send(request, stream=True)
                try:
                    content = await _read_capped(response)
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException):
            raise HandlerUnreachable(
                "Socket timeout while invoking Lambda function", timed_out=True
            ) from None
        except httpx.HTTPError as exc:
            raise HandlerUnreachable(type(exc).__name__, timed_out=False) from None
        if content is None:
            raise NotJson  # larger than any Lambda answer may be
        if not 200 <= response.status_code < 300:
            raise HandlerError(_error_text(content, response))
        try:
            return json.loads(content)
        except ValueError:
            raise NotJson from None

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


async def _read_capped(response: httpx.Response) -> bytes | None:
    """The body, or None past MAX_ANSWER_BYTES (not read further)."""
    parts, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            return None
        parts.append(chunk)
    return b"".join(parts)


def _error_text(content: bytes, response: httpx.Response) -> str:
    try:
        doc = json.loads(content)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("errorMessage"), str):
        return str(doc["errorMessage"])[:MAX_ERROR_TEXT]
    text = content.decode(response.charset_encoding or "utf-8", errors="replace").strip()[:MAX_ERROR_TEXT]
    return text or f"HTTP {response.status_code} {response.reason_phrase}"
