"""The token endpoint: ``POST /oauth2/token``.

RFC 6749 section 4.1.3-4.1.4 (``authorization_code``), 6 (``refresh_token``), 4.4
(``client_credentials``) and 5.1-5.2 (responses, errors, ``Cache-Control: no-store``);
RFC 7636 section 4.6 (PKCE); RFC 9700 section 2.1.1 and 4.14 (PKCE downgrade, refresh
tokens bound to their client). Cognito developer guide, "Token endpoint": the code
grant returns ID (with ``openid``), access and refresh tokens; a refresh returns a new
refresh token only when the client rotates them; ``client_credentials`` needs a client
secret and custom scopes and returns an access token alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson
from starlette.types import Receive, Scope, Send

from cognate.core.auth_flows import flow_enabled
from cognate.core.context import RequestContext
from cognate.core.entities import Client, Pool
from cognate.core.service import Core
from cognate.core.tokens import ADMIN_SCOPE, Issued
from cognate.errors import (
    InvalidGrantError,
    InvalidRequestError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
)
from cognate.forwarded import Network
from cognate.oauth import client_auth, form, pkce, request_context, scopes
from cognate.oauth.responses import CORS, NO_STORE, Endpoint, json_error


def _required(fields: dict[str, str], name: str) -> str:
    value = fields.get(name)
    if value is None:
        raise InvalidRequestError(f"The {name} parameter is required.")
    return value


def _allows(client: Client, flow: str) -> bool:
    return bool(client.doc.get("AllowedOAuthFlowsUserPoolClient")) and flow in (
        client.doc.get("AllowedOAuthFlows") or []
    )


def _body(issued: Issued) -> dict[str, Any]:
    body: dict[str, Any] = {"access_token": issued.access_token}
    if issued.id_token:
        body["id_token"] = issued.id_token
    if issued.refresh_token:
        body["refresh_token"] = issued.refresh_token
    body["token_type"] = "Bearer"
    body["expires_in"] = issued.expires_in
    return body


# The request headers the endpoint reads (the first of each, as Starlette's ``Headers.get``).
_READ = frozenset((b"authorization", b"content-type", b"user-agent", b"x-forwarded-for"))
_OK_HEADERS = [
    (b"content-type", b"application/json"),
    *((name.lower().encode(), value.encode()) for name, value in {**NO_STORE, **CORS}.items()),
]


def _headers(scope: Scope) -> dict[bytes, bytes]:
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        key = name.lower()
        if key in _READ and key not in found:
            found[key] = value
    return found


class TokenEndpoint(client_auth.BackChannel):
    """A plain ASGI app (the hot path of machine clients: no request object, no router)."""

    def __init__(self, core_getter: Callable[[], Core], trusted: Sequence[Network] = ()) -> None:
        super().__init__(core_getter)
        self.trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        raw_authorization = headers.get(b"authorization")
        authorization = raw_authorization.decode("latin-1") if raw_authorization is not None else None
        try:
            body = await form.receive_body(receive)
            if body is None:  # the client went away: nobody to answer
                return
            fields = form.parse(headers.get(b"content-type", b"").decode("latin-1"), body)
            answer = await self.grant(fields, client_auth.read(authorization, fields), scope, headers)
        except Exception as exc:
            response = json_error(exc, Endpoint.TOKEN, basic_tried=client_auth.basic_tried(authorization))
            await response(scope, receive, send)
            return
        payload = orjson.dumps(answer)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [*_OK_HEADERS, (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def grant(
        self, fields: dict[str, str], proof: client_auth.Proof, scope: Scope, headers: dict[bytes, bytes]
    ) -> dict[str, Any]:
        grant_type = _required(fields, "grant_type")
        if grant_type not in ("authorization_code", "refresh_token", "client_credentials"):
            raise UnsupportedGrantTypeError(f"Unsupported grant_type: {grant_type[:64]}")
        pool, client = await client_auth.authenticate(self._core(), proof)
        ctx = request_context.of_scope(scope, headers, self.trusted)
        if grant_type == "authorization_code":
            return await self.authorization_code(ctx, pool, client, fields)
        if grant_type == "refresh_token":
            return await self.refresh_token(ctx, pool, client, fields)
        return await self.client_credentials(ctx, pool, client, proof, fields)

    async def authorization_code(
        self, ctx: RequestContext, pool: Pool, client: Client, fields: dict[str, str]
    ) -> dict[str, Any]:
        core = self._core()
        if not _allows(client, "code"):
            raise UnauthorizedClientError("The client is not allowed the authorization code grant.")
        code = _required(fields, "code")
        redirect_uri = _required(fields, "redirect_uri")
        grant = await core.authorization_codes.redeem(code, client, redirect_uri)
        pkce.verify(grant.code_challenge, fields.get("code_verifier"))
        user = await core.auth.user_by_sub(pool, grant.sub)
        if user is None or not user.enabled or user.tokens_valid_after > grant.auth_time:
            raise InvalidGrantError("The user of this code can no longer sign in.")
        issued = await core.tokens.issue(
            pool,
            client,
            user,
            auth_time=grant.auth_time,
            scopes=list(grant.scopes),
            origin_jti=grant.origin_jti,
            with_refresh=True,
            with_id_token=scopes.OPENID in grant.scopes,
            nonce=grant.nonce,
            amr=grant.amr,
            ctx=ctx,
        )
        await core.authorization_codes.confirm(grant)
        return _body(issued)

    async def refresh_token(
        self, ctx: RequestContext, pool: Pool, client: Client, fields: dict[str, str]
    ) -> dict[str, Any]:
        core = self._core()
        token = _required(fields, "refresh_token")
        if not flow_enabled(client, "REFRESH_TOKEN_AUTH"):
            raise UnauthorizedClientError("The client is not allowed to refresh tokens.")
        # The core's one refresh step (as REFRESH_TOKEN_AUTH and GetTokensFromRefreshToken).
        auth = await core.auth.refresh(ctx, pool, client, token)
        scopes.within(auth.scopes or (ADMIN_SCOPE,), fields.get("scope"))
        return _body(await core.tokens.complete(ctx, auth))

    async def client_credentials(
        self,
        ctx: RequestContext,
        pool: Pool,
        client: Client,
        proof: client_auth.Proof,
        fields: dict[str, str],
    ) -> dict[str, Any]:
        core = self._core()
        if client.secret is None or proof.secret is None:
            raise UnauthorizedClientError("The client_credentials grant needs a client with a secret.")
        if not _allows(client, "client_credentials"):
            raise UnauthorizedClientError("The client is not allowed the client_credentials grant.")
        granted = scopes.for_client_credentials(client, fields.get("scope"))
        issued = await core.tokens.client_credentials(ctx, pool, client, list(granted))
        return {"access_token": issued.access_token, "token_type": "Bearer", "expires_in": issued.expires_in}
