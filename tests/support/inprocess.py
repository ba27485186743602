"""The whole application in-process: httpx's ASGI transport, a pinned clock, no socket.

What the AWS door answers here is byte for byte what a server process answers, but a
test moves the clock instead of sleeping. IAM operations are signed by botocore at the
pinned clock's time, as an SDK would sign them at that moment.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import botocore.auth
import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from cognate import app, config
from cognate.core.clock import Clock
from cognate.core.service import Core
from cognate.store.cached import CachingStore

URL = "http://cognate.test"
TARGET = "AWSCognitoIdentityProviderService."
CONTENT_TYPE = "application/x-amz-json-1.1"


@dataclass
class InProcessApi:
    http: httpx.AsyncClient
    clock: Clock
    data_dir: Path
    credentials: dict[str, str]
    get_core: Callable[[], Core]

    @property
    def core(self) -> Core:
        """The running application's core (for what only a test needs: settling a job's run)."""
        return self.get_core()

    def _sign(self, headers: dict[str, str], payload: bytes) -> dict[str, str]:
        at = dt.datetime.fromtimestamp(self.clock.now(), dt.UTC).replace(tzinfo=None)
        request = AWSRequest(method="POST", url=f"{URL}/", data=payload, headers=headers)
        creds = Credentials(self.credentials["AccessKeyId"], self.credentials["SecretAccessKey"])
        with mock.patch.object(botocore.auth, "get_current_datetime", lambda *a, **k: at):
            SigV4Auth(creds, "cognito-idp", "us-east-1").add_auth(request)
        return dict(request.prepare().headers.items())

    async def call(
        self,
        operation: str,
        body: dict[str, Any],
        *,
        signed: bool = False,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        payload = json.dumps(body).encode()
        sent = {"X-Amz-Target": TARGET + operation, "Content-Type": CONTENT_TYPE, **(headers or {})}
        if signed:
            sent = self._sign(sent, payload)
        return await self.http.post("/", content=payload, headers=sent)

    async def ok(self, operation: str, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
        resp = await self.call(operation, body, **kw)
        assert resp.status_code == 200, resp.text
        out: dict[str, Any] = resp.json()
        return out

    async def admin(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self.ok(operation, body, signed=True)

    async def error(self, operation: str, body: dict[str, Any], type_name: str, **kw: Any) -> str:
        """The call fails with Cognito's ``type_name`` (body and header agree); its message."""
        resp = await self.call(operation, body, **kw)
        assert resp.status_code == 400, resp.text
        assert resp.json()["__type"] == type_name, resp.text
        assert resp.headers["x-amzn-errortype"] == f"{type_name}:"
        message: str = resp.json()["message"]
        return message

    def outbox(self) -> list[dict[str, Any]]:
        path = self.data_dir / "outbox.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@asynccontextmanager
async def inprocess_api(tmp: Path, *, clock: Clock | None = None) -> AsyncIterator[InProcessApi]:
    """The application over a fresh SQLite file in ``tmp``, lifespan run as a server would."""
    settings = config.Settings(data_dir=tmp / "data", public_url=URL, password_hash_cost="low").resolved()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrating = CachingStore(settings.database_url)
    await migrating.migrate()
    await migrating.close()
    clock = clock or Clock.pinned()
    front = app.build(settings, clock=clock)
    credentials = json.loads((settings.data_dir / "credentials.json").read_text())
    starlette: Any = front
    while not hasattr(starlette, "router"):  # under the middlewares, the app whose lifespan it is
        starlette = starlette.app
    async with starlette.router.lifespan_context(starlette):
        transport = httpx.ASGITransport(app=front, client=("192.0.2.10", 4711))
        async with httpx.AsyncClient(transport=transport, base_url=URL) as http:
            yield InProcessApi(http, clock, settings.data_dir, credentials, starlette.state.get_core)
