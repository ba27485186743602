"""Identifiers shaped like Cognito's: pool ids, client ids and secrets, subs, opaque tokens."""

from __future__ import annotations

import itertools
import os
import secrets
import string
import threading

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
    return uuid4()


# Random bytes for version-4 UUIDs, drawn from the operating system 4 KiB at a time: a
# token issuance takes up to four UUIDs (jti, origin_jti, event_id, the ID token's jti),
# and a system call each cost more than the rest of their making. A forked child (a
# worker) starts with an empty buffer, so no two processes ever share a byte of it.
_RANDOM_CHUNK = 4096
_random = bytearray()
_random_lock = threading.Lock()


def _forget_random_after_fork() -> None:
    global _random_lock
    _random.clear()
    _random_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_random_after_fork)


def uuid4() -> str:
    """A random (version 4, RFC 9562) UUID in its 36-character text form, as ``str(uuid.uuid4())``."""
    with _random_lock:
        if len(_random) < 16:
            _random[:] = os.urandom(_RANDOM_CHUNK)
        b = _random[-16:]
        del _random[-16:]
    b[6] = (b[6] & 0x0F) | 0x40  # version 4
    b[8] = (b[8] & 0x3F) | 0x80  # the RFC's variant
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def opaque_token(nbytes: int = 32) -> str:
    """A random URL-safe token (>= 128 bits); stored only as a hash."""
    return secrets.token_urlsafe(nbytes)


_SEQUENCE = itertools.count()


def ordered_id(at: float) -> str:
    """An id that sorts in creation order: the microsecond, this process's sequence (ties
    at one instant), then 64 random bits (ties across processes). 38 characters."""
    return f"{int(at * 1_000_000):014x}-{next(_SEQUENCE) % 0x1000000:06x}-{secrets.token_hex(8)}"
