"""crypto/secret_hash.py: Cognito's SECRET_HASH, checked against pycognito's implementation."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from pycognito.aws_srp import AWSSRP

from cognate.crypto.secret_hash import check_secret_hash, secret_hash

CASES = [
    ("secret", "alice", "client1"),
    (
        "1example23456789abcdefghijklmnopqrstuvwxyz0123456789",
        "alice@example.com",
        "abcdefghij0123456789klmnop",
    ),
    ("s3cr3t", "ünïcödé", "c"),
    ("k", "", "c"),
]


@pytest.mark.parametrize(("client_secret", "username", "client_id"), CASES)
def test_matches_pycognito(client_secret: str, username: str, client_id: str) -> None:
    assert secret_hash(client_secret, username, client_id) == AWSSRP.get_secret_hash(
        username, client_id, client_secret
    )


def test_matches_the_documented_formula() -> None:
    # Cognito developer guide: Base64(HMAC_SHA256("Client Secret Key", "Username" + "Client Id")).
    expected = base64.b64encode(hmac.new(b"key", b"userclient", hashlib.sha256).digest()).decode()
    assert secret_hash("key", "user", "client") == expected


def test_check() -> None:
    good = secret_hash("secret", "alice", "client1")
    assert check_secret_hash("secret", "alice", "client1", good)
    assert not check_secret_hash("secret", "alice", "client2", good)
    assert not check_secret_hash("secret", "Alice", "client1", good)
    assert not check_secret_hash("other", "alice", "client1", good)
    assert not check_secret_hash("secret", "alice", "client1", "")
    assert not check_secret_hash("secret", "alice", "client1", good[:-1])
    assert not check_secret_hash("secret", "alice", "client1", "ünïcödé")
