"""How a typed name finds a user: username keys, the usable aliases and the attribute index.

Developer guide, "Customizing sign-in attributes": with UsernameAttributes the email
or phone number is the sign-in name; with AliasAttributes a verified email or phone
number and any preferred_username sign a user in too, and each belongs to one user
(the store keeps them unique: store/users.py). API reference, UsernameConfigurationType:
when CaseSensitive is false, usernames and the email and preferred_username aliases
ignore case.
"""

from __future__ import annotations

from cognate.core import usernames
from cognate.core.entities import Pool, User
from cognate.errors import AliasExistsException, CognateError, UsernameExistsException
from cognate.store.base import AliasConflict, UserIndex

# Attributes kept in the attribute index: the ones ListUsers filters on and the aliases.
INDEXED = ("email", "phone_number", "name", "given_name", "family_name", "preferred_username", "sub")
ALIASES = ("email", "phone_number", "preferred_username")


def case_sensitive(pool: Pool) -> bool:
    return bool((pool.doc.get("UsernameConfiguration") or {}).get("CaseSensitive", True))


def username_key(pool: Pool, username: str) -> str:
    """The unique, compared form of a username (usernames.py: NFC, or RFC 8265
    UsernameCaseMapped in a case-insensitive pool)."""
    return usernames.key(username, case_sensitive=case_sensitive(pool))


def alias_key(pool: Pool, attribute: str, value: str) -> str:
    """An alias as its unique index keys it: normalised as usernames are, and in a
    case-insensitive pool email and preferred_username ignore case (Cognito: "This option
    also enables both preferred_username and email alias to be case insensitive")."""
    if attribute == "phone_number":
        return value
    return usernames.key(value, case_sensitive=case_sensitive(pool))


def _legacy_alias_key(pool: Pool, attribute: str, value: str) -> str:
    """An alias key as written before normalisation (docs/usernames.md)."""
    if attribute != "phone_number" and not case_sensitive(pool):
        return value.lower()
    return value


def usable_aliases(pool: Pool, attrs: dict[str, str]) -> list[tuple[str, str]]:
    """The (attribute, key) pairs a user with ``attrs`` signs in with besides the username.

    With UsernameAttributes, the email or phone number itself (verified or not); with
    AliasAttributes, a verified email or phone number (an unverified one may sit on
    several accounts, as in Cognito) and any preferred_username.
    """
    username_attrs = pool.doc.get("UsernameAttributes") or []
    alias_attrs = pool.doc.get("AliasAttributes") or []
    out = []
    for attr in ALIASES:
        value = attrs.get(attr)
        if not value:
            continue
        if attr in username_attrs or (
            attr in alias_attrs and (attr == "preferred_username" or attrs.get(f"{attr}_verified") == "true")
        ):
            out.append((attr, alias_key(pool, attr, value)))
    return out


def index_of(pool: Pool, user: User) -> UserIndex:
    """What the store finds ``user`` by: the filterable attributes and the usable aliases."""
    return UserIndex(indexed_values(user), usable_aliases(pool, user.attributes))


def alias_taken(pool: Pool, conflict: AliasConflict, *, creating: bool) -> CognateError:
    """Cognito's error for an alias another user holds: at creation, a sign-in name (UsernameAttributes)
    is a taken username; otherwise the alias exists."""
    message = f"An account with the given {conflict.attribute} already exists."
    if creating and conflict.attribute in (pool.doc.get("UsernameAttributes") or []):
        return UsernameExistsException(message)
    return AliasExistsException(message)


def indexed_values(user: User) -> list[tuple[str, str]]:
    out = [("sub", user.sub)]
    for name in INDEXED:
        if name != "sub" and user.attributes.get(name):
            out.append((name, user.attributes[name]))
    return out
