"""Proof Key for Code Exchange (RFC 7636), ``S256`` only, as Cognito.

RFC 7636 section 4.2-4.6; RFC 9700 section 2.1.1: the server MUST enforce the verifier
when a challenge was sent, and MUST refuse a token request that carries a
``code_verifier`` when the authorization request had no challenge (the downgrade).
Cognito supports only ``S256``; ``plain`` is ``invalid_request``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from cognate.errors import InvalidGrantError, InvalidRequestError

S256 = "S256"
# code_verifier = 43*128unreserved (section 4.1); an S256 challenge is base64url(sha256) = 43 chars.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


def check_challenge(challenge: str | None, method: str | None) -> tuple[str | None, str | None]:
    """The (challenge, method) of an authorization request, or ``invalid_request``."""
    if challenge is None and method is None:
        return None, None
    if challenge is None:
        raise InvalidRequestError("code_challenge is required when code_challenge_method is given.")
    if method is None:
        raise InvalidRequestError("code_challenge_method is required with code_challenge.")
    if method != S256:
        raise InvalidRequestError("code_challenge_method must be S256.")
    if not _CHALLENGE.fullmatch(challenge):
        raise InvalidRequestError("code_challenge must be the base64url SHA-256 of the code_verifier.")
    return challenge, method


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify(challenge: str | None, verifier: str | None) -> None:
    """The token request's ``code_verifier`` against the code's challenge (``invalid_grant`` if wrong)."""
    if challenge is None:
        if verifier is not None:
            # RFC 9700 2.1.1: a verifier without a challenge is a downgrade attempt.
            raise InvalidGrantError("code_verifier was sent but the authorization request had no PKCE.")
        return
    if verifier is None:
        raise InvalidGrantError("code_verifier is required for this code.")
    if not _VERIFIER.fullmatch(verifier):
        raise InvalidGrantError("code_verifier is malformed.")
    if not hmac.compare_digest(s256(verifier).encode(), challenge.encode()):
        raise InvalidGrantError("code_verifier does not match the code_challenge.")
