"""RS256 signing keys and JWTs (joserfc over ``cryptography``).

Keys are RSA-2048, identified by a ``kid`` derived from the RFC 7638 JWK thumbprint.
Verification pins the algorithm to RS256 and the key to the ``kid`` from our own key
set -- a key is never taken from the token's header -- and refuses oversized tokens
(lessons of Authlib CVE-2024-37568, CVE-2025-61920, CVE-2026-27962).

Signing is the hot path of every sign-in and refresh, so :meth:`Signer.sign` builds the
JWS compact serialization itself (RFC 7515 section 7.1, RS256 = RSASSA-PKCS1-v1_5 with
SHA-256, RFC 7518 section 3.3): the protected header is encoded once per key, the claims
with orjson, and ``cryptography`` signs. Tokens read exactly as joserfc's did.
Verification, on every token check, likewise: the compact form split, the header's
``alg`` pinned to RS256, the key chosen among ours, and ``cryptography`` verifies the
signature over the exact signing input before the claims are parsed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from joserfc.jwk import RSAKey

MAX_TOKEN_BYTES = 16 * 1024


def _b64u_uint(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def generate_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _own_private_key(private_pem: str) -> rsa.RSAPrivateKey:
    """Parse a private key Cognate generated itself (and kept sealed with AEAD, so unaltered).

    OpenSSL's consistency check of an RSA private key costs 50-200 ms per load, more than
    everything else a pool's first token needs; it guards against keys from untrusted
    sources, which these are not (and OpenSSL still verifies each CRT signature it makes).
    """
    key = serialization.load_pem_private_key(
        private_pem.encode(), password=None, unsafe_skip_rsa_key_validation=True
    )
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def public_jwk(private_pem: str) -> dict[str, str]:
    """The public JWK, with a ``kid`` that is its RFC 7638 thumbprint (base64)."""
    key = _own_private_key(private_pem)
    nums = key.public_key().public_numbers()
    e, n = _b64u_uint(nums.e), _b64u_uint(nums.n)
    thumb = hashlib.sha256(json.dumps({"e": e, "kty": "RSA", "n": n}, separators=(",", ":")).encode())
    kid = base64.b64encode(thumb.digest()).decode()
    return {"alg": "RS256", "e": e, "kid": kid, "kty": "RSA", "n": n, "use": "sig"}


def _b64u(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _claims_json(claims: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(claims)
    except TypeError:  # e.g. an integer beyond 64 bits from a pre-token-generation trigger
        return json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode()


_PKCS1V15 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


@dataclass(frozen=True)
class Signer:
    """A loaded private key (parsed once and reused: parsing costs more than signing)."""

    kid: str
    key: RSAKey
    _header: bytes = field(init=False, repr=False)
    _private: rsa.RSAPrivateKey = field(init=False, repr=False)

    def __post_init__(self) -> None:
        private = self.key.private_key
        if not isinstance(private, rsa.RSAPrivateKey):
            raise ValueError("a signer needs an RSA private key")
        header = orjson.dumps({"typ": "JWT", "kid": self.kid, "alg": "RS256"})
        object.__setattr__(self, "_header", _b64u(header) + b".")
        object.__setattr__(self, "_private", private)

    @classmethod
    def from_pem(cls, kid: str, private_pem: str) -> Signer:
        return cls(kid=kid, key=RSAKey.import_key(_own_private_key(private_pem)))

    def sign(self, claims: dict[str, Any]) -> str:
        """An RS256 JWS over ``claims`` with this key's ``kid``, in compact form."""
        signing_input = self._header + _b64u(_claims_json(claims))
        signature = self._private.sign(signing_input, _PKCS1V15, _SHA256)
        return (signing_input + b"." + _b64u(signature)).decode()


class InvalidToken(ValueError):
    """The token is malformed, not ours, badly signed or expired."""


def load_public_keys(jwks: list[dict[str, Any]]) -> dict[str, RSAKey]:
    return {k["kid"]: RSAKey.import_key(k) for k in jwks}


def _b64u_decode(part: str) -> bytes:
    # As joserfc decodes: a segment that is not base64url cannot be what we signed (the
    # signature covers the segments' text), and the signature must be 256 bytes.
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _json_segment(part: str) -> dict[str, Any]:
    """A JOSE header or claims set: a JSON object in base64url (orjson, else ``json`` for
    what orjson refuses, such as integers beyond 64 bits)."""
    try:
        raw = _b64u_decode(part)
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: deep nesting
        raise InvalidToken("malformed token") from exc
    if not isinstance(doc, dict):
        raise InvalidToken("malformed token")
    return doc


def _segment(token: str, index: int) -> dict[str, Any]:
    if len(token) > MAX_TOKEN_BYTES or token.count(".") != 2:
        raise InvalidToken("malformed token")
    part = token.split(".")[index]
    try:
        doc = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: deep nesting
        raise InvalidToken("malformed token") from exc
    if not isinstance(doc, dict):
        raise InvalidToken("malformed token")
    return doc


def unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header, parsed only to choose a key among our own (never trusted)."""
    return _segment(token, 0)


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims, unverified: only to find which pool's keys to try (never trusted)."""
    return _segment(token, 1)


_REQUIRED_CLAIMS = ("exp", "iat", "iss", "token_use")


def verify(token: str, keys: dict[str, RSAKey], *, now: float | None = None) -> dict[str, Any]:
    """Check size, header, signature (RS256 only, our kid only) and ``exp``; return the claims."""
    header = unverified_header(token)
    key = keys.get(header.get("kid", ""))
    if key is None or header.get("alg") != "RS256":
        raise InvalidToken("unknown key")
    return verify_with(token, key, now=now)


def verify_with(
    token: str, key: RSAKey | Callable[[dict[str, Any]], RSAKey], *, now: float | None = None
) -> dict[str, Any]:
    """Verify (RS256 only) and check ``exp``, with a key, or with a function that picks one
    of our keys from the token's header (so that the token is parsed once)."""
    if len(token) > MAX_TOKEN_BYTES:
        raise InvalidToken("token too large")
    # RFC 7515 section 5.2, for the compact form and RS256 alone (joserfc's checks, without
    # its general machinery, which cost more than the RSA verification itself).
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("malformed token")
    header_part, claims_part, signature_part = parts
    header = _json_segment(header_part)
    if header.get("alg") != "RS256":
        raise InvalidToken("unknown key")
    if "crit" in header:  # RFC 7515 4.1.11: no extension of ours is understood
        raise InvalidToken("unsupported critical header")
    chosen = key(header) if callable(key) else key
    public = chosen.public_key
    if not isinstance(public, rsa.RSAPublicKey):
        raise InvalidToken("unknown key")
    try:
        signing_input = f"{header_part}.{claims_part}".encode("ascii")
        signature = _b64u_decode(signature_part)
        if len(signature) != public.key_size // 8:
            raise ValueError("signature of the wrong size")
    except ValueError as exc:  # non-ASCII text, or bad base64
        raise InvalidToken("malformed token") from exc
    try:
        public.verify(signature, signing_input, _PKCS1V15, _SHA256)
    except InvalidSignature:
        raise InvalidToken("bad_signature") from None
    claims = _json_segment(claims_part)
    if any(name not in claims for name in _REQUIRED_CLAIMS):
        raise InvalidToken("missing claim")
    exp, iat = claims["exp"], claims["iat"]
    if (
        isinstance(exp, bool)
        or not isinstance(exp, int | float)
        or isinstance(iat, bool)
        or not isinstance(iat, int | float)
    ):
        raise InvalidToken("exp and iat must be numbers")
    if float(exp) <= (time.time() if now is None else now):
        raise InvalidToken("token expired")
    return claims
