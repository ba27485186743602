"""Token revocation: ``POST /oauth2/revoke`` (RFC 7009), as Cognito answers it.

RFC 7009 section 2.1 (the client authenticates; a token issued to another client is
refused) and 2.2 ("The authorization server responds with HTTP status code 200 if the
token has been revoked successfully or if the client submitted an invalid token").
Cognito developer guide, "Revoke endpoint": refresh tokens only (an access token is
``unsupported_token_type``), revoking the refresh token revokes every ID and access
token issued from it; ``invalid_request`` when the client has revocation turned off.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from cognate.errors import InvalidRequestError
from cognate.oauth import client_auth, request_context
from cognate.oauth.responses import CORS, NO_STORE, Endpoint, json_error


class Revocation(client_auth.BackChannel):
    async def endpoint(self, request: Request) -> Response:
        try:
            fields, proof = await self.form_and_proof(request)
            token = fields.get("token")
            if token is None:
                raise InvalidRequestError("The token parameter is required.")
            _, client = await client_auth.authenticate(self._core(), proof)
            await self._core().auth.revoke(request_context.of(request), client.id, token)
            return Response(status_code=200, headers={**NO_STORE, **CORS})
        except Exception as exc:
            return json_error(
                exc,
                Endpoint.REVOKE,
                basic_tried=client_auth.basic_tried(request.headers.get("authorization")),
            )
