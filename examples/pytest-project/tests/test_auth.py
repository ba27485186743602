"""The application's sign-up and sign-in, against a real Cognate (fixtures of cognate.testing)."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest

from notes_app.auth import Auth


def test_sign_in_returns_verified_claims(auth: Auth, cognate_user: Any) -> None:
    claims = auth.sign_in(cognate_user.username, cognate_user.password)
    assert claims["cognito:username"] == cognate_user.username
    assert claims["sub"] == cognate_user.sub


def test_wrong_password_is_refused(auth: Auth, cognate_user: Any) -> None:
    with pytest.raises(auth.idp.exceptions.NotAuthorizedException):
        auth.sign_in(cognate_user.username, "Not-the-Passw0rd")


def test_sign_up_then_confirm_with_the_emailed_code(
    auth: Auth, cognate_pool_factory: Any, cognate_outbox: Any
) -> None:
    pool = cognate_pool_factory(AutoVerifiedAttributes=["email"], UsernameAttributes=["email"])
    auth.settings = type(auth.settings)(pool.id, pool.client_id, pool.issuer)
    auth._jwks = jwt.PyJWKClient(pool.jwks_url)

    auth.sign_up("ada@example.com", "Corr3ct-Horse!")
    code = cognate_outbox.last_code("ada@example.com")  # the email Cognito would have sent
    assert len(code) == 6
    auth.confirm("ada@example.com", code)

    claims = auth.sign_in("ada@example.com", "Corr3ct-Horse!")
    assert claims["email"] == "ada@example.com" and claims["email_verified"] is True


def test_tokens_from_the_user_factory(auth: Auth, cognate_user_factory: Any) -> None:
    admin = cognate_user_factory(groups=["admins"])
    reader = cognate_user_factory(attributes={"email": "reader@example.com"})
    assert auth.is_admin(admin.tokens.id_token)
    assert not auth.is_admin(reader.tokens.id_token)
    assert reader.tokens.id_claims["email"] == "reader@example.com"


def test_a_forged_token_is_refused(auth: Auth, cognate_user: Any) -> None:
    header, _, signature = cognate_user.tokens.id_token.split(".")
    claims = {**cognate_user.tokens.id_claims, "cognito:groups": ["admins"]}
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(jwt.InvalidSignatureError):
        auth.verify(f"{header}.{forged}.{signature}")


def test_each_test_gets_a_fresh_pool(cognate_pool: Any, cognate_idp: Any) -> None:
    assert cognate_idp.list_users(UserPoolId=cognate_pool.id)["Users"] == []
    cognate_pool.create_user("only-here", signed_in=False)
