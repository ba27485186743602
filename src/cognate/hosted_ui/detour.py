"""The authorize parameters a page carries through the detour, and the checks they pass on every page.

Cognito's ``/login`` "takes the same parameters as the authorize endpoint" (developer guide,
"Login endpoint"), and the sign-up, confirmation and recovery pages keep them so that the
detour ends at the app's ``redirect_uri`` with a code. Every GET and POST checks them again
(RFC 9700 section 4.1: the redirect URI is matched exactly against the registered ones; an
unknown client or an unregistered URI gets an error page and is never followed), so a
``client_id`` or ``redirect_uri`` edited between two pages is refused. The authorization
endpoint's full checks (scope, PKCE, response type) run again when the code is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from cognate.core import redirects
from cognate.core.entities import Client, Pool
from cognate.core.service import Core
from cognate.errors import CognateError

CARRIED = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "login_hint",
    "ui_locales",
    "identity_provider",
    "idp_identifier",
    "lang",
)
MAX_VALUE = 2048
FLOW_OF_RESPONSE_TYPE = {"code": "code", "token": "implicit"}


class PageError(Exception):
    """A request a page cannot serve: shown as an error page, never redirected."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def carried(source: Mapping[str, str]) -> dict[str, str]:
    """The authorize parameters in a query or a form, in a fixed order."""
    out: dict[str, str] = {}
    for name in CARRIED:
        value = source.get(name)
        if value:
            if len(value) > MAX_VALUE:
                raise PageError(f"The parameter {name} is too long.")
            out[name] = value
    return out


def query(params: Mapping[str, str]) -> str:
    return urlencode(list(params.items()))


async def client_for(core: Core, params: Mapping[str, str]) -> tuple[Pool, Client]:
    """The pool and client named by the parameters, once they are fit to redirect to."""
    client_id = params.get("client_id")
    if not client_id:
        raise PageError("Required parameter client_id is missing.")
    try:
        pool, client = await core.auth.client_of(client_id)
    except CognateError:
        raise PageError("The client_id does not name an app client.") from None
    if not client.doc.get("AllowedOAuthFlowsUserPoolClient"):
        raise PageError("This app client is not enabled for the hosted sign-in pages.")
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri:
        raise PageError("Required parameter redirect_uri is missing.")
    if not redirects.matches(list(client.doc.get("CallbackURLs") or []), redirect_uri):
        raise PageError("redirect_mismatch: the redirect_uri is not registered for this app client.")
    flow = FLOW_OF_RESPONSE_TYPE.get(params.get("response_type") or "")
    if flow is None:
        raise PageError("response_type must be code or token.")
    if flow not in (client.doc.get("AllowedOAuthFlows") or []):
        raise PageError("unauthorized_client: this app client may not use this response_type.")
    return pool, client


async def client_of_link(core: Core, params: Mapping[str, str]) -> tuple[Pool, Client]:
    """A link from an email (``/confirmUser``) names its client alone; other parameters are checked."""
    if params.get("redirect_uri") or params.get("response_type"):
        return await client_for(core, params)
    client_id = params.get("client_id")
    if not client_id:
        raise PageError("Required parameter client_id is missing.")
    try:
        return await core.auth.client_of(client_id)
    except CognateError:
        raise PageError("The client_id does not name an app client.") from None
