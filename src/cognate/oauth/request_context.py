"""The ``RequestContext`` the OAuth door hands to the core: the caller's address (through trusted
proxies) and user agent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from starlette.requests import Request
from starlette.types import Scope

from cognate.core.context import Door, RequestContext
from cognate.forwarded import Network, request_source, source_address


def of(request: Request) -> RequestContext:
    return RequestContext(
        Door.OAUTH,
        source_ip=request_source(request),
        user_agent=request.headers.get("user-agent"),
    )


def of_scope(scope: Scope, headers: Mapping[bytes, bytes], trusted: Sequence[Network]) -> RequestContext:
    """The same context for a plain ASGI request (the token endpoint's hot path)."""
    client = scope.get("client")
    forwarded = headers.get(b"x-forwarded-for")
    agent = headers.get(b"user-agent")
    return RequestContext(
        Door.OAUTH,
        source_ip=source_address(
            client[0] if client else None, forwarded.decode("latin-1") if forwarded else None, trusted
        ),
        user_agent=agent.decode("latin-1") if agent is not None else None,
    )
