"""Identifiers shaped like Cognito's: pool ids, client ids and secrets, subs, opaque tokens."""

from __future__ import annotations

import itertools
import secrets
import string
import uuid

_ALNUM = string.ascii_letters + string.digits
_LOWER_ALNUM = string.ascii_lowercase + string.digits


def pool_id(region: str) -> str:
    """``us-east-1_AbCdEf123``: the region, an underscore, nine letters and digits."""
    return f"{region}_" + "".join(secrets.choice(_ALNUM) for _ in range(9))


def client_id() -> str:
    """26 lowercase letters and digits."""
    return "".join(secrets.choice(_LOWER_ALNUM) for _ in range(26))


def client_secret() -> str:
    """51 lowercase letters and digits (~263 bits)."""
    return "".join(secrets.choice(_LOWER_ALNUM) for _ in range(51))


def sub() -> str:
    return str(uuid.uuid4())


def opaque_token(nbytes: int = 32) -> str:
    """A random URL-safe token (>= 128 bits); stored only as a hash."""
    return secrets.token_urlsafe(nbytes)


_SEQUENCE = itertools.count()


def ordered_id(at: float) -> str:
    """An id that sorts in creation order: the microsecond, this process's sequence (ties
    at one instant), then 64 random bits (ties across processes). 38 characters."""
    return f"{int(at * 1_000_000):014x}-{next(_SEQUENCE) % 0x1000000:06x}-{secrets.token_hex(8)}"
