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
