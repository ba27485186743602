"""What an app client may read and write of its users' attributes.

Amazon Cognito API reference, UserPoolClientType: ``WriteAttributes`` "When you don't
specify the WriteAttributes for your app client, your app can write the values of the
Standard attributes of your user pool"; ``ReadAttributes`` "When you don't specify the
ReadAttributes for your app client, your app can read the values of email_verified,
phone_number_verified, and the standard attributes of your user pool". Developer
guide, "User pool attributes": developer-only attributes (``dev:custom:*``) are read
and written by administrators only.

So a user, through any path that is theirs (SignUp, UpdateUserAttributes,
DeleteUserAttributes, the attributes of a NEW_PASSWORD_REQUIRED answer), writes only
what their client may write: by default the standard attributes, and never the
``email_verified`` / ``phone_number_verified`` flags unless the client's
WriteAttributes names them; a user proves an address with a code instead. What a
user reads (GetUser, the challenge's ``userAttributes``) is what their client may read,
never a developer-only attribute.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cognate.core.attributes import STANDARD_NAMES
from cognate.core.entities import Client, Pool
from cognate.errors import NotAuthorizedException

VERIFIED_FLAGS = ("email_verified", "phone_number_verified")
DEFAULT_WRITABLE = frozenset(n for n in STANDARD_NAMES if n not in (*VERIFIED_FLAGS, "sub", "identities"))
UNAUTHORIZED = "A client attempted to write unauthorized attribute"


def writable(client: Client) -> frozenset[str]:
    listed = client.doc.get("WriteAttributes")
    return frozenset(listed) if listed else DEFAULT_WRITABLE


def check_user_writes(client: Client, names: Iterable[str], pool: Pool | None = None) -> None:
    """NotAuthorizedException unless the client may write every one of ``names``.

    Names the pool's schema does not have (and ``sub``, ``identities``, which nobody
    writes) are left to the schema check, which answers InvalidParameterException.
    """
    allowed = writable(client)
    known = {a["Name"] for a in pool.doc.get("SchemaAttributes") or []} if pool is not None else None
    for name in names:
        if name in ("sub", "identities") or (known is not None and name not in known):
            continue
        if name not in allowed or name.startswith("dev:"):
            raise NotAuthorizedException(UNAUTHORIZED)


def readable(client: Client, attributes: Mapping[str, str]) -> dict[str, str]:
    """The attributes a user sees through ``client``: its ReadAttributes (or the default)."""
    listed = client.doc.get("ReadAttributes")
    out = {}
    for name, value in attributes.items():
        if name.startswith("dev:"):
            continue
        if listed and name not in listed and name != "sub":
            continue
        out[name] = value
    return out
