"""One request to a hosted page: its browser, its checked parameters, and how it answers.

Every page handler begins with ``Visit.open`` (browser cookie, CSRF on a POST, the carried
authorize parameters checked against the client) and answers through ``render``,
``redirect`` or ``finish`` (the browser session and the redirect to the app).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from cognate.core import browser_sessions
from cognate.core.context import Door, RequestContext
from cognate.core.entities import Client, Pool
from cognate.core.outcome import Authenticated
from cognate.core.service import Core
from cognate.errors import CognateError
from cognate.forwarded import request_source
from cognate.hosted_ui import detour, security

if TYPE_CHECKING:
    from jinja2 import Environment

log = logging.getLogger("cognate.hosted_ui")

# The OAuth door's complete_authorization(params, auth, ctx) -> the URL to send the browser to
# (code or tokens, or an error the app may receive); app.py hands it over (doors never import each other).
Complete = Callable[[Mapping[str, str], Any, Any], Awaitable[str]]

NOTICES = {
    "code_resent": "We have sent you a new code.",
    "confirmed": "Your account is confirmed. Sign in to continue.",
    "password_changed": "Your password has been changed. Sign in to continue.",
    "not_confirmed": "Your account is not confirmed yet. Enter the code we sent you, or ask for a new one.",
    "reset_required": "You must reset your password. Enter the code we sent you and choose a new password.",
    "session_expired": "Your sign-in took too long. Sign in again.",
}
MAX_FORM_FIELDS = 64


@dataclass
class Visit:
    request: Request
    core: Core
    env: Environment
    csrf: security.Csrf
    complete: Complete | None
    pool: Pool
    client: Client
    params: dict[str, str]
    browser_id: str
    new_browser: bool
    form: dict[str, str] = field(default_factory=dict)

    @property
    def secure(self) -> bool:
        return security.over_tls(self.request.url.scheme, self.core.config.public_url)

    @property
    def browser(self) -> str:
        """The hash that binds server-side detour records to this browser."""
        return security.browser_key(self.browser_id)

    def context(self) -> RequestContext:
        """The RequestContext of the hosted door (source IP, user agent) for the core."""
        return RequestContext(
            Door.HOSTED,
            source_ip=request_source(self.request),
            user_agent=(self.request.headers.get("user-agent") or "")[:512] or None,
        )

    def username_label(self) -> str:
        kinds = set(self.pool.doc.get("UsernameAttributes") or [])
        if kinds == {"email"}:
            return "Email"
        if kinds == {"phone_number"}:
            return "Phone number"
        if kinds:
            return "Email or phone number"
        return "Username"

    def branding(self) -> dict[str, str | None]:
        c = self.core.ui_customizations.effective(self.pool, self.client.id)
        version = int((c.modified or 0) * 1000)
        css = f"/hosted-ui/brand.css?client_id={self.client.id}&v={version}" if c.css else None
        logo = f"/hosted-ui/logo/{self.pool.id}/{c.client_id}?v={version}" if c.image else None
        return {"brand_css_url": css, "logo_url": logo}

    def render(self, template: str, heading: str, *, status: int = 200, **ctx: Any) -> Response:
        notice_key = self.request.query_params.get("notice") or ""
        values: dict[str, Any] = {
            "heading": heading,
            "app_name": self.client.name,
            "params": self.params,
            "query": detour.query(self.params),
            "csrf": self.csrf.token(self.browser_id),
            "username_label": self.username_label(),
            "errors": {},
            "error": None,
            "notice": NOTICES.get(notice_key),
            **self.branding(),
        }
        values.update(ctx)
        if isinstance(values.get("qr_svg"), str):
            values["qr_svg"] = Markup(values["qr_svg"])  # noqa: S704  (our own SVG, made by segno)
        html = self.env.get_template(template).render(**values)
        return self.answer(HTMLResponse(html, status_code=status))

    def redirect(self, path: str, **extra: str) -> Response:
        """303 to another page of the detour, with the carried parameters."""
        target = {**self.params, **{k: v for k, v in extra.items() if v}}
        return self.answer(RedirectResponse(f"{path}?{detour.query(target)}", status_code=303))

    def answer(self, response: Response) -> Response:
        for name, value in security.HEADERS.items():
            response.headers[name] = value
        if self.new_browser:
            response.headers.append(
                "set-cookie", security.browser_cookie(self.browser_id, secure=self.secure)
            )
        return response

    async def finish(self, done: Authenticated, *, from_session: bool = False) -> Response:
        """Signed in: a fresh browser session (never the one the browser brought), then the app."""
        if not from_session:
            value = await self.core.browser_sessions.start(
                done.pool.id,
                done.user.sub,
                done.user.username,
                done.auth_time,
                done.amr,
                replacing=self.request.cookies.get(browser_sessions.cookie_name(done.pool.id)),
            )
        if self.complete is None:
            response = self.render("message.html", "Signed in", message="You are signed in.")
        else:
            try:
                url = await self.complete(self.params, done, self.context())
            except CognateError as exc:  # the request cannot be answered by redirect
                raise detour.PageError(exc.message) from None
            response = self.answer(RedirectResponse(url, status_code=302))
        if not from_session:
            response.headers.append(
                "set-cookie", browser_sessions.set_cookie_header(done.pool.id, value, secure=self.secure)
            )
        return response


def error_page(env: Environment, message: str, status: int, *, secure: bool) -> Response:
    """A page for a request no client can be named for: never a redirect."""
    html = env.get_template("message.html").render(
        heading="Something went wrong", app_name="Sign in", message=message, errors={}, error=None
    )
    response = HTMLResponse(html, status_code=status)
    for name, value in security.HEADERS.items():
        response.headers[name] = value
    return response
