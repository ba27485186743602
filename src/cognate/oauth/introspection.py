"""Token introspection: ``POST /oauth2/introspect`` (RFC 7662), beyond Cognito.

RFC 7662 section 2.1 (the caller must be authorized: here, an app client of the same
pool proving its secret), 2.2 (``{"active": false}`` and nothing else for a token that
is unknown, expired, revoked or not this pool's; the claims of an active one) and 4
(the endpoint must not become a token-scanning oracle: an unauthenticated or public
client is ``invalid_client``). Access, ID and refresh tokens are all understood.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from cognate.core.entities import Pool
from cognate.core.tokens import ADMIN_SCOPE
from cognate.errors import CognateError, InvalidClientException, InvalidRequestError
from cognate.oauth import client_auth
from cognate.oauth.responses import Endpoint, json_error, ok_json

INACTIVE: dict[str, Any] = {"active": False}
JWT_CLAIMS = ("sub", "iss", "exp", "iat", "jti", "auth_time", "token_use", "origin_jti", "event_id")


class Introspection(client_auth.BackChannel):
    async def endpoint(self, request: Request) -> Response:
        try:
            fields, proof = await self.form_and_proof(request)
            if proof.secret is None:
                raise InvalidClientException("Introspection needs a client that proves its secret.")
            token = fields.get("token")
            if token is None:
                raise InvalidRequestError("The token parameter is required.")
            pool, _ = await client_auth.authenticate(self._core(), proof)
            return ok_json(await self.inspect(pool, token, fields.get("token_type_hint")))
        except Exception as exc:
            return json_error(
                exc,
                Endpoint.INTROSPECT,
                basic_tried=client_auth.basic_tried(request.headers.get("authorization")),
            )

    async def inspect(self, pool: Pool, token: str, hint: str | None) -> dict[str, Any]:
        if token.count(".") == 2:
            return await self._jwt(pool, token)
        return await self._refresh(pool, token)

    async def _jwt(self, pool: Pool, token: str) -> dict[str, Any]:
        core = self._core()
        claims: dict[str, Any] | None = None
        for use in ("access", "id"):
            try:
                claims = await core.tokens.verify(token, token_use=use)
                break
            except CognateError:
                continue
        if claims is None or claims.get("iss") != core.tokens.issuer(pool.id):
            return INACTIVE
        user = await core.auth.user_by_sub(pool, str(claims.get("sub", "")))
        if user is None or not user.enabled or int(claims.get("iat", 0)) < int(user.tokens_valid_after):
            return INACTIVE
        out: dict[str, Any] = {"active": True, "token_type": "Bearer"}
        out.update({k: claims[k] for k in JWT_CLAIMS if k in claims})
        if claims.get("token_use") == "access":
            out["client_id"] = claims.get("client_id")
            out["username"] = claims.get("username")
            out["scope"] = claims.get("scope", "")
        else:
            out["client_id"] = claims.get("aud")
            out["aud"] = claims.get("aud")
            out["username"] = claims.get("cognito:username")
        return out

    async def _refresh(self, pool: Pool, token: str) -> dict[str, Any]:
        core = self._core()
        if not token or len(token) > 4096:
            return INACTIVE
        record = await core.tokens.lookup_refresh(token)
        now = core.clock.now()
        if (
            record is None
            or record.pool_id != pool.id
            or record.revoked_at is not None
            or record.expires <= now
        ):
            return INACTIVE
        user = await core.auth.user_by_sub(pool, record.sub)
        if user is None or not user.enabled:
            return INACTIVE
        return {
            "active": True,
            "token_type": "refresh_token",
            "client_id": record.client_id,
            "sub": record.sub,
            "username": user.username,
            "scope": " ".join(record.doc.get("scopes") or [ADMIN_SCOPE]),
            "exp": int(record.expires),
            "iat": int(record.created),
            "iss": core.tokens.issuer(pool.id),
        }
