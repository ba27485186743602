"""core/client_auth.py: the one place a client's proof is checked, before the flows (issue 6).

A bad proof is ``InvalidClientException`` (``NotAuthorizedException`` on the AWS wire,
``invalid_client`` for OAuth), never the wrong-password error; the flows themselves
take no SECRET_HASH, so the hosted login of a client with a secret signs in without one.
"""

from __future__ import annotations

from typing import Any

import pytest

from cognate.core.client_auth import verify_client_secret, verify_secret_hash
from cognate.core.context import Door, RequestContext
from cognate.core.outcome import Authenticated
from cognate.core.service import Core
from cognate.core.tokens import Issued
from cognate.crypto.secret_hash import secret_hash
from cognate.errors import InvalidClientException, InvalidParameterException, NotAuthorizedException
from tests.api.test_auth_flows import password_auth

pytestmark = pytest.mark.anyio
PASSWORD = "Passw0rd!"
CTX = RequestContext(Door.AWS)
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]


async def setup(core: Core, **pool_fields: Any) -> tuple[Any, Any, Any]:
    pool = await core.pools.create({"PoolName": "p", **pool_fields})
    client = await core.clients.create(
        pool, {"ClientName": "c", "ExplicitAuthFlows": FLOWS, "GenerateSecret": True}
    )
    _, client = await core.client_auth.client(CTX, client.id)
    user = await core.users.create_confirmed(
        pool, "ann", PASSWORD, {"email": "ann@example.com", "email_verified": "true"}
    )
    return pool, client, user


def h(client: Any, name: str) -> str:
    return secret_hash(client.secret, name, client.id)


async def test_a_bad_proof_is_its_own_error_shown_as_cognito_shows_it(core: Core) -> None:
    _, client, _ = await setup(core)
    with pytest.raises(InvalidClientException, match="secret but secret was not received") as missing:
        verify_secret_hash(client, None, "ann")
    with pytest.raises(InvalidClientException, match=f"Unable to verify secret hash for client {client.id}"):
        verify_secret_hash(client, h(client, "bob"), "ann")
    assert not isinstance(missing.value, NotAuthorizedException)
    assert missing.value.type_name == "NotAuthorizedException"
    assert missing.value.oauth_error == "invalid_client"
    verify_secret_hash(client, h(client, "ann"), "ann")


async def test_client_secret_is_compared_whole(core: Core) -> None:
    _, client, _ = await setup(core)
    verify_client_secret(client, client.secret)
    for wrong in (None, "", client.secret[:-1], client.secret + "x", "ünïcödé"):
        with pytest.raises(InvalidClientException):
            verify_client_secret(client, wrong)


async def test_a_client_without_a_secret_needs_no_proof(core: Core) -> None:
    pool, _, _ = await setup(core)
    public = await core.clients.create(pool, {"ClientName": "pub", "ExplicitAuthFlows": FLOWS})
    verify_secret_hash(public, None, "ann")
    verify_client_secret(public, None)
    await core.client_auth.initiate(
        CTX, public.id, "USER_PASSWORD_AUTH", {"USERNAME": "ann", "PASSWORD": "x"}, None
    )


async def test_initiate_accepts_a_hash_over_any_name_of_the_user(core: Core) -> None:
    _, client, user = await setup(core, AliasAttributes=["email"])
    params = {"USERNAME": "ann@example.com", "PASSWORD": PASSWORD}
    for name in ("ann@example.com", "ann", user.sub):
        await core.client_auth.initiate(CTX, client.id, "USER_PASSWORD_AUTH", params, h(client, name))
    with pytest.raises(InvalidClientException):
        await core.client_auth.initiate(CTX, client.id, "USER_PASSWORD_AUTH", params, h(client, "other"))


async def test_the_flow_is_admitted_before_the_proof_is_judged(core: Core) -> None:
    _, client, _ = await setup(core)
    with pytest.raises(InvalidParameterException, match="not supported"):
        await core.client_auth.initiate(CTX, client.id, "ADMIN_NO_SRP_AUTH", {}, None)
    with pytest.raises(InvalidParameterException, match="not enabled"):
        await core.client_auth.initiate(CTX, client.id, "CUSTOM_AUTH", {}, None)
    with pytest.raises(InvalidParameterException, match="USERNAME"):
        await core.client_auth.initiate(CTX, client.id, "USER_PASSWORD_AUTH", {"PASSWORD": "x"}, None)


async def test_refresh_proof_names_the_user_behind_the_token(core: Core) -> None:
    _, client, user = await setup(core)
    out = await password_auth(core, client.id, "ann")
    assert isinstance(out, Issued) and out.refresh_token
    params = {"REFRESH_TOKEN": out.refresh_token}
    # No USERNAME: the hash over the internal name (the sub) of the token's user is accepted.
    await core.client_auth.initiate(CTX, client.id, "REFRESH_TOKEN_AUTH", params, h(client, user.sub))
    with pytest.raises(InvalidClientException):
        await core.client_auth.initiate(CTX, client.id, "REFRESH_TOKEN_AUTH", params, h(client, "bob"))
    with pytest.raises(InvalidClientException, match="not received"):
        await core.client_auth.initiate(CTX, client.id, "REFRESH_TOKEN_AUTH", params, None)
    # An unknown token is the flow's own error, not a verdict on the client.
    with pytest.raises(NotAuthorizedException, match="Invalid Refresh Token"):
        await core.client_auth.initiate(
            CTX, client.id, "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": "x" * 64}, h(client, "bob")
        )


async def test_challenge_proof_uses_the_sessions_user(core: Core) -> None:
    pool, client, _ = await setup(core)
    await core.users.admin_create(
        pool, {"Username": "tim", "TemporaryPassword": "Temp0rary!", "MessageAction": "SUPPRESS"}
    )
    first = await core.auth.initiate(
        CTX, client.id, "USER_PASSWORD_AUTH", {"USERNAME": "tim", "PASSWORD": "Temp0rary!"}
    )
    assert first.name == "NEW_PASSWORD_REQUIRED"
    responses = {"NEW_PASSWORD": "N3w-Passw0rd!"}
    with pytest.raises(InvalidClientException):
        await core.client_auth.respond(
            CTX, client.id, "NEW_PASSWORD_REQUIRED", responses, first.session, h(client, "ann")
        )
    with pytest.raises(NotAuthorizedException, match="session is expired"):
        await core.client_auth.respond(
            CTX, client.id, "NEW_PASSWORD_REQUIRED", responses, "not-a-session", h(client, "tim")
        )
    await core.client_auth.respond(
        CTX, client.id, "NEW_PASSWORD_REQUIRED", responses, first.session, h(client, "tim")
    )


async def test_the_hosted_login_of_a_client_with_a_secret_needs_no_hash(core: Core) -> None:
    """The flows never see SECRET_HASH: the page's own rule applies (issue 6)."""
    pool, client, _ = await setup(core)
    out = await core.auth.password_sign_in(RequestContext(Door.HOSTED), pool, client, "ann", PASSWORD)
    assert isinstance(out, Authenticated)
    assert (out.user.username, out.client.id, out.amr) == ("ann", client.id, ("pwd",))
