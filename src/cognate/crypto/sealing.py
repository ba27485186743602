"""Encryption at rest of signing keys, client secrets, TOTP secrets and SRP verifiers; keyed digests.

AES-256-GCM (``cryptography``'s AESGCM) under the master key, which lives in the
data dir or ``COGNATE_MASTER_KEY`` -- never in the database. The sealed form is
``v1.<base64url(nonce || ciphertext)>``; the purpose is bound as associated data so
a sealed client secret cannot be swapped in for a sealed signing key.

A ``Sealer`` holds a key ring: the master key, which seals and makes digests, and
any number of *accepted* keys, which only open what they sealed and verify what
they digested. During a master-key rotation the previous key is accepted while
``cognate rotate-master-key`` re-seals every value under the new one
(docs/operations.md). A wrong key fails GCM's tag check, so trying the ring's keys
in turn never opens a value under the wrong one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Iterable, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_SEALED_RE = re.compile(r"v1\.[A-Za-z0-9_-]{40,}={0,2}")


class SealError(ValueError):
    """The sealed value is malformed or was sealed under another key."""


def new_master_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def _decode_key(master_key: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(master_key + "=" * (-len(master_key) % 4))
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise SealError("the master key must be 32 bytes, base64url-encoded")
    return raw


def _derive(raw: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(raw)


def key_id(master_key: str) -> str:
    """A short public name of a master key (HKDF-derived: it tells nothing of the key)."""
    return _derive(_decode_key(master_key), b"cognate-key-id").hex()[:16]


def looks_sealed(value: str) -> bool:
    return _SEALED_RE.fullmatch(value) is not None


class _Key:
    def __init__(self, master_key: str) -> None:
        self.text = master_key
        self.raw = _decode_key(master_key)
        self.aead = AESGCM(self.raw)
        self.id = key_id(master_key)
        self.mac_keys: dict[str, bytes] = {}

    def mac(self, message: str, purpose: str) -> str:
        key = self.mac_keys.get(purpose)
        if key is None:
            key = self.mac_keys[purpose] = _derive(self.raw, b"cognate-mac:" + purpose.encode())
        return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()

    def open(self, sealed: str, purpose: str) -> str | None:
        try:
            blob = base64.urlsafe_b64decode(sealed[3:])
            return self.aead.decrypt(blob[:12], blob[12:], purpose.encode()).decode()
        except (InvalidTag, ValueError):
            return None


class Sealer:
    def __init__(self, master_key: str, accepted: Sequence[str] = ()) -> None:
        """``master_key`` seals and digests; ``accepted`` keys only open and verify."""
        self._primary, self._ring = self._keys(master_key, accepted)

    @staticmethod
    def _keys(master_key: str, accepted: Sequence[str]) -> tuple[_Key, list[_Key]]:
        primary = _Key(master_key)
        ring, seen = [primary], {primary.id}
        for other in accepted:
            key = _Key(other)
            if key.id not in seen:
                seen.add(key.id)
                ring.append(key)
        return primary, ring

    def replace(self, master_key: str, accepted: Sequence[str] = ()) -> bool:
        """Use another key ring from now on (a server that read its key file again); whether it
        differs. Every key is checked before anything changes."""
        primary, ring = self._keys(master_key, accepted)
        if [k.id for k in ring] == [k.id for k in self._ring]:
            return False
        self._primary, self._ring = primary, ring
        return True

    def derived_keys(self, label: bytes) -> list[bytes]:
        """HMAC-SHA256(key, ``label``) for every key of the ring, the master key's first: keys of
        other mechanisms (the hosted pages' CSRF tokens) that follow the ring."""
        return [hmac.new(key.text.encode(), label, hashlib.sha256).digest() for key in self._ring]

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The ring's key ids, the master key's first."""
        return tuple(key.id for key in self._ring)

    def digest(self, message: str, purpose: str) -> str:
        """HMAC-SHA256 of ``message`` under a key derived (HKDF) from the master key for
        ``purpose``: what a copy of the database alone cannot recompute, so short secrets
        kept as digests (six-digit codes) cannot be recovered by trying them all."""
        return self._primary.mac(message, purpose)

    def digests(self, message: str, purpose: str) -> list[str]:
        """``digest`` under every key of the ring (the master key's first): what a digest
        made before a master-key rotation may be."""
        return [key.mac(message, purpose) for key in self._ring]

    def digest_matches(self, message: str, purpose: str, expected: str) -> bool:
        """Whether ``expected`` is the digest of ``message`` under a key of the ring (constant time each)."""
        found = False
        for candidate in self.digests(message, purpose):
            found |= hmac.compare_digest(candidate.encode(), expected.encode())
        return found

    def seal(self, plaintext: str, purpose: str) -> str:
        nonce = os.urandom(12)
        ct = self._primary.aead.encrypt(nonce, plaintext.encode(), purpose.encode())
        return "v1." + base64.urlsafe_b64encode(nonce + ct).decode()

    def unseal(self, sealed: str, purpose: str) -> str:
        if not sealed.startswith("v1."):
            raise SealError("unknown sealed format")
        for key in self._ring:
            opened = key.open(sealed, purpose)
            if opened is not None:
                return opened
        raise SealError("cannot unseal: wrong master key or damaged value")

    def reseal(self, value: str, purposes: Iterable[str]) -> str | None:
        """``value`` sealed anew under the master key, when an accepted key sealed it (for one
        of ``purposes``); None when it is not a sealed value, is already under the master
        key, or opens under no key of the ring."""
        if not looks_sealed(value):
            return None
        purposes = tuple(purposes)
        if any(self._primary.open(value, p) is not None for p in purposes):
            return None
        for key in self._ring[1:]:
            for purpose in purposes:
                opened = key.open(value, purpose)
                if opened is not None:
                    return self.seal(opened, purpose)
        return None
