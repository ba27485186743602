"""RS256 signing keys and JWTs (PyJWT with ``cryptography``).

Keys are RSA-2048, identified by a ``kid`` derived from the RFC 7638 JWK thumbprint.
Verification pins the algorithm to RS256 and the key to the ``kid`` from our own key
set -- a key is never taken from the token's header -- and refuses oversized tokens
(lessons of Authlib CVE-2024-37568, CVE-2025-61920, CVE-2026-27962).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

MAX_TOKEN_BYTES = 16 * 1024


def _b64u_uint(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def generate_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_jwk(private_pem: str) -> dict[str, str]:
    """The public JWK, with a ``kid`` that is its RFC 7638 thumbprint (base64)."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    nums = key.public_key().public_numbers()
    e, n = _b64u_uint(nums.e), _b64u_uint(nums.n)
    thumb = hashlib.sha256(json.dumps({"e": e, "kty": "RSA", "n": n}, separators=(",", ":")).encode())
    kid = base64.b64encode(thumb.digest()).decode()
    return {"alg": "RS256", "e": e, "kid": kid, "kty": "RSA", "n": n, "use": "sig"}


@dataclass(frozen=True)
class Signer:
    """A loaded private key (parsed once and reused: parsing costs more than signing)."""

    kid: str
    key: rsa.RSAPrivateKey

    @classmethod
    def from_pem(cls, kid: str, private_pem: str) -> Signer:
        key = serialization.load_pem_private_key(private_pem.encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return cls(kid=kid, key=key)

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})


class InvalidToken(ValueError):
    """The token is malformed, not ours, badly signed or expired."""


def load_public_keys(jwks: list[dict[str, Any]]) -> dict[str, Any]:
    return {k["kid"]: jwt.PyJWK(k, algorithm="RS256").key for k in jwks}


def unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header, parsed only to choose a key among our own (never trusted)."""
    if len(token) > MAX_TOKEN_BYTES or token.count(".") != 2:
        raise InvalidToken("malformed token")
    head = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidToken("malformed token") from exc
    if not isinstance(header, dict):
        raise InvalidToken("malformed token")
    return header


def verify(token: str, keys: dict[str, Any], *, leeway: float = 0) -> dict[str, Any]:
    """Check size, header, signature (RS256 only, our kid only) and ``exp``; return the claims."""
    header = unverified_header(token)
    key = keys.get(header.get("kid", ""))
    if key is None or header.get("alg") != "RS256":
        raise InvalidToken("unknown key")
    return verify_with(token, key, leeway=leeway)


def verify_with(token: str, key: Any, *, leeway: float = 0) -> dict[str, Any]:
    """Verify with a key already chosen by ``kid`` (RS256 only) and check ``exp``."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            leeway=leeway,
            options={"require": ["exp", "iat", "iss", "token_use"], "verify_aud": False},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    return claims
