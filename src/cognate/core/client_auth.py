"""Client authentication: the one place an app client's proof is checked.

Each door checks the client before it calls a flow; the flows never see a secret.

- AWS door, ``SECRET_HASH`` / ``SecretHash``: ``Base64(HMAC-SHA256(client_secret,
  username + client_id))`` over the name the request's user goes by
  (Cognito developer guide, "Computing secret hash values"). A client with a secret
  must send it on every sign-in step, challenge answer and sign-up operation
  (API reference, InitiateAuth / RespondToAuthChallenge / SignUp ...).
- AWS door, ``ClientSecret`` (GetTokensFromRefreshToken, RevokeToken) and the token
  endpoint's ``client_secret_basic`` / ``client_secret_post`` (RFC 6749 section 2.3.1):
  the secret itself, compared in constant time (``verify_client_secret``).
- Hosted pages: the page is the client's own, served by Cognate; a form post proves
  nothing about the client and carries no secret, so the page's rule is that the
  client exists, belongs to the pool and may use the hosted login (checked by the
  pages before they call ``AuthFlows.password_sign_in``).

A bad proof raises ``InvalidClientException``: ``NotAuthorizedException`` on the AWS
wire, ``invalid_client`` on the OAuth door.

Which names a ``SECRET_HASH`` may have been computed with: the name the request
carries (``USERNAME``; in a PASSWORD_VERIFIER answer the internal username), else any
name of the user the request designates (username, ``sub``, email, phone number),
since SDKs hash the alias that was typed or the internal name they were given. The
user is only looked up when the typed name does not match, so the common case costs
one HMAC. When the request designates no user it can name (an expired session, an
unknown refresh token), the error is the one the flow itself would give.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from cognate.core.context import RequestContext
from cognate.core.entities import Client, Pool, User
from cognate.core.outcome import names_of
from cognate.crypto.secret_hash import check_secret_hash
from cognate.errors import InvalidClientException, NotAuthorizedException

if TYPE_CHECKING:
    from cognate.core.auth_flows import AuthFlows

SESSION_EXPIRED = "Invalid session for the user, session is expired."
REFRESH_FLOWS = ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN")


def _missing(client: Client) -> InvalidClientException:
    return InvalidClientException(f"Client {client.id} is configured for secret but secret was not received")


def _mismatch(client: Client, tried: int = 1) -> InvalidClientException:
    return InvalidClientException(
        f"Unable to verify secret hash for client {client.id}",
        detail=f"the proof matched none of the {tried} name(s) the request's user goes by",
    )


def secret_hash_matches(client: Client, given: str, *names: str | None) -> bool:
    """Whether ``given`` is the client's SECRET_HASH over one of ``names`` (constant time each)."""
    assert client.secret is not None
    return any(name and check_secret_hash(client.secret, name, client.id, given) for name in names)


def verify_secret_hash(client: Client, given: str | None, *names: str | None) -> None:
    """SECRET_HASH over one of ``names``; nothing to check for a client without a secret."""
    if client.secret is None:
        return
    if not given:
        raise _missing(client)
    if not secret_hash_matches(client, given, *names):
        raise _mismatch(client, len([n for n in names if n]))


def verify_client_secret(client: Client, given: str | None) -> None:
    """The client secret itself (ClientSecret, client_secret_basic, client_secret_post).

    A client without a secret (a public client) needs none; one with a secret must send
    exactly it. The comparison takes the same time wherever the strings differ.
    """
    if client.secret is None:
        return
    if not given or not hmac.compare_digest(client.secret.encode(), given.encode("utf-8", "replace")):
        raise InvalidClientException(
            f"Unable to verify secret hash for client {client.id}",
            detail="ClientSecret missing" if not given else "ClientSecret does not match",
        )


class ClientAuth:
    """The AWS door's client checks, run before the flow they guard."""

    def __init__(self, flows: AuthFlows) -> None:
        self.flows = flows

    async def client(
        self, ctx: RequestContext, client_id: str, pool_id: str | None = None
    ) -> tuple[Pool, Client]:
        """The client (secret unsealed) and its pool; ResourceNotFoundException otherwise."""
        return await self.flows.client_of(client_id, pool_id)

    async def _secret_hash(
        self,
        client: Client,
        given: str | None,
        typed: str | None,
        user_names: Callable[[], Awaitable[tuple[str, ...]]],
    ) -> None:
        if client.secret is None:
            return
        if not given:
            raise _missing(client)
        if secret_hash_matches(client, given, typed):
            return
        verify_secret_hash(client, given, *(await user_names()))

    # --- what each operation's SECRET_HASH speaks for -----------------------------------

    async def secret_hash_for_username(
        self, ctx: RequestContext, pool: Pool, client: Client, given: str | None, typed: str
    ) -> None:
        """SignUp, ConfirmSignUp, ForgotPassword ...: the typed name, or the user it designates."""

        async def names() -> tuple[str, ...]:
            return names_of(await self.flows.users.find(pool, typed)) if typed else ()

        await self._secret_hash(client, given, typed, names)

    async def secret_hash_for_sign_up(
        self, ctx: RequestContext, pool: Pool, client: Client, given: str | None, username: str
    ) -> None:
        """SignUp: the user does not exist yet, so only the username it asks for."""
        verify_secret_hash(client, given, username)

    async def initiate(
        self,
        ctx: RequestContext,
        client_id: str,
        flow: str,
        params: Mapping[str, str],
        secret_hash: str | None,
        *,
        admin_pool_id: str | None = None,
    ) -> tuple[Pool, Client]:
        """InitiateAuth / AdminInitiateAuth: the flow is admitted for the client, then its proof."""
        pool, client = await self.flows.client_of(client_id, admin_pool_id)
        self.flows.admit(client, flow, params, admin=admin_pool_id is not None)
        typed = params.get("USERNAME") or ""
        if flow in REFRESH_FLOWS:
            token = params.get("REFRESH_TOKEN") or ""

            async def refresh_names() -> tuple[str, ...]:
                return names_of(await self._refresh_user(pool, client, token))

            await self._secret_hash(client, secret_hash, typed, refresh_names)
        else:
            await self.secret_hash_for_username(ctx, pool, client, secret_hash, typed)
        return pool, client

    async def respond(
        self,
        ctx: RequestContext,
        client_id: str,
        challenge: str,
        responses: Mapping[str, str],
        session: str | None,
        secret_hash: str | None,
        *,
        admin_pool_id: str | None = None,
    ) -> tuple[Pool, Client]:
        """RespondToAuthChallenge: over the user the Session (or the SRP secret block) names."""
        pool, client = await self.flows.client_of(client_id, admin_pool_id)
        if client.secret is None:
            return pool, client
        typed = responses.get("USERNAME") or ""
        if challenge == "PASSWORD_VERIFIER":
            # Computed with the internal username (USER_ID_FOR_SRP), as the SRP clients do.
            user_id, user = await self.flows.srp.pending_user(pool, client, responses)
            verify_secret_hash(client, secret_hash, typed or user_id, *names_of(user))
            return pool, client
        user = await self._session_user(pool, client, challenge, session)
        if typed and typed not in names_of(user):
            raise NotAuthorizedException(SESSION_EXPIRED)
        verify_secret_hash(client, secret_hash, typed or user.username, *names_of(user))
        return pool, client

    async def _session_user(self, pool: Pool, client: Client, challenge: str, session: str | None) -> User:
        state = await self.flows.sessions.peek(session)
        if state.get("client_id") != client.id or state.get("challenge") != challenge:
            raise NotAuthorizedException(SESSION_EXPIRED)
        user = await self.flows.user_by_sub(pool, str(state["sub"]))
        if user is None:
            raise NotAuthorizedException(SESSION_EXPIRED)
        return user

    async def _refresh_user(self, pool: Pool, client: Client, token: str) -> User:
        record = await self.flows.tokens.find_refresh(token, client)
        return await self.flows.refresh_user(pool, record.sub)
