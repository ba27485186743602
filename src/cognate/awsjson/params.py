"""Typed readers of request fields (already checked against the model by validation.py)."""

from __future__ import annotations

import builtins
from typing import Any

from cognate.core.context import Door, RequestContext
from cognate.errors import InvalidParameterException


class Params:
    def __init__(
        self,
        body: dict[str, Any],
        *,
        access_key_id: str | None = None,
        source_ip: str = "",
        user_agent: str | None = None,
    ) -> None:
        self.body = body
        self.access_key_id = access_key_id
        self.source_ip = source_ip
        metadata = body.get("ClientMetadata")
        if access_key_id is not None:  # an administrator's server signing in its user
            source_ip, user_agent = _on_behalf(body.get("ContextData"), source_ip, user_agent)
        # The request context the core receives: ClientMetadata (a map of strings in the
        # model, already validated), the caller's address and user agent.
        self.ctx = RequestContext(
            door=Door.AWS,
            source_ip=source_ip or None,
            user_agent=user_agent,
            client_metadata=(
                {str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, dict) else {}
            ),
        )

    def str(self, name: builtins.str) -> builtins.str:
        value = self.body.get(name)
        if not isinstance(value, str) or value == "":
            raise InvalidParameterException(f"Missing required parameter {name}")
        return value

    def opt_str(self, name: builtins.str) -> builtins.str | None:
        value = self.body.get(name)
        return value if isinstance(value, str) else None

    def int(self, name: builtins.str, default: builtins.int) -> builtins.int:
        value = self.body.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    def bool(self, name: builtins.str, default: builtins.bool = False) -> builtins.bool:
        value = self.body.get(name)
        return value if isinstance(value, bool) else default

    def list(self, name: builtins.str) -> builtins.list[Any]:
        value = self.body.get(name)
        return list(value) if isinstance(value, list) else []

    def map(self, name: builtins.str) -> builtins.dict[builtins.str, Any]:
        value = self.body.get(name)
        return dict(value) if isinstance(value, dict) else {}

    def fields(self, *skip: builtins.str) -> builtins.dict[builtins.str, Any]:
        return {k: v for k, v in self.body.items() if k not in skip}


def _on_behalf(context_data: Any, source_ip: str, user_agent: str | None) -> tuple[str, str | None]:
    """AdminInitiateAuth / AdminRespondToAuthChallenge's ``ContextData``: the end user's
    address and User-Agent as the signed server saw them (Cognito evaluates the sign-in on
    them). Only a request signed with the admin key pair is believed."""
    if not isinstance(context_data, dict):
        return source_ip, user_agent
    address = context_data.get("IpAddress")
    headers = context_data.get("HttpHeaders")
    for header in headers if isinstance(headers, list) else []:
        if isinstance(header, dict) and str(header.get("headerName", "")).lower() == "user-agent":
            user_agent = str(header.get("headerValue") or "") or user_agent
    return (address if isinstance(address, str) and address else source_ip), user_agent
