"""``http://`` / ``https://`` handlers: the event POSTed as JSON, the answer is the returned event.

docs/triggers.md. A 2xx answer's body is the handler's result; any other
status is the handler's own error (its ``errorMessage`` when the body is Lambda's error
JSON, else the status line), as a function error is on AWS Lambda. Connections are
kept alive between calls (one ``httpx.AsyncClient`` per server process).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a handler is first called: start-up does not pay for it
    import httpx

MAX_ERROR_TEXT = 500


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
        client = self.client()
        import httpx

        try:
            response = await client.post(
                url,
                content=body,
                headers={"content-type": "application/json", "x-amz-request-id": request_id},
                timeout=timeout_s,
            )
        except httpx.TimeoutException:
            raise HandlerUnreachable(
                "Socket timeout while invoking Lambda function", timed_out=True
            ) from None
        except httpx.HTTPError as exc:
            raise HandlerUnreachable(type(exc).__name__, timed_out=False) from None
        if not 200 <= response.status_code < 300:
            raise HandlerError(_error_text(response))
        try:
            return json.loads(response.content)
        except ValueError:
            raise NotJson from None

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _error_text(response: httpx.Response) -> str:
    try:
        doc = json.loads(response.content)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("errorMessage"), str):
        return str(doc["errorMessage"])[:MAX_ERROR_TEXT]
    text = response.text.strip()[:MAX_ERROR_TEXT]
    return text or f"HTTP {response.status_code} {response.reason_phrase}"
