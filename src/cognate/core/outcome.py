"""What a sign-in step ends with: tokens, or the next challenge (with its Session)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cognate.core.entities import User
from cognate.core.tokens import Issued


@dataclass(frozen=True)
class Outcome:
    """Either tokens, or a challenge to answer (with the Session, when it has one)."""

    tokens: Issued | None = None
    challenge: str | None = None
    session: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)


def names_of(user: User | None) -> tuple[str, ...]:
    """Names a SECRET_HASH may have been computed with: the username, the sub, aliases."""
    if user is None:
        return ()
    return tuple(
        n
        for n in (user.username, user.sub, user.attributes.get("email"), user.attributes.get("phone_number"))
        if n
    )
