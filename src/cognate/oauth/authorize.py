"""The authorization endpoint: ``GET /oauth2/authorize`` (and ``/authorize``).

RFC 6749 section 4.1.1-4.1.2.1 and 4.2 (code and implicit), RFC 7636 (PKCE, ``S256``
only as Cognito), RFC 9207 (``iss`` on every authorization response), OpenID Connect
Core 1.0 section 3.1.2 (``nonce``, ``prompt``, ``max_age``, ``login_hint``,
``request``/``request_uri`` refused), RFC 9700 section 2.1 and 4.11 (exact redirect_uri
matching; no redirect to an unvalidated URI, even for an error). Cognito developer
guide, "Authorize endpoint": the client must allow the flow (``AllowedOAuthFlows``)
and OAuth (``AllowedOAuthFlowsUserPoolClient``); ``identity_provider=COGNITO``.

The order of checks is the security property: until the client and its redirect_uri
are known good, every problem is an error page; after that, problems go back to the
redirect_uri with ``error``, ``state`` and ``iss``.

A valid browser session of the pool (the hosted pages' cookie) passes without the
form; otherwise the browser goes to ``/login`` with the same parameters, and the
hosted pages call ``complete_authorization`` once the user has signed in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from cognate.core import browser_sessions, redirects
from cognate.core.context import RequestContext
from cognate.core.entities import Client, Pool
from cognate.core.outcome import Authenticated
from cognate.core.service import Core
from cognate.errors import (
    CognateError,
    InvalidAuthorizationRequest,
    InvalidRequestError,
    LoginRequiredError,
    RequestNotSupportedError,
    RequestUriNotSupportedError,
    ResourceNotFoundException,
    UnauthorizedClientError,
    UnsupportedResponseTypeError,
)
from cognate.oauth import form, pkce, request_context, responses, scopes
from cognate.oauth.responses import Endpoint

log = logging.getLogger("cognate.oauth")

MAX_PARAM = 2048
MAX_QUERY = 16384
RESPONSE_TYPES = {"code": "code", "token": "implicit"}
PROMPTS = {"none", "login", "consent", "select_account"}


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated authorization request."""

    pool: Pool
    client: Client
    redirect_uri: str
    response_type: str
    scopes: tuple[str, ...]
    state: str | None
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    prompt: frozenset[str]
    max_age: int | None
    issuer: str
    fragment: bool  # the answer travels in the fragment (token, or response_mode=fragment)


class Refused(Exception):
    """A problem reported to the validated redirect_uri (RFC 6749 4.1.2.1)."""

    def __init__(self, error: CognateError, redirect_uri: str, state: str | None, iss: str, fragment: bool):
        super().__init__(error.message)
        self.error = error
        self.location = error_location(error, redirect_uri, state, iss, fragment)


def error_location(
    error: BaseException, redirect_uri: str, state: str | None, iss: str, fragment: bool
) -> str:
    _, code, description = responses.error_of(error, Endpoint.AUTHORIZE)
    params = {"error": code}
    if description:
        params["error_description"] = description
    if state is not None:
        params["state"] = state
    params["iss"] = iss
    return responses.with_params(redirect_uri, params, fragment=fragment)


def _first(params: Mapping[str, Any], name: str) -> str | None:
    """A parameter's first value, unchecked: only to decide where an error answer goes."""
    value = params.get(name)
    if isinstance(value, (list, tuple)):
        return str(value[0]) if value else None
    return None if value is None else str(value)


def _single(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            # RFC 6749 3.1: "Request and response parameters MUST NOT be included more than once."
            raise InvalidRequestError(f"The {name} parameter is repeated.")
        value = value[0]
    text = str(value)
    if len(text) > MAX_PARAM:
        raise InvalidRequestError(f"The {name} parameter is too long.")
    return text


class Authorizer:
    """The authorization endpoint and the hand-off the hosted pages call after sign-in."""

    def __init__(self, core_getter: Callable[[], Core]) -> None:
        self._core = core_getter

    # --- validation ----------------------------------------------------------------------

    async def check(self, params: Mapping[str, Any]) -> AuthorizationRequest:
        """Validate an authorization request.

        Raises ``InvalidAuthorizationRequest`` (show a page) or ``Refused`` (redirect to
        its ``location``).
        """
        core = self._core()
        try:
            client_id = _single(params, "client_id")
            redirect_uri = _single(params, "redirect_uri")
        except InvalidRequestError as exc:
            raise InvalidAuthorizationRequest(exc.message) from None
        if not client_id:
            raise InvalidAuthorizationRequest("The client_id parameter is required.")
        try:
            pool, client = await core.auth.client_of(client_id)
        except ResourceNotFoundException:
            raise InvalidAuthorizationRequest("The client_id is not a known app client.") from None
        if not redirect_uri:
            raise InvalidAuthorizationRequest("The redirect_uri parameter is required.")
        # RFC 9700 2.1: exact string matching against the registered callback URLs.
        if not redirects.matches(list(client.doc.get("CallbackURLs") or []), redirect_uri):
            raise InvalidAuthorizationRequest("The redirect_uri is not registered for this client.")
        iss = core.tokens.issuer(pool.id)
        fragment = _first(params, "response_type") == "token" or _first(params, "response_mode") == "fragment"
        try:
            state = _single(params, "state")
        except InvalidRequestError as exc:
            raise Refused(exc, redirect_uri, None, iss, fragment) from None
        try:
            return self._validated(params, pool, client, redirect_uri, state, iss)
        except InvalidAuthorizationRequest:
            raise
        except CognateError as exc:
            raise Refused(exc, redirect_uri, state, iss, fragment) from None

    def _validated(
        self,
        params: Mapping[str, Any],
        pool: Pool,
        client: Client,
        redirect_uri: str,
        state: str | None,
        iss: str,
    ) -> AuthorizationRequest:
        for name in params:
            _single(params, name)  # no repeated parameter at all
        if params.get("request") is not None:
            raise RequestNotSupportedError("Request objects are not supported.")
        if params.get("request_uri") is not None:
            raise RequestUriNotSupportedError("request_uri is not supported.")
        provider = _single(params, "identity_provider")
        if _single(params, "idp_identifier") is not None or (provider is not None and provider != "COGNITO"):
            raise InvalidAuthorizationRequest(
                "This user pool has no such identity provider; only COGNITO is available."
            )
        response_type = _single(params, "response_type")
        if not response_type:
            raise InvalidRequestError("The response_type parameter is required.")
        if response_type not in RESPONSE_TYPES:
            raise UnsupportedResponseTypeError("response_type must be code or token.")
        flows = client.doc.get("AllowedOAuthFlows") or []
        if (
            not client.doc.get("AllowedOAuthFlowsUserPoolClient")
            or RESPONSE_TYPES[response_type] not in flows
        ):
            raise UnauthorizedClientError(f"The client is not allowed the {response_type} response type.")
        idps = client.doc.get("SupportedIdentityProviders")
        if idps is not None and "COGNITO" not in idps:
            raise UnauthorizedClientError("The client does not allow sign-in with the user pool.")
        # OAuth 2.0 Multiple Response Type Encoding Practices 2.1, 3: query or fragment;
        # tokens never travel in the query.
        mode = _single(params, "response_mode") or ("fragment" if response_type == "token" else "query")
        if mode not in ("query", "fragment") or (mode == "query" and response_type == "token"):
            raise InvalidRequestError("response_mode must be query or fragment (fragment for tokens).")
        granted = scopes.for_authorization(client, _single(params, "scope"))
        challenge, method = pkce.check_challenge(
            _single(params, "code_challenge"), _single(params, "code_challenge_method")
        )
        if challenge is not None and response_type == "token":
            raise InvalidRequestError("PKCE applies to the code response type only.")
        prompt = frozenset((_single(params, "prompt") or "").split())
        if prompt - PROMPTS:
            raise InvalidRequestError("Unsupported prompt value.")
        if "none" in prompt and len(prompt) > 1:
            raise InvalidRequestError("prompt=none cannot be combined with other values.")
        raw_max_age = _single(params, "max_age")
        max_age = None
        if raw_max_age is not None:
            if not raw_max_age.isdigit() or len(raw_max_age) > 10:
                raise InvalidRequestError("max_age must be a non-negative number of seconds.")
            max_age = int(raw_max_age)
        return AuthorizationRequest(
            pool=pool,
            client=client,
            redirect_uri=redirect_uri,
            response_type=response_type,
            scopes=granted,
            state=state,
            nonce=_single(params, "nonce"),
            code_challenge=challenge,
            code_challenge_method=method,
            prompt=prompt,
            max_age=max_age,
            issuer=iss,
            fragment=mode == "fragment",
        )

    # --- completing ----------------------------------------------------------------------

    async def complete_authorization(
        self, params: Mapping[str, Any], auth: Authenticated, ctx: RequestContext | None = None
    ) -> str:
        """The URL to send the browser to once ``auth`` has signed in for ``params``.

        The parameters are validated again (they travelled through the browser);
        ``InvalidAuthorizationRequest`` means an error page, never a redirect.
        """
        try:
            client_id = _single(params, "client_id")
        except InvalidRequestError as exc:
            raise InvalidAuthorizationRequest(exc.message) from None
        if client_id != auth.client.id:
            raise InvalidAuthorizationRequest("The sign-in does not belong to this client.")
        try:
            request = await self.check(params)
        except Refused as refused:
            return refused.location
        if auth.pool.id != request.pool.id:
            raise InvalidAuthorizationRequest("The sign-in does not belong to this client.")
        return await self._respond(request, auth, ctx)

    async def _respond(
        self, request: AuthorizationRequest, auth: Authenticated, ctx: RequestContext | None
    ) -> str:
        core = self._core()
        out: dict[str, str] = {}
        if request.response_type == "code":
            code = await core.authorization_codes.issue(
                auth,
                redirect_uri=request.redirect_uri,
                scopes=request.scopes,
                nonce=request.nonce,
                code_challenge=request.code_challenge,
                code_challenge_method=request.code_challenge_method,
            )
            out["code"] = code
        else:
            issued = await core.tokens.issue(
                auth.pool,
                auth.client,
                auth.user,
                auth_time=int(auth.auth_time),
                scopes=list(request.scopes),
                with_refresh=False,
                with_id_token=scopes.OPENID in request.scopes,
                nonce=request.nonce,
                amr=auth.amr,
                ctx=ctx,
            )
            out["access_token"] = issued.access_token
            if issued.id_token:
                out["id_token"] = issued.id_token
            out["token_type"] = "Bearer"
            out["expires_in"] = str(issued.expires_in)
        if request.state is not None:
            out["state"] = request.state
        out["iss"] = request.issuer
        return responses.with_params(request.redirect_uri, out, fragment=request.fragment)

    # --- the endpoint ----------------------------------------------------------------------

    async def endpoint(self, request: Request) -> Response:
        if len(request.url.query) > MAX_QUERY:
            return responses.error_page(
                InvalidAuthorizationRequest("The request is too large."), Endpoint.AUTHORIZE
            )
        params: dict[str, Any] = {}
        try:
            for key, value in request.query_params.multi_items():
                params.setdefault(key, []).append(value)
            if request.method == "POST":
                for key, item in await form.browser_fields(request, max_fields=100):
                    params.setdefault(key, []).append(item)
            checked = await self.check(params)
        except Refused as refused:
            return responses.redirect(refused.location)
        except Exception as exc:  # untrusted client or redirect_uri, or a fault: a page, never a traceback
            return responses.error_page(exc, Endpoint.AUTHORIZE)
        try:
            return await self._decide(request, checked, params)
        except Exception as exc:
            # The redirect_uri is trusted now: even a fault goes back to it as server_error
            # (Cognito's authorize endpoint; RFC 6749 4.1.2.1), logged, never shown.
            location = error_location(
                exc, checked.redirect_uri, checked.state, checked.issuer, checked.fragment
            )
            return responses.redirect(location)

    async def _decide(
        self, request: Request, checked: AuthorizationRequest, params: dict[str, Any]
    ) -> Response:
        core = self._core()
        signed_in = None
        if "login" not in checked.prompt:
            signed_in = await self.session_sign_in(checked.pool, checked.client, dict(request.cookies))
        if signed_in is not None and checked.max_age is not None:
            # OIDC Core 3.1.2.1: an older authentication must be made again.
            if core.clock.now() - signed_in.auth_time > checked.max_age:
                signed_in = None
        if signed_in is not None:
            return responses.redirect(await self._respond(checked, signed_in, request_context.of(request)))
        if "none" in checked.prompt:
            return responses.redirect(
                error_location(
                    LoginRequiredError("The user is not signed in."),
                    checked.redirect_uri,
                    checked.state,
                    checked.issuer,
                    checked.fragment,
                )
            )
        flat = [(k, v) for k, values in params.items() for v in values]
        return responses.redirect(f"{core.config.public_url}/login?{urlencode(flat)}")

    async def session_sign_in(
        self, pool: Pool, client: Client, cookies: Mapping[str, str]
    ) -> Authenticated | None:
        """The browser session of ``pool`` (the hosted pages' cookie), if it speaks for a live user."""
        core = self._core()
        found = await core.browser_sessions.current(
            pool.id, cookies.get(browser_sessions.cookie_name(pool.id))
        )
        if found is None:
            return None
        user = await core.auth.user_by_sub(pool, found.sub)
        if user is None or not user.enabled or user.tokens_valid_after > found.auth_time:
            return None
        return Authenticated(pool, client, user, auth_time=int(found.auth_time), amr=tuple(found.amr))
