"""The userInfo endpoint: ``GET|POST /oauth2/userInfo``.

OpenID Connect Core 1.0 section 5.3 (claims of the signed-in user, by the access
token's scopes; section 5.4 maps ``email``, ``phone``, ``profile`` to claims) and
RFC 6750 (the bearer token in the ``Authorization`` header or, on POST, in the
``access_token`` form field, never both; errors in ``WWW-Authenticate``). Cognito
developer guide, "userInfo endpoint": the token must carry ``openid`` (tokens from the
API carry only ``aws.cognito.signin.user.admin`` and are refused); ``profile`` and the
admin scope give every attribute the client may read, ``email`` and ``phone`` their
claims; the response also carries ``username``. An expired or revoked token, a deleted
or disabled user, or one who signed out everywhere gets 401 ``invalid_token``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cognate.core.service import Core
from cognate.core.tokens import ADMIN_SCOPE
from cognate.errors import InsufficientScopeError, InvalidRequestError
from cognate.oauth import form, scopes
from cognate.oauth.responses import CORS, NO_STORE, bearer_error, bearer_missing

BOOLEANS = {"email_verified", "phone_number_verified"}
BY_SCOPE = {
    "email": ("email", "email_verified"),
    "phone": ("phone_number", "phone_number_verified"),
}


def _token_of(request: Request, fields: dict[str, str] | None) -> str | None:
    header = request.headers.get("authorization")
    in_body = fields.get("access_token") if fields else None
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise InvalidRequestError("The Authorization header must carry a Bearer token.")
        if in_body is not None:
            raise InvalidRequestError("Send the access token once (RFC 6750 2).")
        return value.strip()
    return in_body


class UserInfo:
    def __init__(self, core_getter: Callable[[], Core]) -> None:
        self._core = core_getter

    async def endpoint(self, request: Request) -> Response:
        try:
            fields = None
            if request.method == "POST" and request.headers.get("content-type"):
                fields = await form.read(request)
            token = _token_of(request, fields)
            if token is None:
                return bearer_missing()
            return self._json(await self.claims(token))
        except Exception as exc:
            return bearer_error(exc)

    @staticmethod
    def _json(body: dict[str, Any]) -> Response:
        return JSONResponse(body, headers={**NO_STORE, **CORS})

    async def claims(self, token: str) -> dict[str, Any]:
        core = self._core()
        pool, user, claims = await core.auth.user_of_access_token(token, required_scope=None)
        granted = set(str(claims.get("scope", "")).split())
        if scopes.OPENID not in granted:
            raise InsufficientScopeError("The access token does not carry the openid scope.")
        _, client = await core.auth.client_of(str(claims.get("client_id", "")), pool.id)
        readable = client.doc.get("ReadAttributes")
        visible = {
            name: value
            for name, value in user.attributes.items()
            if not name.startswith("dev:") and name != "identities" and (not readable or name in readable)
        }
        out: dict[str, Any] = {"sub": user.sub}
        wanted: set[str] = set()
        if "profile" in granted or ADMIN_SCOPE in granted:
            wanted.update(visible)
        for scope, names in BY_SCOPE.items():
            if scope in granted:
                wanted.update(names)
        for name in sorted(wanted):
            if name in visible and name != "sub":
                value = visible[name]
                out[name] = (value == "true") if name in BOOLEANS else value
        out["username"] = user.username
        return out
