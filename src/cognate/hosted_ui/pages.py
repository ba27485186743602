"""The hosted pages' router: opens each visit (browser, CSRF, parameters) and turns failures into pages.

Paths as Cognito spells them (developer guide, "Managed login endpoints"): ``/login``,
``/signup``, ``/confirm``, ``/confirmUser``, ``/forgotPassword``,
``/confirmforgotPassword``, ``/resendcode``; the steps a sign-in can lead to:
``/forceChangePassword``, ``/mfa``, ``/mfaSetup``. The handlers live in signin.py,
signup.py and recovery.py; assets.py serves the stylesheet and the pool's branding.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cognate.core.service import Core
from cognate.hosted_ui import detour, security
from cognate.hosted_ui.visit import Complete, Visit, error_page

if TYPE_CHECKING:
    from jinja2 import Environment

log = logging.getLogger("cognate.hosted_ui")

Handler = Callable[[Visit], Awaitable[Response]]


@functools.cache
def _templates() -> Environment:
    """The pages' templates, one set per process (package files: the same for every app).

    jinja2 is imported here, not with this module: a sixteenth of a start-up (``warm_up``)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("cognate.hosted_ui", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


class HostedUI:
    def __init__(self, get_core: Callable[[], Core], complete_authorization: Complete | None = None) -> None:
        self.get_core = get_core
        self.complete = complete_authorization
        self._csrf: security.Csrf | None = None
        self._csrf_ring: tuple[str, ...] = ()

    @property
    def env(self) -> Environment:
        return _templates()

    def warm_up(self) -> None:
        """Load and compile every template now (the server calls it in a thread once it has started)."""
        for name in self.env.list_templates():
            self.env.get_template(name)

    def csrf(self, core: Core) -> security.Csrf:
        ring = core.sealer.key_ids  # the ring may change while the server runs (a rotation)
        if self._csrf is None or self._csrf_ring != ring:
            self._csrf = security.Csrf(*core.sealer.derived_keys(b"cognate hosted-ui csrf"))
            self._csrf_ring = ring
        return self._csrf

    async def open(self, request: Request, *, post: bool, link: bool = False) -> Visit:
        core = self.get_core()
        secure = security.over_tls(request.url.scheme, core.config.public_url)
        cookie = request.cookies.get(security.browser_cookie_name(secure=secure))
        known = security.valid_browser_id(cookie)
        browser_id = cookie if known and cookie else security.new_browser_id()
        form: dict[str, str] = {}
        if post:
            form = await read_form(request)
            if not known:
                raise detour.PageError(
                    "Your browser did not send this page's cookie: "
                    "enable cookies, reload the page and try again.",
                    403,
                )
            if not self.csrf(core).check(browser_id, form.get(security.CSRF_FIELD)):
                raise detour.PageError(
                    "The form has expired or was not sent by this page: reload it and try again.", 403
                )
        params = detour.carried(form if post else request.query_params)
        pool, client = await (detour.client_of_link if link else detour.client_for)(core, params)
        return Visit(
            request=request,
            core=core,
            env=self.env,
            csrf=self.csrf(core),
            complete=self.complete,
            pool=pool,
            client=client,
            params=params,
            browser_id=browser_id,
            new_browser=not known,
            form=form,
        )

    def page(
        self, handler: Handler, *, post: bool, link: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            secure = security.over_tls(request.url.scheme, self.get_core().config.public_url)
            try:
                visit = await self.open(request, post=post, link=link)
                return await handler(visit)
            except detour.PageError as exc:
                return error_page(self.env, exc.message, exc.status, secure=secure)
            except Exception:
                log.exception("hosted page %s failed", request.url.path)
                return error_page(
                    self.env, "An error was encountered with the requested page.", 500, secure=secure
                )

        return endpoint

    def routes(self) -> list[Any]:
        from cognate.hosted_ui import assets, recovery, signin, signup

        pages: list[tuple[str, Handler, Handler | None]] = [
            ("/login", signin.login_form, signin.login_post),
            ("/forceChangePassword", signin.new_password_form, signin.new_password_post),
            ("/mfa", signin.mfa_form, signin.mfa_post),
            ("/mfaSetup", signin.mfa_setup_form, signin.mfa_setup_post),
            ("/signup", signup.signup_form, signup.signup_post),
            ("/confirm", signup.confirm_form, signup.confirm_post),
            ("/confirmUser", signup.confirm_user, None),
            ("/resendcode", signup.resend_form, signup.resend_post),
            ("/forgotPassword", recovery.forgot_form, recovery.forgot_post),
            ("/confirmforgotPassword", recovery.confirm_form, recovery.confirm_post),
        ]
        routes: list[Any] = []
        for path, get, post in pages:
            link = path == "/confirmUser"  # an email's link carries client_id alone
            routes.append(Route(path, self.page(get, post=False, link=link), methods=["GET"]))
            if post is not None:
                routes.append(Route(path, self.page(post, post=True), methods=["POST"]))
        routes.extend(assets.routes(self.get_core))
        return routes


MAX_FIELDS = 64
MAX_BODY = 64 * 1024


async def read_form(request: Request) -> dict[str, str]:
    """The posted fields (``application/x-www-form-urlencoded``, as the pages' forms send them),
    read with a size cap; the first value of a repeated field counts."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise detour.PageError("The form must be sent as application/x-www-form-urlencoded.", 415)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise detour.PageError("The form is too large.", 413)
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS, strict_parsing=False
        )
    except (UnicodeDecodeError, ValueError):
        raise detour.PageError("The form could not be read.") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form
