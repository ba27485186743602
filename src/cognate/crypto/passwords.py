"""Password hashing with argon2id (argon2-cffi), at no less than OWASP's minimum.

OWASP Password Storage Cheat Sheet: argon2id with m = 19 MiB, t = 2, p = 1. The
"low" cost exists for test suites only (``COGNATE_TEST_PASSWORD_HASH_COST``); the
default never changes. Verification is constant-time inside libargon2; a dummy hash
is checked for unknown users so both paths cost the same.
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

OWASP: dict[str, int] = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1}  # memory in KiB
LOW: dict[str, int] = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


class Passwords:
    def __init__(self, cost: str = "default") -> None:
        params = LOW if cost == "low" else OWASP
        self._ph = PasswordHasher(
            time_cost=params["time_cost"],
            memory_cost=params["memory_cost"],
            parallelism=params["parallelism"],
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        self.dummy_hash = self._ph.hash("cognate-dummy-password-for-timing")

    def hash(self, password: str) -> str:
        return self._ph.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; an absent hash still costs one verification."""
        try:
            return self._ph.verify(stored_hash or self.dummy_hash, password) and stored_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
