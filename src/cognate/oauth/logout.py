"""Sign-out: ``GET /logout`` as Cognito serves it, and OIDC RP-initiated logout on the same path.

Cognito developer guide, "Logout endpoint": ``client_id`` with ``logout_uri`` (one of the
client's sign-out URLs, exactly), or with ``redirect_uri`` and ``response_type`` (one of
its callback URLs) to sign in again; the browser session ends. OpenID Connect
RP-Initiated Logout 1.0 section 2-3: ``id_token_hint``, ``post_logout_redirect_uri``
(registered, exactly) and ``state``; GET and POST. An unregistered URI is never followed
(RFC 9700 section 4.11: no open redirector): an error page, and the session stays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response

from cognate.core import browser_sessions, redirects
from cognate.core.entities import Client
from cognate.core.service import Core
from cognate.errors import CognateError, InvalidAuthorizationRequest, ResourceNotFoundException
from cognate.oauth import form, responses
from cognate.oauth.responses import Endpoint

MAX_PARAM = 4096


class Logout:
    def __init__(self, core_getter: Callable[[], Core]) -> None:
        self._core = core_getter

    async def endpoint(self, request: Request) -> Response:
        params: dict[str, str] = {}
        try:
            pairs = list(request.query_params.multi_items())
            if request.method == "POST":
                pairs += await form.browser_fields(request, max_fields=50)
            for key, value in pairs:
                if key in params or len(value) > MAX_PARAM:
                    raise InvalidAuthorizationRequest(f"The {key} parameter is repeated or too long.")
                params[key] = value
            client = await self._client(params)
            target = self._target(client, params)
            response = (
                responses.redirect(target)
                if target
                else responses.page("Signed out", "You have been signed out.")
            )
            await self._end_session(request, client, response)
            return response
        except Exception as exc:
            return responses.error_page(exc, Endpoint.LOGOUT)

    async def _client(self, params: Mapping[str, str]) -> Client:
        core = self._core()
        client_id = params.get("client_id")
        hint = params.get("id_token_hint")
        if hint:
            try:
                claims = await core.tokens.verify(hint, token_use="id")
            except CognateError:
                claims = None
            audience = claims.get("aud") if claims else None
            if client_id and audience and audience != client_id:
                raise InvalidAuthorizationRequest("id_token_hint was not issued to this client_id.")
            client_id = client_id or (audience if isinstance(audience, str) else None)
        if not client_id:
            raise InvalidAuthorizationRequest("The client_id parameter is required.")
        try:
            _, client = await core.auth.client_of(client_id)
        except ResourceNotFoundException:
            raise InvalidAuthorizationRequest("The client_id is not a known app client.") from None
        return client

    def _target(self, client: Client, params: Mapping[str, str]) -> str | None:
        core = self._core()
        logout_urls = list(client.doc.get("LogoutURLs") or [])
        post_logout = params.get("post_logout_redirect_uri")
        logout_uri = params.get("logout_uri")
        redirect_uri = params.get("redirect_uri")
        if logout_uri is not None:
            if not redirects.matches(logout_urls, logout_uri):
                raise InvalidAuthorizationRequest("The logout_uri is not a sign-out URL of this client.")
            return logout_uri
        if post_logout is not None:
            if not redirects.matches(logout_urls, post_logout):
                raise InvalidAuthorizationRequest(
                    "The post_logout_redirect_uri is not a sign-out URL of this client."
                )
            state = params.get("state")
            return responses.with_params(post_logout, {"state": state}) if state is not None else post_logout
        if redirect_uri is not None:
            if not redirects.matches(list(client.doc.get("CallbackURLs") or []), redirect_uri):
                raise InvalidAuthorizationRequest("The redirect_uri is not a callback URL of this client.")
            if not params.get("response_type"):
                raise InvalidAuthorizationRequest("response_type is required with redirect_uri.")
            again = {
                k: params[k]
                for k in ("client_id", "redirect_uri", "response_type", "state", "scope")
                if params.get(k) is not None
            }
            again["client_id"] = client.id
            return responses.with_params(f"{core.config.public_url}/oauth2/authorize", again)
        return None

    async def _end_session(self, request: Request, client: Client, response: Response) -> None:
        core = self._core()
        name = browser_sessions.cookie_name(client.pool_id)
        await core.browser_sessions.end(client.pool_id, request.cookies.get(name))
        secure = core.config.public_url.startswith("https://")
        response.headers.append(
            "set-cookie", browser_sessions.clear_cookie_header(client.pool_id, secure=secure)
        )
