"""The pages' stylesheet and each pool's branding (SetUICustomization): the CSS and the logo.

The customization CSS is served as the core re-wrote it from its checked rules
(core/ui_customization.py), never as uploaded; the logo with the type its signature proved.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cognate.core.service import Core
from cognate.core.ui_customization import render_css
from cognate.errors import CognateError
from cognate.hosted_ui import security

_STYLE = resources.files("cognate.hosted_ui").joinpath("static/style.css").read_text()


def _asset(body: str | bytes, media_type: str, *, status: int = 200) -> Response:
    response = Response(body, status_code=status, media_type=media_type)
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = security.CSP
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def routes(get_core: Callable[[], Core]) -> list[Any]:
    async def style(_request: Request) -> Response:
        return _asset(_STYLE, "text/css")

    async def brand_css(request: Request) -> Response:
        core = get_core()
        client_id = request.query_params.get("client_id") or ""
        try:
            pool, client = await core.auth.client_of(client_id)
        except CognateError:
            return _asset("", "text/css", status=404)
        custom = core.ui_customizations.effective(pool, client.id)
        return _asset(render_css(custom.css) if custom.css else "", "text/css")

    async def logo(request: Request) -> Response:
        core = get_core()
        pool_id, client_id = request.path_params["pool_id"], request.path_params["client_id"]
        try:
            pool = await core.pools.get(pool_id)
        except CognateError:
            return _asset(b"", "application/octet-stream", status=404)
        custom = core.ui_customizations.effective(pool, client_id)
        if custom.image is None or custom.client_id != client_id or custom.image_type is None:
            return _asset(b"", "application/octet-stream", status=404)
        return _asset(custom.image, custom.image_type)

    return [
        Route("/hosted-ui/style.css", style, methods=["GET"]),
        Route("/hosted-ui/brand.css", brand_css, methods=["GET"]),
        Route("/hosted-ui/logo/{pool_id}/{client_id}", logo, methods=["GET"]),
    ]
