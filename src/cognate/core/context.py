"""The request context every door hands to the core.

Each door (the AWS JSON API, the OAuth 2.0 endpoints, the hosted pages, the admin
commands) builds one ``RequestContext`` per request and passes it as ``ctx`` to the
core's public entry points. It carries what Cognito hands to Lambda triggers and
logs: the ``ClientMetadata`` of the request, the caller's IP address and user agent
(``userContextData`` / ``contextData``), and the door the request came through.
Source: Amazon Cognito developer guide, "Customizing user pool workflows with Lambda
triggers" (the common parameters of trigger events) and the API reference
(``ClientMetadata`` on InitiateAuth, SignUp, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class Door(StrEnum):
    """Where a request entered Cognate."""

    AWS = "aws"
    OAUTH = "oauth"
    HOSTED = "hosted"
    ADMIN = "admin"  # the command line and the seed file


def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True)
class RequestContext:
    door: Door
    source_ip: str | None = None
    user_agent: str | None = None
    client_metadata: Mapping[str, str] = field(default_factory=_empty)


def admin_context() -> RequestContext:
    """The context of work done by the operator (seed file, command line, tests)."""
    return RequestContext(Door.ADMIN)
