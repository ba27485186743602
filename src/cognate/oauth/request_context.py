"""The ``RequestContext`` the OAuth door hands to the core (caller's address and user agent)."""

from __future__ import annotations

from starlette.requests import Request

from cognate.core.context import Door, RequestContext


def of(request: Request) -> RequestContext:
    return RequestContext(
        Door.OAUTH,
        source_ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
