"""OpenID Connect discovery and the JWKS of a pool.

OpenID Connect Discovery 1.0 section 4 (the document at
``{issuer}/.well-known/openid-configuration``) and RFC 7517 (JWK Set). Both are
served at ``{public-url}/{pool}/.well-known/...`` whatever the issuer style, are
cacheable, and answer CORS for single-page apps.

The JWKS is what every resource server fetches, so it is served as a static document:
its bytes, headers and strong ``ETag`` (RFC 9110 section 8.8.3) are built once per pool
and key set and sent as they are, straight from ASGI (``jwks_asgi``); a rotation
changes the key set and so the document. ``If-None-Match`` gets ``304 Not Modified``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cognate.core.keys import PoolKeys
from cognate.core.service import Core
from cognate.errors import CognateError

CORS = {"Access-Control-Allow-Origin": "*"}
JWKS_MAX_AGE = 300
DISCOVERY_MAX_AGE = 3600
JWKS_SUFFIX = "/.well-known/jwks.json"


@dataclass(frozen=True)
class _Document:
    """One pool's JWKS as sent: the ASGI messages, built once per key set."""

    keys: PoolKeys
    kids: tuple[str, ...]
    etag: bytes
    headers: list[tuple[bytes, bytes]]
    body: dict[str, Any]
    not_modified_headers: list[tuple[bytes, bytes]]


def _document(keys: PoolKeys) -> _Document:
    body = orjson.dumps({"keys": keys.jwks})
    etag = b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'
    common = [
        (b"access-control-allow-origin", b"*"),
        (b"cache-control", f"public, max-age={JWKS_MAX_AGE}".encode()),
        (b"etag", etag),
    ]
    return _Document(
        keys=keys,
        kids=tuple(k["kid"] for k in keys.jwks),
        etag=etag,
        headers=[
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *common,
        ],
        body={"type": "http.response.body", "body": body},
        not_modified_headers=common,
    )


def is_jwks_request(scope: dict[str, Any]) -> bool:
    """``GET``/``HEAD /{pool}/.well-known/jwks.json``: what :meth:`WellKnown.jwks_asgi` answers."""
    path: str = scope["path"]
    return (
        path.endswith(JWKS_SUFFIX)
        and path.count("/") == 3
        and len(path) > len(JWKS_SUFFIX) + 1
        and scope["method"] in ("GET", "HEAD")
    )


def _etag_matches(header: bytes, etag: bytes) -> bool:
    """RFC 9110 section 13.1.2: weak comparison over a comma-separated list, or ``*``."""
    for tag in header.split(b","):
        tag = tag.strip()
        if tag == b"*" or tag.removeprefix(b"W/") == etag:
            return True
    return False


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
        self._jwks: dict[str, _Document] = {}

    async def _jwks_document(self, pool_id: str) -> _Document | None:
        core: Core = self._core()
        if await core.pools.find(pool_id) is None:
            self._jwks.pop(pool_id, None)
            return None
        keys = await core.keys.get(pool_id)
        doc = self._jwks.get(pool_id)
        if doc is not None and doc.keys is keys:
            return doc
        kids = tuple(k["kid"] for k in keys.jwks)
        if doc is not None and doc.kids == kids:  # the key cache reloaded the same key set
            doc = _Document(keys, kids, doc.etag, doc.headers, doc.body, doc.not_modified_headers)
        else:
            doc = _document(keys)
        self._jwks[pool_id] = doc
        return doc

    async def jwks_asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """The JWKS, sent as prepared bytes (the caller checked :func:`is_jwks_request`)."""
        pool_id = scope["path"][1 : -len(JWKS_SUFFIX)]
        doc = await self._jwks_document(pool_id)
        if doc is None:
            await _not_found(pool_id)(scope, receive, send)
            return
        # A new start message each time (middleware may add headers to it); the lists are shared.
        for name, value in scope["headers"]:
            if name == b"if-none-match" and _etag_matches(value, doc.etag):
                await send(
                    {"type": "http.response.start", "status": 304, "headers": doc.not_modified_headers}
                )
                await send({"type": "http.response.body", "body": b""})
                return
        await send({"type": "http.response.start", "status": 200, "headers": doc.headers})
        await send(doc.body if scope["method"] == "GET" else {"type": "http.response.body", "body": b""})

    async def jwks(self, request: Request) -> Response:
        """The same document through Starlette (for a caller that does not route it to jwks_asgi)."""
        pool_id = request.path_params["pool_id"]
        doc = await self._jwks_document(pool_id)
        if doc is None:
            return _not_found(pool_id)
        headers = {k.decode(): v.decode() for k, v in doc.headers if k != b"content-length"}
        return Response(doc.body["body"], headers=headers)

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
