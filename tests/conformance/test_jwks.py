"""A pool's JWKS (RFC 7517) as resource servers fetch it: a static document per key set,
with a strong ETag (RFC 9110 8.8.3) and conditional requests (13.1.2), over a real socket."""

from __future__ import annotations

import json
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import RSAKey


def _url(server: Any, pool_id: str) -> str:
    return f"{server.url}/{pool_id}/.well-known/jwks.json"


def test_document_headers_and_keys(server: Any, pool: dict[str, Any]) -> None:
    resp = httpx.get(_url(server, pool["Id"]))
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    assert resp.headers["access-control-allow-origin"] == "*"
    assert resp.headers["cache-control"] == "public, max-age=300"
    assert int(resp.headers["content-length"]) == len(resp.content)
    etag = resp.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 10
    keys = json.loads(resp.content)["keys"]
    assert len(keys) == 2 and len({k["kid"] for k in keys}) == 2
    for k in keys:
        assert set(k) == {"alg", "e", "kid", "kty", "n", "use"}  # public members only
        public = RSAKey.import_key(k).public_key
        assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048
    again = httpx.get(_url(server, pool["Id"]))
    assert again.content == resp.content and again.headers["etag"] == etag
    # the prepared response is never changed by what is added to one (the request id)
    assert len(again.headers.get_list("x-request-id")) <= 1
    if "x-request-id" in resp.headers:
        assert again.headers["x-request-id"] != resp.headers["x-request-id"]


def test_conditional_and_head(server: Any, pool: dict[str, Any]) -> None:
    full = httpx.get(_url(server, pool["Id"]))
    etag = full.headers["etag"]
    for header in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        resp = httpx.get(_url(server, pool["Id"]), headers={"If-None-Match": header})
        assert resp.status_code == 304, header
        assert resp.content == b"" and resp.headers["etag"] == etag
    stale = httpx.get(_url(server, pool["Id"]), headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.content == full.content
    head = httpx.head(_url(server, pool["Id"]))
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == full.headers["content-length"]


def test_unknown_pool_and_other_methods(server: Any, pool: dict[str, Any]) -> None:
    missing = httpx.get(_url(server, "us-east-1_NoSuchPoo"))
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert httpx.get(_url(server, "us-east-1_NoSuchPoo"), headers={"If-None-Match": "*"}).status_code == 404
    assert httpx.post(_url(server, pool["Id"]), content=b"{}").status_code == 405
    assert httpx.get(f"{server.url}/x/{pool['Id']}/.well-known/jwks.json").status_code == 404
    assert httpx.get(f"{server.url}//.well-known/jwks.json").status_code == 404
    preflight = httpx.options(_url(server, pool["Id"]))
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "*"
