"""In-process OAuth door over the core of tests/api (pinned clock), spoken to with httpx over ASGI.

The sign-in step is the core's own password check; the hand-off to the endpoints is
``Authorizer.complete_authorization``, the function the hosted pages call after /login.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cognate.core.clock import Clock
from cognate.core.entities import Client, Pool, User
from cognate.core.outcome import Authenticated
from cognate.core.service import Core, CoreConfig
from cognate.crypto.sealing import new_master_key
from cognate.oauth.authorize import Authorizer
from cognate.oauth.discovery import WellKnown
from cognate.oauth.introspection import Introspection
from cognate.oauth.logout import Logout
from cognate.oauth.responses import preflight as oauth_preflight
from cognate.oauth.revocation import Revocation
from cognate.oauth.token_endpoint import TokenEndpoint
from cognate.oauth.userinfo import UserInfo
from cognate.store.cached import CachingStore

BASE = "http://cognate.test"
CALLBACK = "https://app.example.com/callback"
LOGOUT_URL = "https://app.example.com/bye"
PASSWORD = "Passw0rd!"
API = "https://api.example.com"


def verifier_and_challenge() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def query_of(location: str) -> dict[str, str]:
    parts = urlsplit(location)
    return {k: v[0] for k, v in parse_qs(parts.query).items()}


def fragment_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).fragment).items()}


def basic(client: Client) -> dict[str, str]:
    assert client.secret
    raw = f"{client.id}:{client.secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@dataclass
class Env:
    core: Core
    http: httpx.AsyncClient
    authorizer: Authorizer
    pool: Pool
    public: Client  # code + implicit, no secret (PKCE)
    confidential: Client  # code, with a secret
    machine: Client  # client_credentials
    user: User
    extra: dict[str, Any] = field(default_factory=dict)

    def params(self, client: Client | None = None, **overrides: Any) -> dict[str, str]:
        client = client or self.public
        params = {
            "client_id": client.id,
            "redirect_uri": CALLBACK,
            "response_type": "code",
            "scope": "openid email profile",
            "state": "st-123",
        }
        params.update({k: v for k, v in overrides.items() if v is not None})
        return {k: v for k, v in params.items() if v != ""}

    def signed_in(self, client: Client | None = None, user: User | None = None) -> Authenticated:
        return Authenticated(
            self.pool,
            client or self.public,
            user or self.user,
            auth_time=int(self.core.clock.now()),
            amr=("pwd",),
        )

    async def location(self, client: Client | None = None, **overrides: Any) -> str:
        client = client or self.public
        return await self.authorizer.complete_authorization(
            self.params(client, **overrides), self.signed_in(client)
        )

    async def code(self, client: Client | None = None, **overrides: Any) -> str:
        found = query_of(await self.location(client, **overrides))
        assert "code" in found, found
        return found["code"]

    async def token(self, data: dict[str, str], headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.http.post("/oauth2/token", data=data, headers=headers or {})

    async def tokens_by_code(self, client: Client | None = None, **overrides: Any) -> dict[str, Any]:
        client = client or self.public
        verifier, challenge = verifier_and_challenge()
        code = await self.code(client, code_challenge=challenge, code_challenge_method="S256", **overrides)
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
            "client_id": client.id,
        }
        headers = basic(client) if client.secret else {}
        if client.secret:
            del data["client_id"]
        response = await self.token(data, headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def app_over(core: Core) -> Starlette:
    def get() -> Core:
        return core

    async def preflight(request: Request) -> Response:
        return oauth_preflight(request)

    authorizer = Authorizer(get)
    well_known = WellKnown(get)
    routes = [
        Route("/oauth2/authorize", authorizer.endpoint, methods=["GET", "POST"]),
        Route("/authorize", authorizer.endpoint, methods=["GET", "POST"]),
        Route("/oauth2/token", TokenEndpoint(get), methods=["POST"]),
        Route("/oauth2/userInfo", UserInfo(get).endpoint, methods=["GET", "POST"]),
        Route("/oauth2/revoke", Revocation(get).endpoint, methods=["POST"]),
        Route("/oauth2/introspect", Introspection(get).endpoint, methods=["POST"]),
        Route("/oauth2/token", preflight, methods=["OPTIONS"]),
        Route("/logout", Logout(get).endpoint, methods=["GET", "POST"]),
        Route("/{pool_id}/.well-known/jwks.json", well_known.jwks, methods=["GET"]),
        Route("/{pool_id}/.well-known/openid-configuration", well_known.openid_configuration),
    ]
    return Starlette(routes=routes)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    store = CachingStore(f"sqlite:///{tmp_path / 'cognate.db'}")
    await store.migrate()
    config = CoreConfig(
        region="us-east-1",
        data_dir=tmp_path,
        public_url=BASE,
        issuer_style="local",
        master_key=new_master_key(),
        password_hash_cost="low",
    )
    core = Core(store, config, clock=Clock())
    pool = await core.pools.create({"PoolName": "oauth"})
    await core.resources.create_server(
        pool,
        {
            "Identifier": API,
            "Name": "api",
            "Scopes": [
                {"ScopeName": "read", "ScopeDescription": "r"},
                {"ScopeName": "write", "ScopeDescription": "w"},
            ],
        },
    )
    oauth = {
        "AllowedOAuthFlowsUserPoolClient": True,
        "CallbackURLs": [CALLBACK, "http://localhost:3000/cb"],
        "LogoutURLs": [LOGOUT_URL],
        "SupportedIdentityProviders": ["COGNITO"],
        "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    }
    public = await core.clients.create(
        pool,
        {
            "ClientName": "spa",
            "AllowedOAuthFlows": ["code", "implicit"],
            "AllowedOAuthScopes": ["openid", "email", "phone", "profile", "aws.cognito.signin.user.admin"],
            **oauth,
        },
    )
    confidential = await core.clients.create(
        pool,
        {
            "ClientName": "web",
            "GenerateSecret": True,
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid", "email", f"{API}/read"],
            **oauth,
        },
    )
    machine = await core.clients.create(
        pool,
        {
            "ClientName": "m2m",
            "GenerateSecret": True,
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthFlows": ["client_credentials"],
            "AllowedOAuthScopes": [f"{API}/read", f"{API}/write"],
        },
    )
    await core.users.create_confirmed(
        pool,
        "alice",
        PASSWORD,
        {
            "email": "alice@example.com",
            "email_verified": "true",
            "phone_number": "+15550100",
            "name": "Alice",
        },
    )
    # The sign-in step is the core's own password sign-in (what /login calls).
    from cognate.core.context import Door, RequestContext

    signed = await core.auth.password_sign_in(RequestContext(Door.HOSTED), pool, public, "alice", PASSWORD)
    assert isinstance(signed, Authenticated)
    checked = signed.user
    transport = httpx.ASGITransport(app=app_over(core))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield Env(core, http, Authorizer(lambda: core), pool, public, confidential, machine, checked)
    await store.close()
