"""Who is calling the token, revocation and introspection endpoints: the OAuth side of client auth.

RFC 6749 section 2.3.1: ``client_secret_basic`` (HTTP Basic, the id and secret each
form-urlencoded before base64) and ``client_secret_post`` (``client_id`` and
``client_secret`` in the body); "The client MUST NOT use more than one authentication
method in each request". A public client (no secret) names itself with ``client_id``.
The secret itself is checked by the core's one client-authentication module; this
module only reads the proof off the request.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote_plus

from starlette.requests import Request

from cognate.core.client_auth import verify_client_secret
from cognate.core.entities import Client, Pool
from cognate.core.service import Core
from cognate.errors import InvalidClientException, InvalidRequestError, ResourceNotFoundException
from cognate.oauth import form

BASIC = "client_secret_basic"
POST = "client_secret_post"
NONE = "none"
MAX_CREDENTIAL = 512


@dataclass(frozen=True)
class Proof:
    client_id: str | None
    secret: str | None
    method: str

    @property
    def basic(self) -> bool:
        return self.method == BASIC


def basic_tried(authorization: str | None) -> bool:
    """Whether the request tried HTTP Basic (a failure then answers 401, RFC 6749 5.2)."""
    return authorization is not None and authorization[:6].lower() == "basic "


def read(authorization: str | None, form: Mapping[str, str]) -> Proof:
    """The client's proof from the ``Authorization`` header or the form (never both)."""
    form_id = form.get("client_id")
    form_secret = form.get("client_secret")
    if authorization is not None and basic_tried(authorization):
        if form_secret is not None:
            raise InvalidRequestError("Use one client authentication method, not two.")
        client_id, secret = _basic(authorization[6:].strip())
        if form_id is not None and form_id != client_id:
            raise InvalidClientException("client_id does not match the HTTP Basic credentials.")
        return Proof(client_id, secret, BASIC)
    if form_secret is not None:
        return Proof(form_id, form_secret, POST)
    return Proof(form_id, None, NONE)


def _basic(encoded: str) -> tuple[str, str]:
    bad = InvalidClientException("Malformed HTTP Basic credentials.")
    if not encoded or len(encoded) > 4 * MAX_CREDENTIAL:
        raise bad
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise bad from None
    client_id, sep, secret = decoded.partition(":")
    if not sep or not client_id:
        raise bad
    return unquote_plus(client_id), unquote_plus(secret)


async def authenticate(core: Core, proof: Proof) -> tuple[Pool, Client]:
    """The client the proof speaks for, or ``invalid_client`` (an unknown client included)."""
    if not proof.client_id or len(proof.client_id) > MAX_CREDENTIAL:
        raise InvalidClientException("Client authentication failed.")
    try:
        pool, client = await core.auth.client_of(proof.client_id)
    except ResourceNotFoundException:
        raise InvalidClientException("Client authentication failed.") from None
    if client.secret is None and proof.secret is not None:
        # A public client has no secret to prove; a secret sent for it is a misconfiguration.
        raise InvalidClientException("The client has no secret.")
    verify_client_secret(client, proof.secret)
    return pool, client


class BackChannel:
    """An endpoint a client calls directly (token, revoke, introspect): a form and the client's proof."""

    def __init__(self, core_getter: Callable[[], Core]) -> None:
        self._core = core_getter

    @staticmethod
    async def form_and_proof(request: Request) -> tuple[dict[str, str], Proof]:
        fields = await form.read(request)
        return fields, read(request.headers.get("authorization"), fields)
