"""Cognito's SECRET_HASH: Base64(HMAC-SHA256(key=client secret, msg=username + client id)).

Source: Cognito developer guide, "Computing secret hash values".
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def secret_hash(client_secret: str, username: str, client_id: str) -> str:
    mac = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def check_secret_hash(client_secret: str, username: str, client_id: str, given: str) -> bool:
    """Constant-time comparison of the expected and the given hash."""
    return hmac.compare_digest(secret_hash(client_secret, username, client_id).encode(), given.encode())
