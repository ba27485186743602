"""Encryption at rest of signing keys, client secrets and SRP verifiers; keyed digests.

AES-256-GCM (``cryptography``'s AESGCM) under the master key, which lives in the
data dir or ``COGNATE_MASTER_KEY`` -- never in the database. The sealed form is
``v1.<base64url(nonce || ciphertext)>``; the purpose is bound as associated data so
a sealed client secret cannot be swapped in for a sealed signing key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SealError(ValueError):
    """The sealed value is malformed or was sealed under another key."""


def new_master_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def _decode_key(master_key: str) -> bytes:
    raw = base64.urlsafe_b64decode(master_key + "=" * (-len(master_key) % 4))
    if len(raw) != 32:
        raise SealError("the master key must be 32 bytes, base64url-encoded")
    return raw


class Sealer:
    def __init__(self, master_key: str) -> None:
        raw = _decode_key(master_key)
        self._aead = AESGCM(raw)
        self._raw = raw
        self._mac_keys: dict[str, bytes] = {}

    def digest(self, message: str, purpose: str) -> str:
        """HMAC-SHA256 of ``message`` under a key derived (HKDF) from the master key for
        ``purpose``: what a copy of the database alone cannot recompute, so short secrets
        kept as digests (six-digit codes) cannot be recovered by trying them all."""
        key = self._mac_keys.get(purpose)
        if key is None:
            hkdf = HKDF(
                algorithm=hashes.SHA256(), length=32, salt=None, info=b"cognate-mac:" + purpose.encode()
            )
            key = self._mac_keys[purpose] = hkdf.derive(self._raw)
        return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()

    def seal(self, plaintext: str, purpose: str) -> str:
        nonce = os.urandom(12)
        ct = self._aead.encrypt(nonce, plaintext.encode(), purpose.encode())
        return "v1." + base64.urlsafe_b64encode(nonce + ct).decode()

    def unseal(self, sealed: str, purpose: str) -> str:
        if not sealed.startswith("v1."):
            raise SealError("unknown sealed format")
        try:
            blob = base64.urlsafe_b64decode(sealed[3:])
            return self._aead.decrypt(blob[:12], blob[12:], purpose.encode()).decode()
        except (InvalidTag, ValueError) as exc:
            raise SealError("cannot unseal: wrong master key or damaged value") from exc
