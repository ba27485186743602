"""core/tokens.py: claims first, then PreTokenGeneration, then signing (issue 6).

A RecordingInvoker stands in for the pool's function: it sees Cognito's event and its
answer changes the claims before they are signed; client-credentials tokens (no user)
take the same path.
"""

from __future__ import annotations

from typing import Any

import pytest

from cognate.core.context import Door, RequestContext
from cognate.core.outcome import Authenticated
from cognate.core.service import Core
from cognate.core.triggers import RecordingInvoker
from cognate.crypto import signing
from tests.api.conftest import MakeCore

pytestmark = pytest.mark.anyio
CTX = RequestContext(Door.AWS, client_metadata={"app": "mobile"})
PASSWORD = "Passw0rd!"
ARN = "arn:aws:lambda:us-east-1:000000000000:function:pre-token"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


def add_claims(_arn: str, event: dict[str, Any]) -> dict[str, Any]:
    version = event["version"]
    if version == "1":
        details = {"claimsToAddOrOverride": {"tier": "gold", "sub": "forged"}, "claimsToSuppress": ["email"]}
        return {**event, "response": {"claimsOverrideDetails": details}}
    access = {"claimsToAddOrOverride": {"tier": "gold"}, "scopesToAdd": ["extra/read"]}
    return {**event, "response": {"claimsAndScopeOverrideDetails": {"accessTokenGeneration": access}}}


async def signed_in(core: Core, version: str | None = "V1_0") -> tuple[Any, Any, Authenticated]:
    config: dict[str, Any] = {}
    if version:
        config = {"PreTokenGenerationConfig": {"LambdaArn": ARN, "LambdaVersion": version}}
    pool = await core.pools.create({"PoolName": "p", "LambdaConfig": config})
    client = await core.clients.create(pool, {"ClientName": "c", "ExplicitAuthFlows": FLOWS})
    await core.users.create_confirmed(pool, "ann", PASSWORD, {"email": "ann@example.com"})
    step = await core.auth.initiate(
        CTX, client.id, "USER_PASSWORD_AUTH", {"USERNAME": "ann", "PASSWORD": PASSWORD}
    )
    assert isinstance(step, Authenticated)
    return pool, client, step


async def test_the_function_changes_claims_before_signing(make_core: MakeCore) -> None:
    invoker = RecordingInvoker(add_claims)
    core = await make_core(invoker)
    _, client, step = await signed_in(core)
    issued = await core.tokens.complete(CTX, step)
    assert issued.id_token
    claims = await core.tokens.verify(issued.id_token, token_use="id")  # the signature holds
    assert claims["tier"] == "gold" and "email" not in claims
    assert claims["sub"] == step.user.sub  # identity claims cannot be forged
    [(arn, event)] = invoker.calls
    assert arn == ARN
    assert event["triggerSource"] == "TokenGeneration_Authentication"
    assert event["callerContext"]["clientId"] == client.id
    assert event["userName"] == "ann"
    assert event["request"]["clientMetadata"] == {"app": "mobile"}
    assert event["request"]["userAttributes"]["email"] == "ann@example.com"


async def test_refresh_runs_the_function_again(make_core: MakeCore) -> None:
    invoker = RecordingInvoker(add_claims)
    core = await make_core(invoker)
    _, client, step = await signed_in(core, "V2_0")
    first = await core.tokens.complete(CTX, step)
    assert first.refresh_token
    access = await core.tokens.verify(first.access_token, token_use="access")
    assert access["tier"] == "gold" and access["scope"].split() == [
        "aws.cognito.signin.user.admin",
        "extra/read",
    ]
    again = await core.auth.initiate(
        CTX, client.id, "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": first.refresh_token}
    )
    assert isinstance(again, Authenticated)
    refreshed = await core.tokens.complete(CTX, again)
    access = signing.unverified_claims(refreshed.access_token)
    assert access["scope"].split() == ["aws.cognito.signin.user.admin", "extra/read"]  # added once, not twice
    assert [e["triggerSource"] for _, e in invoker.calls] == [
        "TokenGeneration_Authentication",
        "TokenGeneration_RefreshTokens",
    ]


async def test_no_function_no_call(make_core: MakeCore) -> None:
    invoker = RecordingInvoker(add_claims)
    core = await make_core(invoker)
    _, _, step = await signed_in(core, None)
    issued = await core.tokens.complete(CTX, step)
    assert issued.id_token and "tier" not in signing.unverified_claims(issued.id_token)
    assert invoker.calls == []


async def test_client_credentials_take_the_same_path(make_core: MakeCore) -> None:
    invoker = RecordingInvoker(add_claims)
    core = await make_core(invoker)
    config = {"PreTokenGenerationConfig": {"LambdaArn": ARN, "LambdaVersion": "V3_0"}}
    pool = await core.pools.create({"PoolName": "p", "LambdaConfig": config})
    client = await core.clients.create(pool, {"ClientName": "m2m", "GenerateSecret": True})
    issued = await core.tokens.client_credentials(RequestContext(Door.OAUTH), pool, client, ["api/read"])
    assert issued.id_token is None and issued.refresh_token is None
    claims = await core.tokens.verify(issued.access_token, token_use="access")
    assert claims["sub"] == claims["client_id"] == client.id
    assert claims["scope"].split() == ["api/read", "extra/read"] and claims["tier"] == "gold"
    assert "username" not in claims and "origin_jti" not in claims
    [(_, event)] = invoker.calls
    assert event["triggerSource"] == "TokenGeneration_ClientCredentials" and event["userName"] is None
