"""What a sign-in step ends with: ``Authenticated`` (who, when, how) or the next ``Challenge``.

Every sign-in path of the core (password, SRP, NEW_PASSWORD_REQUIRED, MFA, refresh,
the hosted login) ends in one of these two, and issues nothing itself. Each door then
turns an ``Authenticated`` into what it answers with: the AWS door into tokens
(``Tokens.complete``), the OAuth door into an authorization code or a browser session.
``amr`` uses RFC 8176's method values (``pwd``, ``otp``, ``sms``, ``mfa``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cognate.core.entities import Client, Pool, RefreshToken, User


@dataclass(frozen=True)
class Authenticated:
    """The user proved who they are to ``client`` at ``auth_time`` (epoch seconds) by ``amr``."""

    pool: Pool
    client: Client
    user: User
    auth_time: int
    amr: tuple[str, ...]
    scopes: tuple[str, ...] | None = None  # None: the client's default (the AWS door's admin scope)
    # Set when the proof was a refresh token: tokens are issued again within its family.
    refresh: RefreshToken | None = None
    # PreTokenGeneration's triggerSource when it is not the door's default
    # (TokenGeneration_NewPasswordChallenge after NEW_PASSWORD_REQUIRED).
    token_source: str | None = None


@dataclass(frozen=True)
class Challenge:
    """The next step the user must answer, with the opaque ``Session`` that links it (if any)."""

    name: str
    session: str | None
    parameters: dict[str, str] = field(default_factory=dict)


SignInStep = Authenticated | Challenge


def names_of(user: User | None) -> tuple[str, ...]:
    """Names a SECRET_HASH may have been computed with: the username, the sub, aliases."""
    if user is None:
        return ()
    return tuple(
        n
        for n in (user.username, user.sub, user.attributes.get("email"), user.attributes.get("phone_number"))
        if n
    )
