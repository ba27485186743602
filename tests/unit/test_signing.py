"""The RS256 signer (crypto/signing.py) against independent implementations: joserfc
(which it replaced on the hot path) and PyJWT."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest
from joserfc import jwt as jose_jwt

from cognate.crypto import signing

PEM = signing.generate_private_pem()
JWK = signing.public_jwk(PEM)
SIGNER = signing.Signer.from_pem(JWK["kid"], PEM)
CLAIMS: dict[str, Any] = {
    "sub": "5f1c2d3e-0000-4000-8000-000000000001",
    "iss": "http://cognate.test/us-east-1_Abc",
    "token_use": "access",
    "scope": "aws.cognito.signin.user.admin",
    "auth_time": 1700000000,
    "iat": 1700000000,
    "exp": 4100000000,
    "username": "ann",
}


def _header(token: str) -> dict[str, Any]:
    part = token.split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def test_same_token_as_joserfc() -> None:
    """PKCS#1 v1.5 is deterministic: the same header and claims give the same bytes."""
    theirs = jose_jwt.encode({"kid": SIGNER.kid, "alg": "RS256"}, CLAIMS, SIGNER.key, algorithms=["RS256"])
    assert SIGNER.sign(CLAIMS) == theirs


def test_verified_by_pyjwt_and_by_our_verifier() -> None:
    token = SIGNER.sign(CLAIMS)
    assert _header(token) == {"typ": "JWT", "kid": JWK["kid"], "alg": "RS256"}
    public = jwt.PyJWK(JWK).key
    assert jwt.decode(token, public, algorithms=["RS256"]) == CLAIMS
    assert signing.verify(token, signing.load_public_keys([JWK])) == CLAIMS


@pytest.mark.parametrize(
    "extra",
    [{"name": "Zoë 😀"}, {"big": 2**70}, {"nested": {"a": [1, 2.5, None, True]}}],
)
def test_unusual_claims_round_trip(extra: dict[str, Any]) -> None:
    claims = {**CLAIMS, **extra}
    token = SIGNER.sign(claims)
    assert jwt.decode(token, jwt.PyJWK(JWK).key, algorithms=["RS256"]) == claims


def test_a_changed_byte_fails() -> None:
    head, _body, sig = SIGNER.sign(CLAIMS).split(".")
    forged = head + "." + base64.urlsafe_b64encode(b'{"sub":"x"}').decode().rstrip("=") + "." + sig
    with pytest.raises(signing.InvalidToken):
        signing.verify(forged, signing.load_public_keys([JWK]))


def test_a_signer_needs_a_private_rsa_key() -> None:
    from joserfc.jwk import RSAKey

    with pytest.raises(ValueError):
        signing.Signer(kid="k", key=RSAKey.import_key(JWK))
