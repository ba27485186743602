"""In-process hosted pages over the test core: a browser-like httpx client and pool set-ups."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from starlette.applications import Starlette

from cognate.core.service import Core
from cognate.hosted_ui.pages import HostedUI
from tests.support.forms import Form, form

CALLBACK = "https://app.example/callback"
OTHER_CALLBACK = "https://app.example/other"
PASSWORD = "Passw0rd!"


class Completions:
    """Stands in for the OAuth door's complete_authorization: records who was signed in."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], Any]] = []

    async def __call__(self, params: Mapping[str, str], auth: Any, ctx: Any = None) -> str:
        self.calls.append((dict(params), auth))
        query = {"code": f"code-for-{auth.user.username}"}
        if params.get("state"):
            query["state"] = params["state"]
        return f"{params['redirect_uri']}?{urlencode(query)}"


def app(core: Core, complete: Completions | None = None) -> Starlette:
    return Starlette(routes=HostedUI(lambda: core, complete).routes())


def browser(core: Core, complete: Completions | None = None, *, https: bool = False) -> httpx.AsyncClient:
    base = "https://cognate.test" if https else "http://cognate.test"
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app(core, complete)), base_url=base)


async def setup(
    core: Core, *, pool_fields: Mapping[str, Any] | None = None, **client_fields: Any
) -> tuple[Any, Any]:
    pool = await core.pools.create({"PoolName": "hosted", **(pool_fields or {})})
    client = await core.clients.create(
        pool,
        {
            "ClientName": "web",
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid", "email"],
            "CallbackURLs": [CALLBACK, OTHER_CALLBACK],
            "SupportedIdentityProviders": ["COGNITO"],
            **client_fields,
        },
    )
    return pool, client


async def add_user(core: Core, pool: Any, username: str = "alice", **attrs: str) -> Any:
    attributes = [{"Name": k, "Value": v} for k, v in attrs.items()]
    user = await core.users.admin_create(
        pool,
        {
            "Username": username,
            "MessageAction": "SUPPRESS",
            "UserAttributes": attributes,
            "TemporaryPassword": PASSWORD,
        },
    )
    return await core.users.set_password(pool, user, PASSWORD, permanent=True)


def authorize_params(client: Any, **extra: str) -> dict[str, str]:
    return {
        "client_id": client.id,
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": "openid",
        "state": "st-123",
        **extra,
    }


async def open_form(
    b: httpx.AsyncClient, path: str, params: Mapping[str, str], action: str | None = None
) -> Form:
    r = await b.get(path, params=dict(params))
    assert r.status_code == 200, r.text
    return form(r.text, action or path)


async def submit(b: httpx.AsyncClient, f: Form, **values: str) -> httpx.Response:
    return await b.post(f.action, data={**f.fields, **values})


def follow_path(r: httpx.Response) -> tuple[str, dict[str, str]]:
    """Where a 30x response sends the browser: (path, query)."""
    assert r.status_code in (302, 303), (r.status_code, r.text[:1000])
    parts = urlsplit(r.headers["location"])
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


def outbox_codes(data_dir: Path, kind: str | None = None) -> list[str]:
    path = data_dir / "outbox.jsonl"
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [m["code"] for m in lines if kind is None or m["kind"] == kind]
