"""What the OAuth endpoints answer: the one error mapping per endpoint, and the response shapes.

RFC 6749 section 5.2 (token errors: 400, or 401 with ``WWW-Authenticate`` when the
client tried HTTP Basic), section 4.1.2.1 (authorization errors go back to a validated
redirect_uri, never to an unvalidated one); RFC 6750 section 3 (bearer errors in
``WWW-Authenticate``); RFC 7009 section 2.2.1; RFC 9207 (``iss`` on every authorization
response). An exception is never mutated: ``error_of`` reads it and says what this
endpoint sends. Internal details are logged, never sent.
"""

from __future__ import annotations

import html
import logging
import re
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from cognate.errors import (
    CognateError,
    InvalidAuthorizationRequest,
    InvalidTokenError,
    NotAuthorizedException,
    ResourceNotFoundException,
    UnauthorizedException,
    UnsupportedOperationException,
    UserNotFoundException,
)

log = logging.getLogger("cognate.oauth")

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# CORS for single-page apps, on the back-channel endpoints only (never authorize or pages: RFC 9700 2.6).
CORS = {"Access-Control-Allow-Origin": "*"}
PREFLIGHT = {
    **CORS,
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Max-Age": "86400",
}
# Headers browser SDKs add to these calls (Amplify v6 sends x-amz-user-agent with its token request).
ALLOWED_HEADERS = "Authorization, Content-Type, Cache-Control, X-Amz-User-Agent, X-Requested-With"
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")


def preflight(request: Request) -> Response:
    """A CORS preflight of the back-channel endpoints: any origin, no credentials (RFC 9700 2.6
    keeps authorize and the pages out). The requested headers are allowed when they are plain
    header names: with ``*`` as the origin and no cookies, a header grants nothing."""
    asked = request.headers.get("access-control-request-headers", "")
    names = [h.strip() for h in asked.split(",") if h.strip()]
    allowed = ", ".join(n for n in names if _HEADER_NAME.fullmatch(n) and len(n) <= 64) or ALLOWED_HEADERS
    return Response(status_code=204, headers={**PREFLIGHT, "Access-Control-Allow-Headers": allowed})


PAGE_HEADERS = {
    **NO_STORE,
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


class Endpoint(StrEnum):
    AUTHORIZE = "authorize"
    TOKEN = "token"
    USERINFO = "userinfo"
    REVOKE = "revoke"
    INTROSPECT = "introspect"
    LOGOUT = "logout"


INVALID_CLIENT = "invalid_client"


def error_of(exc: BaseException, endpoint: Endpoint) -> tuple[int, str, str]:
    """(HTTP status, OAuth ``error``, ``error_description``) that ``endpoint`` sends for ``exc``."""
    if not isinstance(exc, CognateError):
        log.error("unexpected error at the %s endpoint", endpoint, exc_info=exc)
        return 500, "server_error", "Internal server error."
    message = exc.message
    wire = getattr(exc, "wire_type", None) or type(exc).__name__
    if exc.oauth_error == INVALID_CLIENT or wire == "InvalidClientException":
        return 400, INVALID_CLIENT, message or "Client authentication failed."
    if endpoint is Endpoint.USERINFO:
        if exc.oauth_error == "insufficient_scope":
            return 403, "insufficient_scope", message
        if isinstance(exc, (NotAuthorizedException, InvalidTokenError, UnauthorizedException)):
            return 401, "invalid_token", message or "Invalid access token."
        if isinstance(exc, (UserNotFoundException, ResourceNotFoundException)):
            return 401, "invalid_token", "Access token is expired, disabled, or deleted."
    if endpoint is Endpoint.REVOKE:
        if isinstance(exc, UnauthorizedException):
            return 400, "unauthorized_client", message
        if isinstance(exc, UnsupportedOperationException):
            return 400, "invalid_request", message
    if endpoint in (Endpoint.TOKEN, Endpoint.REVOKE, Endpoint.INTROSPECT):
        if isinstance(exc, ResourceNotFoundException):
            return 400, INVALID_CLIENT, "Client authentication failed."
        if isinstance(exc, (NotAuthorizedException, UserNotFoundException)):
            return 400, "invalid_grant", message
    if exc.status >= 500:
        log.error("server error at the %s endpoint", endpoint, exc_info=exc)
        return 500, "server_error", "Internal server error."
    return (exc.status if exc.status in (400, 401, 403) else 400), exc.oauth_error, message


def json_error(
    exc: BaseException, endpoint: Endpoint, *, basic_tried: bool = False, cors: bool = True
) -> Response:
    """A JSON error body (RFC 6749 5.2); ``invalid_client`` after HTTP Basic is a 401 challenge."""
    status, error, description = error_of(exc, endpoint)
    headers = {**NO_STORE, **(CORS if cors else {})}
    if error == INVALID_CLIENT and basic_tried:
        status = 401
        headers["WWW-Authenticate"] = 'Basic realm="cognate", charset="UTF-8"'
    body: dict[str, Any] = {"error": error}
    if description:
        body["error_description"] = description
    return JSONResponse(body, status_code=status, headers=headers)


def bearer_error(exc: BaseException) -> Response:
    """The userInfo endpoint's refusal (RFC 6750 section 3): the error in ``WWW-Authenticate``."""
    status, error, description = error_of(exc, Endpoint.USERINFO)
    challenge = f'Bearer realm="cognate", error="{error}"'
    if description:
        challenge += f', error_description="{_quoted(description)}"'
    body = {"error": error, "error_description": description}
    return JSONResponse(body, status_code=status, headers={**NO_STORE, **CORS, "WWW-Authenticate": challenge})


def bearer_missing() -> Response:
    """No credentials at all: a bare challenge, no error code (RFC 6750 3.1)."""
    return Response(
        status_code=401,
        headers={**NO_STORE, **CORS, "WWW-Authenticate": 'Bearer realm="cognate"'},
    )


def _quoted(text: str) -> str:
    # quoted-string of RFC 9110: no quote, backslash or control characters inside.
    return "".join(c for c in text if c not in '"\\' and 0x20 <= ord(c) < 0x7F)


class FastJSON(JSONResponse):
    """JSON rendered by orjson (as the AWS door does): the token endpoint's hot path."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def ok_json(body: dict[str, Any]) -> Response:
    return FastJSON(body, headers={**NO_STORE, **CORS})


def with_params(uri: str, params: dict[str, str], *, fragment: bool = False) -> str:
    """``uri`` with ``params`` added to its query (kept, RFC 6749 3.1.2) or put in its fragment."""
    encoded = urlencode(params)
    if fragment:
        return f"{uri}#{encoded}"
    return f"{uri}{'&' if '?' in uri else '?'}{encoded}"


def redirect(location: str) -> Response:
    # 302, never 307: a 307 would make the browser re-post credentials (RFC 9700 4.12).
    return RedirectResponse(location, status_code=302, headers=NO_STORE)


def error_page(exc: BaseException, endpoint: Endpoint) -> Response:
    """An error the browser's user reads (never a redirect to an unvalidated URI)."""
    status, error, description = error_of(exc, endpoint)
    if isinstance(exc, InvalidAuthorizationRequest):
        status = 400
    return page("Sign-in error", f"{description or error}", status=status, code=error)


def page(title: str, text: str, *, status: int = 200, code: str | None = None) -> Response:
    detail = f"<p><code>{html.escape(code)}</code></p>" if code else ""
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f"<body><main><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>{detail}</main></body></html>"
    )
    return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)
