"""OpenID Connect discovery and the JWKS of a pool.

OpenID Connect Discovery 1.0 section 4 (the document at
``{issuer}/.well-known/openid-configuration``) and RFC 7517 (JWK Set). Both are
served at ``{public-url}/{pool}/.well-known/...`` whatever the issuer style, are
cacheable, and answer CORS for single-page apps.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cognate.core.service import Core
from cognate.errors import CognateError

CORS = {"Access-Control-Allow-Origin": "*"}
JWKS_MAX_AGE = 300
DISCOVERY_MAX_AGE = 3600


def _not_found(pool_id: str) -> Response:
    return JSONResponse(
        {"error": "not_found", "error_description": f"User pool {pool_id} does not exist."},
        status_code=404,
        headers=CORS,
    )


def document(core: Core, pool_id: str) -> dict[str, Any]:
    base = core.config.public_url
    return {
        "issuer": core.tokens.issuer(pool_id),
        "authorization_endpoint": f"{base}/oauth2/authorize",
        "token_endpoint": f"{base}/oauth2/token",
        "userinfo_endpoint": f"{base}/oauth2/userInfo",
        "revocation_endpoint": f"{base}/oauth2/revoke",
        "introspection_endpoint": f"{base}/oauth2/introspect",
        "end_session_endpoint": f"{base}/logout",
        "jwks_uri": f"{base}/{pool_id}/.well-known/jwks.json",
        "response_types_supported": ["code", "token"],
        "response_modes_supported": ["query", "fragment"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", "implicit"],
        "scopes_supported": ["openid", "email", "phone", "profile"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "claims_parameter_supported": False,
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "email",
            "email_verified",
            "phone_number",
            "phone_number_verified",
            "name",
            "given_name",
            "family_name",
            "preferred_username",
            "cognito:username",
            "cognito:groups",
            "username",
        ],
    }


class WellKnown:
    def __init__(self, core_getter: Any) -> None:
        self._core = core_getter

    async def jwks(self, request: Request) -> Response:
        core: Core = self._core()
        pool_id = request.path_params["pool_id"]
        if await core.store.cached_pool(pool_id) is None:
            return _not_found(pool_id)
        keys = await core.keys.get(pool_id)
        return JSONResponse(
            {"keys": keys.jwks}, headers={**CORS, "Cache-Control": f"public, max-age={JWKS_MAX_AGE}"}
        )

    async def openid_configuration(self, request: Request) -> Response:
        core: Core = self._core()
        pool_id = request.path_params["pool_id"]
        try:
            await core.pools.get(pool_id)
        except CognateError:
            return _not_found(pool_id)
        return JSONResponse(
            document(core, pool_id), headers={**CORS, "Cache-Control": f"public, max-age={DISCOVERY_MAX_AGE}"}
        )

    async def preflight(self, _request: Request) -> Response:
        return Response(
            status_code=204,
            headers={
                **CORS,
                "Access-Control-Allow-Methods": "GET, OPTIONS",
                "Access-Control-Max-Age": "86400",
            },
        )
