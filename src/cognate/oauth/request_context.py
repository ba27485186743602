"""The ``RequestContext`` the OAuth door hands to the core: the caller's address (through trusted
proxies) and user agent."""

from __future__ import annotations

from starlette.requests import Request

from cognate.core.context import Door, RequestContext
from cognate.forwarded import request_source


def of(request: Request) -> RequestContext:
    return RequestContext(
        Door.OAUTH,
        source_ip=request_source(request),
        user_agent=request.headers.get("user-agent"),
    )
