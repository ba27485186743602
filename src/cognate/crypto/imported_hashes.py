"""Password hashes brought by a user import job (CreateUserImportJob's PasswordHashingAlgorithm).

Cognito's model names four algorithms: ARGON2ID, BCRYPT, SCRYPT and PBKDF2_SHA256.
Each row of the job's CSV carries its user's hash in the ``cognito:password_hash``
column, in the encoding the usual libraries write (docs/import.md):

- ARGON2ID: the PHC string ``$argon2id$v=19$m=...,t=...,p=...$salt$hash`` (argon2-cffi,
  libsodium, PHP's password_hash);
- BCRYPT: the modular-crypt string ``$2a$`` / ``$2b$`` / ``$2y$`` + cost + 53 characters;
- SCRYPT: the PHC string ``$scrypt$ln=<log2 N>,r=<r>,p=<p>$salt$hash`` (passlib);
- PBKDF2_SHA256: the PHC string ``$pbkdf2-sha256$<rounds>$salt$hash`` (passlib), or
  Django's ``pbkdf2_sha256$<iterations>$<salt>$<hash>``.

``parse`` checks the shape and the cost (no hashing: an import checks millions of rows),
refusing costs so high that one sign-in would tie up a core (a denial of service);
``verify`` recomputes with the library that owns the algorithm and compares in
constant time. A hash is never logged, and a reason never quotes it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

import argon2
import bcrypt
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

ALGORITHMS = ("ARGON2ID", "BCRYPT", "SCRYPT", "PBKDF2_SHA256")

# The costs accepted: enough for every sensible deployment, bounded so that one
# sign-in cannot take a core for seconds (or a gigabyte of memory).
MAX_ARGON2_MEMORY_KIB = 256 * 1024
MAX_ARGON2_TIME = 16
MAX_ARGON2_LANES = 16
MAX_BCRYPT_COST = 16
MAX_SCRYPT_LOG_N = 20
MAX_SCRYPT_R = 32
MAX_SCRYPT_P = 16
MAX_SCRYPT_MEMORY = 512 * 1024 * 1024
MAX_PBKDF2_ITERATIONS = 5_000_000

_B64 = r"[A-Za-z0-9+/.]+={0,2}"
_BCRYPT = re.compile(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$")
_SCRYPT = re.compile(rf"^\$scrypt\$ln=(\d{{1,2}}),r=(\d{{1,3}}),p=(\d{{1,3}})\$({_B64})\$({_B64})$")
_PBKDF2_PHC = re.compile(rf"^\$pbkdf2-sha256\$(\d{{1,10}})\$({_B64})\$({_B64})$")
_PBKDF2_DJANGO = re.compile(r"^pbkdf2_sha256\$(\d{1,10})\$([^$]{1,256})\$([A-Za-z0-9+/]+={0,2})$")


class UnusableHash(ValueError):
    """The column does not hold a hash of the job's algorithm (the reason names no value)."""


def _b64(text: str) -> bytes:
    """PHC's base64 (no padding), passlib's variant too (``.`` for ``+``)."""
    text = text.replace(".", "+").rstrip("=")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UnusableHash("its salt or hash is not base64") from exc


def parse(algorithm: str, encoded: str) -> str:
    """The hash as it will be stored (``encoded`` itself), once its shape and cost are checked."""
    if len(encoded) > 1024:
        raise UnusableHash("it is too long")
    if algorithm == "ARGON2ID":
        try:
            params = argon2.extract_parameters(encoded)
        except (InvalidHashError, ValueError) as exc:
            raise UnusableHash("it is not an argon2id PHC string") from exc
        if params.type is not argon2.Type.ID:
            raise UnusableHash("it is not an argon2id PHC string")
        if not (
            params.time_cost >= 1 and params.parallelism >= 1 and params.memory_cost >= 8 * params.parallelism
        ):
            raise UnusableHash("its cost is below what argon2 accepts")
        if (
            params.memory_cost > MAX_ARGON2_MEMORY_KIB
            or params.time_cost > MAX_ARGON2_TIME
            or params.parallelism > MAX_ARGON2_LANES
        ):
            raise UnusableHash("its cost is above the accepted maximum")
        return encoded
    if algorithm == "BCRYPT":
        m = _BCRYPT.match(encoded)
        if not m:
            raise UnusableHash("it is not a bcrypt modular-crypt string")
        if not 4 <= int(m[1]) <= MAX_BCRYPT_COST:
            raise UnusableHash("its cost is outside the accepted range")
        # 22 characters carry the 128-bit salt: the last one's 4 low bits must be zero.
        if encoded[7 + 21] not in ".Oeu":
            raise UnusableHash("its salt is not a bcrypt salt")
        return encoded
    if algorithm == "SCRYPT":
        m = _SCRYPT.match(encoded)
        if not m:
            raise UnusableHash("it is not a scrypt PHC string")
        ln, r, p = int(m[1]), int(m[2]), int(m[3])
        if not (1 <= ln <= MAX_SCRYPT_LOG_N and 1 <= r <= MAX_SCRYPT_R and 1 <= p <= MAX_SCRYPT_P):
            raise UnusableHash("its cost is outside the accepted range")
        if 128 * r * (2**ln + p) > MAX_SCRYPT_MEMORY:
            raise UnusableHash("its cost is above the accepted maximum")
        if not _b64(m[4]) or len(_b64(m[5])) < 16:
            raise UnusableHash("its salt or hash is too short")
        return encoded
    if algorithm == "PBKDF2_SHA256":
        m = _PBKDF2_PHC.match(encoded) or _PBKDF2_DJANGO.match(encoded)
        if not m:
            raise UnusableHash("it is not a pbkdf2-sha256 PHC string or Django hash")
        if not 1 <= int(m[1]) <= MAX_PBKDF2_ITERATIONS:
            raise UnusableHash("its iteration count is outside the accepted range")
        salt = _b64(m[2]) if encoded.startswith("$") else m[2].encode()
        if not salt or len(_b64(m[3])) < 16:
            raise UnusableHash("its salt or hash is too short")
        return encoded
    raise UnusableHash(f"{algorithm} is not a supported algorithm")


def algorithm_of(stored: str) -> str | None:
    """Which imported algorithm a stored hash is (None for anything else)."""
    if stored.startswith("$argon2id$"):
        return "ARGON2ID"
    if _BCRYPT.match(stored):
        return "BCRYPT"
    if stored.startswith("$scrypt$"):
        return "SCRYPT"
    if stored.startswith(("$pbkdf2-sha256$", "pbkdf2_sha256$")):
        return "PBKDF2_SHA256"
    return None


_ARGON2 = argon2.PasswordHasher()


def verify(stored: str, password: str) -> bool:
    """True when ``password`` matches an imported hash; the digests are compared in constant time."""
    algorithm = algorithm_of(stored)
    try:
        parse(algorithm or "", stored)
    except UnusableHash:
        return False
    secret = password.encode()
    if algorithm == "ARGON2ID":
        try:
            return _ARGON2.verify(stored, secret)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
    if algorithm == "BCRYPT":
        # bcrypt reads at most 72 bytes; the libraries that wrote these hashes cut the rest.
        try:
            return bcrypt.checkpw(secret[:72], stored.encode())
        except ValueError:  # a salt the library refuses: no password matches it
            return False
    if algorithm == "SCRYPT":
        m = _SCRYPT.match(stored)
        assert m is not None
        expected = _b64(m[5])
        ln, r, p = int(m[1]), int(m[2]), int(m[3])
        got = hashlib.scrypt(
            secret, salt=_b64(m[4]), n=2**ln, r=r, p=p, maxmem=2 * MAX_SCRYPT_MEMORY, dklen=len(expected)
        )
        return hmac.compare_digest(got, expected)
    m = _PBKDF2_PHC.match(stored) or _PBKDF2_DJANGO.match(stored)
    assert m is not None
    salt = _b64(m[2]) if stored.startswith("$") else m[2].encode()
    expected = _b64(m[3])
    got = hashlib.pbkdf2_hmac("sha256", secret, salt, int(m[1]), dklen=len(expected))
    return hmac.compare_digest(got, expected)
