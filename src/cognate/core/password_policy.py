"""Password policies: Cognito's defaults, checks with Cognito's messages, generated passwords.

Source: Cognito developer guide, "Adding user pool password requirements"; the
symbol set is the one documented there.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from cognate.errors import InvalidPasswordException

SYMBOLS = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- "

DEFAULT_POLICY: dict[str, Any] = {
    "MinimumLength": 8,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
    "TemporaryPasswordValidityDays": 7,
}

MAX_PASSWORD_LENGTH = 256


def policy_of(pool_doc: dict[str, Any]) -> dict[str, Any]:
    pp = pool_doc.get("Policies", {}).get("PasswordPolicy", {})
    return {**DEFAULT_POLICY, **pp}


def problems(policy: dict[str, Any], password: str) -> list[str]:
    out = []
    if len(password) < int(policy["MinimumLength"]):
        out.append("Password not long enough")
    if policy["RequireUppercase"] and not any(c in string.ascii_uppercase for c in password):
        out.append("Password must have uppercase characters")
    if policy["RequireLowercase"] and not any(c in string.ascii_lowercase for c in password):
        out.append("Password must have lowercase characters")
    if policy["RequireNumbers"] and not any(c in string.digits for c in password):
        out.append("Password must have numeric characters")
    if policy["RequireSymbols"] and not any(c in SYMBOLS and c != " " for c in password):
        out.append("Password must have symbol characters")
    return out


def check(policy: dict[str, Any], password: str) -> None:
    """Raise InvalidPasswordException naming the first rule the password breaks."""
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidPasswordException("Password did not conform with policy: Password is too long")
    if password != password.strip(" "):
        raise InvalidPasswordException(
            "Password did not conform with policy: Password must not begin or end with a space"
        )
    found = problems(policy, password)
    if found:
        raise InvalidPasswordException(f"Password did not conform with policy: {found[0]}")


def generate(policy: dict[str, Any]) -> str:
    """A random temporary password that satisfies the policy."""
    length = max(int(policy["MinimumLength"]), 12)
    pools = [string.ascii_lowercase, string.ascii_uppercase, string.digits, "!#%&*+-=?@^_"]
    chars = [secrets.choice(p) for p in pools]
    everything = "".join(pools)
    chars += [secrets.choice(everything) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)
