"""The AWS door's request context (core/context.py): what reaches the core from each request."""

from __future__ import annotations

import dataclasses

import pytest

from cognate.awsjson.params import Params
from cognate.core.context import Door, RequestContext, admin_context


def test_the_aws_door_fills_the_context_from_the_request() -> None:
    body = {"ClientId": "c", "ClientMetadata": {"app": "mobile", "n": 3}}
    ctx = Params(body, source_ip="192.0.2.1", user_agent="aws-sdk-js/3").ctx
    assert ctx == RequestContext(Door.AWS, "192.0.2.1", "aws-sdk-js/3", {"app": "mobile", "n": "3"})
    assert Params({}).ctx == RequestContext(Door.AWS)
    assert Params({"ClientMetadata": "not a map"}).ctx.client_metadata == {}


def test_a_context_cannot_be_changed_by_the_core() -> None:
    ctx = admin_context()
    assert ctx.door is Door.ADMIN and dict(ctx.client_metadata) == {}
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.door = Door.AWS  # type: ignore[misc]
    with pytest.raises(TypeError):
        ctx.client_metadata["k"] = "v"  # type: ignore[index]
