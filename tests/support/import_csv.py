"""Helpers for user import tests: a CSV in the pool's header, and password hashes as the
usual libraries write them (argon2-cffi, bcrypt, passlib's PHC strings, Django)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
from collections.abc import Mapping, Sequence

import argon2
import bcrypt

ROLE = "arn:aws:iam::123456789012:role/CognitoImport"


def csv_text(header: Sequence[str], rows: Sequence[Mapping[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(header), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in header})
    return out.getvalue().encode()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def argon2id_hash(password: str) -> str:
    return argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(password)


def bcrypt_hash(password: str, *, prefix: bytes = b"2b") -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4, prefix=prefix)).decode()


def scrypt_hash(password: str, ln: int = 10) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**ln, r=8, p=1, dklen=32)
    return f"$scrypt$ln={ln},r=8,p=1${_b64(salt)}${_b64(digest)}"


def pbkdf2_hash(password: str, rounds: int = 1000) -> str:
    """passlib's ``$pbkdf2-sha256$`` (its base64 writes ``.`` for ``+``)."""
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, rounds)
    return f"$pbkdf2-sha256${rounds}${_b64(salt).replace('+', '.')}${_b64(digest).replace('+', '.')}"


def django_pbkdf2_hash(password: str, rounds: int = 1000) -> str:
    salt = "abcdefgh12345678"
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), rounds)
    return f"pbkdf2_sha256${rounds}${salt}${base64.b64encode(digest).decode()}"
