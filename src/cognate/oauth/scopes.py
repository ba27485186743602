"""Which scopes a request gets, as Cognito decides them.

Cognito developer guide, "Authorize endpoint" and "Token endpoint": no ``scope`` means
every scope the app client allows (for ``client_credentials``, every custom scope);
``email``, ``phone`` and ``profile`` need ``openid``. A scope the client does not allow
is refused with ``invalid_scope``: the guide says such scopes are "ignored at runtime",
but the live service refuses the whole authorize request (reported against it in
openchoreo/openchoreo#3217 and python-social-auth/social-app-django#538), and a refusal
is also the answer RFC 6749 section 4.1.2.1 gives; the contract follows the live
service. A refresh may not widen the scope it was granted (RFC 6749 section 6).
"""

from __future__ import annotations

from cognate.core.entities import Client
from cognate.errors import InvalidScopeError

OPENID = "openid"
NEEDS_OPENID = ("email", "phone", "profile")
ADMIN = "aws.cognito.signin.user.admin"
MAX_SCOPE_LENGTH = 4096


def parse(raw: str | None) -> tuple[str, ...] | None:
    """Space-separated scope tokens, without repeats, in the order given; None when absent or empty."""
    if raw is None or not raw.strip():
        return None
    if len(raw) > MAX_SCOPE_LENGTH:
        raise InvalidScopeError("The scope parameter is too long.")
    seen: dict[str, None] = {}
    for token in raw.split():
        seen.setdefault(token, None)
    return tuple(seen)


def allowed(client: Client) -> tuple[str, ...]:
    return tuple(client.doc.get("AllowedOAuthScopes") or ())


def for_authorization(client: Client, raw: str | None) -> tuple[str, ...]:
    """The scopes of an authorization request by ``client``."""
    permitted = allowed(client)
    requested = parse(raw)
    if requested is None:
        return permitted
    refused = [s for s in requested if s not in permitted]
    if refused:
        raise InvalidScopeError(f"Scope not allowed for this client: {' '.join(refused)}")
    if OPENID not in requested and any(s in requested for s in NEEDS_OPENID):
        raise InvalidScopeError("The email, phone and profile scopes require the openid scope.")
    return requested


def for_client_credentials(client: Client, raw: str | None) -> tuple[str, ...]:
    """The custom scopes of a ``client_credentials`` request (a resource server's ``id/name``)."""
    custom = tuple(s for s in allowed(client) if "/" in s)
    requested = parse(raw)
    if requested is None:
        if not custom:
            raise InvalidScopeError("The client allows no custom scope.")
        return custom
    refused = [s for s in requested if s not in custom]
    if refused:
        raise InvalidScopeError(f"Scope not allowed for this client: {' '.join(refused)}")
    return requested


def within(granted: tuple[str, ...], raw: str | None) -> None:
    """A refresh asks for no scope beyond what was granted (narrowing is accepted, not applied)."""
    requested = parse(raw)
    if requested is None:
        return
    wider = [s for s in requested if s not in granted]
    if wider:
        raise InvalidScopeError(f"Scope not granted to this refresh token: {' '.join(wider)}")
