"""The composition root: builds the store, the core and the protocol doors once; routes.

``create_app()`` is what each uvicorn worker runs (its settings come from the
``COGNATE_*`` environment that ``cognate serve`` hands down).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cognate import bootstrap, config, http_deadline
from cognate.admin_keys import AdminKeys
from cognate.awsjson import validation
from cognate.awsjson.dispatch import AwsJsonDoor
from cognate.awsjson.registry import load_all
from cognate.awsjson.upload import ImportUpload
from cognate.core.clock import Clock
from cognate.core.service import Core, CoreConfig
from cognate.hosted_ui.pages import HostedUI
from cognate.lambdas.invoker import LambdaInvoker
from cognate.logs import RequestLog
from cognate.oauth.authorize import Authorizer
from cognate.oauth.discovery import WellKnown, is_jwks_request
from cognate.oauth.introspection import Introspection
from cognate.oauth.logout import Logout
from cognate.oauth.responses import preflight as oauth_preflight
from cognate.oauth.revocation import Revocation
from cognate.oauth.token_endpoint import TokenEndpoint
from cognate.oauth.userinfo import UserInfo
from cognate.store.cached import CachingStore

if TYPE_CHECKING:
    from cognate.metrics import Metrics

log = logging.getLogger("cognate")

PURGE_INTERVAL_S = 60.0


def functions_of(settings: config.Settings) -> dict[str, str]:
    """The functions file's map (checked again: ``cognate serve`` checked it before starting)."""
    if not settings.functions:
        return {}
    from cognate import functions

    return functions.load(settings.functions)


def core_config(settings: config.Settings, secrets: bootstrap.Secrets) -> CoreConfig:
    return CoreConfig(
        functions=functions_of(settings),
        region=settings.region,
        data_dir=settings.data_dir,
        public_url=settings.public_url,
        issuer_style=settings.issuer_style,
        master_key=secrets.master_key,
        accepted_master_keys=secrets.accepted_master_keys,
        smtp_url=settings.smtp_url,
        password_hash_cost=settings.password_hash_cost,
        auth_event_retention_days=settings.auth_event_retention_days,
        audit_retention_days=settings.audit_retention_days,
    )


class State:
    core: Core | None = None


class Front:
    """``/`` goes straight to the AWS JSON door, ``POST /oauth2/token`` to the token
    endpoint and a pool's JWKS to its prepared bytes (plain ASGI, the hot paths); the rest
    to Starlette."""

    def __init__(
        self,
        door: AwsJsonDoor,
        app: Starlette,
        well_known: WellKnown,
        token: TokenEndpoint,
        on_request: Callable[[], None],
    ) -> None:
        self.door = door
        self.app = app
        self.well_known = well_known
        self.token = token
        self.on_request = on_request

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.on_request()
        if scope["type"] == "http" and scope["path"] == "/":
            await self.door(scope, receive, send)
        elif scope["type"] == "http" and scope["path"] == "/oauth2/token" and scope["method"] == "POST":
            await self.token(scope, receive, send)
        elif scope["type"] == "http" and is_jwks_request(scope):
            await self.well_known.jwks_asgi(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def build(settings: config.Settings, *, clock: Clock | None = None) -> RequestLog:
    """The whole application; ``clock`` lets in-process tests pin time."""
    http_deadline.configure(settings.read_timeout)
    secrets = bootstrap.ensure(settings)
    operations = load_all()
    state = State()

    def get_core() -> Core:
        assert state.core is not None, "the core is built at startup"
        return state.core

    # The current admin pair and, during a rotation, the previous one until it expires.
    admin = AdminKeys(secrets.admin_pairs, secrets.credentials_file, (clock or Clock()).now)
    lookup_secret = admin.lookup

    # /metrics exists only when the operator asked for it: on this port behind --metrics-token,
    # or on --metrics-port (served by `cognate serve` itself); requests are counted either way.
    metrics: Metrics | None = None
    if settings.metrics:  # prometheus-client is imported only then
        from cognate.metrics import Metrics

        metrics = Metrics(settings.metrics_token, operations, (), served_here=settings.metrics_port is None)
    door = AwsJsonDoor(get_core, lookup_secret, settings.trusted_networks())

    async def purge_loop(core: Core) -> None:
        while True:
            await asyncio.sleep(PURGE_INTERVAL_S)
            try:
                await core.purge_expired()
            except Exception:  # keep serving; the next round tries again
                log.exception("purging expired items failed")

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        store = CachingStore(
            settings.database_url,
            pool_size=settings.database_pool_size,
            sqlite_cache_mib=settings.sqlite_cache_mib,
        )
        cfg = core_config(settings, secrets)
        invoker = LambdaInvoker(cfg.functions, timeout_s=settings.lambda_timeout_ms / 1000)
        await invoker.start()  # warm python workers: a trigger's first call pays no start-up
        state.core = Core(store, cfg, clock=clock, invoker=invoker, events=metrics)
        task = asyncio.create_task(purge_loop(state.core))
        # What start-up leaves for later (the service model, the page templates), read in a
        # thread while the server already answers, before the first request needs it.
        threading.Thread(target=warm_up, name="cognate-warm-up", daemon=True).start()
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await state.core.import_jobs.close()
            await state.core.auth_events.settle()  # sign-in events still being written
            await invoker.close()
            await store.close()

    def warm_up() -> None:
        try:
            validation.warm_up()
            hosted.warm_up()
        except Exception:  # the request that needs it reads it again, and says what failed
            log.exception("warming up failed")

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def preflight(request: Request) -> Response:
        return oauth_preflight(request)

    well_known = WellKnown(get_core)
    authorizer = Authorizer(get_core)
    hosted = HostedUI(get_core, complete_authorization=authorizer.complete_authorization)
    token = TokenEndpoint(get_core, settings.trusted_networks())
    userinfo = UserInfo(get_core)
    logout = Logout(get_core)
    routes: list[Any] = [
        # OAuth 2.0 / OIDC (issue 8): no CORS on authorize and logout (RFC 9700 2.6).
        Route("/oauth2/authorize", authorizer.endpoint, methods=["GET", "POST"]),
        Route("/authorize", authorizer.endpoint, methods=["GET", "POST"]),
        Route("/oauth2/token", token, methods=["POST"]),
        Route("/oauth2/userInfo", userinfo.endpoint, methods=["GET", "POST"]),
        Route("/oauth2/revoke", Revocation(get_core).endpoint, methods=["POST"]),
        Route("/oauth2/introspect", Introspection(get_core).endpoint, methods=["POST"]),
        *(
            Route(path, preflight, methods=["OPTIONS"])
            for path in ("/oauth2/token", "/oauth2/userInfo", "/oauth2/revoke", "/oauth2/introspect")
        ),
        Route("/logout", logout.endpoint, methods=["GET", "POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/{pool_id}/.well-known/jwks.json", well_known.jwks, methods=["GET"]),
        Route(
            "/{pool_id}/.well-known/openid-configuration", well_known.openid_configuration, methods=["GET"]
        ),
        Route("/{pool_id}/.well-known/{name}", well_known.preflight, methods=["OPTIONS"]),
        *hosted.routes(),
        # The pre-signed URL of a user import job (its CSV is PUT there).
        *ImportUpload(get_core).routes(),
    ]
    web = Starlette(routes=routes, lifespan=lifespan)
    web.state.trusted_proxies = settings.trusted_networks()  # the OAuth door and the pages read it
    web.state.get_core = get_core  # in-process tests reach the running core through it
    key_file = bootstrap.KeyFile(settings, (secrets.master_key, secrets.accepted_master_keys))

    def reload_master_keys() -> None:
        """Before each request (a stat at most once a second): a changed master.key's ring."""
        if state.core is None:  # the lifespan's own event: the core is not built yet
            return
        ring = key_file.changed()
        if ring is not None and state.core.sealer.replace(*ring):
            log.info("master key ring read again: sealing with key %s", state.core.sealer.key_ids[0])

    front: Any = Front(door, web, well_known, token, reload_master_keys)
    if metrics is not None:
        metrics.routes = tuple((route.path_regex, route.path) for route in routes if isinstance(route, Route))
        from cognate.metrics import MetricsMiddleware

        front = MetricsMiddleware(front, metrics)
    return RequestLog(front, settings.trusted_networks())


def create_app() -> RequestLog:
    """uvicorn factory: settings from the environment ``cognate serve`` prepared."""
    return build(config.load())
