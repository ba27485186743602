"""Self-service sign-up over a real socket: SignUp, ConfirmSignUp, ResendConfirmationCode,
with the code read from the outbox."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conformance.test_signin import PASSWORD, make_client, secret_hash, sign_in
from tests.support.server import Server

FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


@pytest.fixture
def email_pool(idp: Any) -> Any:
    pool = idp.create_user_pool(PoolName=f"su{uuid.uuid4().hex[:8]}", AutoVerifiedAttributes=["email"])[
        "UserPool"
    ]
    yield pool
    idp.delete_user_pool(UserPoolId=pool["Id"])


def last_code(server: Server, username: str) -> str:
    codes = [m for m in server.outbox() if m["username"] == username and m["kind"] == "verification"]
    assert codes, f"no verification message for {username}"
    return str(codes[-1]["code"])


def test_sign_up_confirm_and_sign_in(
    server: Server, idp: Any, public_idp: Any, email_pool: dict[str, Any]
) -> None:
    client = make_client(idp, email_pool["Id"], ExplicitAuthFlows=FLOWS)
    name = f"s{uuid.uuid4().hex[:8]}"
    out = public_idp.sign_up(
        ClientId=client["ClientId"],
        Username=name,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "sam@example.com"}],
    )
    assert out["UserConfirmed"] is False
    uuid.UUID(out["UserSub"])
    assert out["CodeDeliveryDetails"] == {
        "Destination": "s***@e***",
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }
    got = idp.admin_get_user(UserPoolId=email_pool["Id"], Username=name)
    assert got["UserStatus"] == "UNCONFIRMED"
    for password in (PASSWORD, "Wr0ng-password!"):
        with pytest.raises(public_idp.exceptions.UserNotConfirmedException):
            sign_in(public_idp, client["ClientId"], name, password)
    code = last_code(server, name)
    assert len(code) == 6 and code.isdigit()
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(public_idp.exceptions.CodeMismatchException):
        public_idp.confirm_sign_up(ClientId=client["ClientId"], Username=name, ConfirmationCode=wrong)
    public_idp.confirm_sign_up(ClientId=client["ClientId"], Username=name, ConfirmationCode=code)
    got = idp.admin_get_user(UserPoolId=email_pool["Id"], Username=name)
    assert got["UserStatus"] == "CONFIRMED"
    assert {"Name": "email_verified", "Value": "true"} in got["UserAttributes"]
    with pytest.raises(public_idp.exceptions.NotAuthorizedException) as err:
        public_idp.confirm_sign_up(ClientId=client["ClientId"], Username=name, ConfirmationCode=code)
    assert "Current status is CONFIRMED" in str(err.value)
    assert "AccessToken" in sign_in(public_idp, client["ClientId"], name)["AuthenticationResult"]


def test_sign_up_refusals(idp: Any, public_idp: Any, email_pool: dict[str, Any]) -> None:
    client = make_client(idp, email_pool["Id"], ExplicitAuthFlows=FLOWS)
    name = f"r{uuid.uuid4().hex[:8]}"
    public_idp.sign_up(ClientId=client["ClientId"], Username=name, Password=PASSWORD)
    with pytest.raises(public_idp.exceptions.UsernameExistsException):
        public_idp.sign_up(ClientId=client["ClientId"], Username=name, Password=PASSWORD)
    with pytest.raises(public_idp.exceptions.InvalidPasswordException) as err:
        public_idp.sign_up(ClientId=client["ClientId"], Username=name + "x", Password="weakpass")
    assert "Password did not conform with policy" in str(err.value)
    with pytest.raises(public_idp.exceptions.InvalidParameterException):
        public_idp.sign_up(
            ClientId=client["ClientId"],
            Username=name + "y",
            Password=PASSWORD,
            UserAttributes=[{"Name": "custom:nope", "Value": "x"}],
        )
    with pytest.raises(public_idp.exceptions.ResourceNotFoundException):
        public_idp.sign_up(ClientId="nosuchclient0000000000000a", Username="z", Password=PASSWORD)
    limited = make_client(idp, email_pool["Id"], ExplicitAuthFlows=FLOWS, WriteAttributes=["email"])
    with pytest.raises(public_idp.exceptions.NotAuthorizedException):
        public_idp.sign_up(
            ClientId=limited["ClientId"],
            Username=name + "z",
            Password=PASSWORD,
            UserAttributes=[{"Name": "name", "Value": "Not writable"}],
        )


def test_sign_up_closed_pool(idp: Any, public_idp: Any) -> None:
    pool = idp.create_user_pool(PoolName="closed", AdminCreateUserConfig={"AllowAdminCreateUserOnly": True})[
        "UserPool"
    ]
    try:
        client = make_client(idp, pool["Id"])
        with pytest.raises(public_idp.exceptions.NotAuthorizedException) as err:
            public_idp.sign_up(ClientId=client["ClientId"], Username="x", Password=PASSWORD)
        assert "SignUp is not permitted" in str(err.value)
    finally:
        idp.delete_user_pool(UserPoolId=pool["Id"])


def test_sign_up_with_a_client_secret(idp: Any, public_idp: Any, email_pool: dict[str, Any]) -> None:
    client = make_client(idp, email_pool["Id"], ExplicitAuthFlows=FLOWS, GenerateSecret=True)
    cid, secret = client["ClientId"], client["ClientSecret"]
    with pytest.raises(public_idp.exceptions.NotAuthorizedException):
        public_idp.sign_up(ClientId=cid, Username="hashless", Password=PASSWORD)
    out = public_idp.sign_up(
        ClientId=cid, Username="hashed", Password=PASSWORD, SecretHash=secret_hash(secret, "hashed", cid)
    )
    assert out["UserConfirmed"] is False


def test_resend_replaces_the_code(
    server: Server, idp: Any, public_idp: Any, email_pool: dict[str, Any]
) -> None:
    client = make_client(idp, email_pool["Id"], ExplicitAuthFlows=FLOWS)
    name = f"c{uuid.uuid4().hex[:8]}"
    public_idp.sign_up(
        ClientId=client["ClientId"],
        Username=name,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "cy@example.com"}],
    )
    first = last_code(server, name)
    out = public_idp.resend_confirmation_code(ClientId=client["ClientId"], Username=name)
    assert out["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    second = last_code(server, name)
    if first != second:
        with pytest.raises(public_idp.exceptions.CodeMismatchException):
            public_idp.confirm_sign_up(ClientId=client["ClientId"], Username=name, ConfirmationCode=first)
    public_idp.confirm_sign_up(ClientId=client["ClientId"], Username=name, ConfirmationCode=second)
    with pytest.raises(public_idp.exceptions.InvalidParameterException):
        public_idp.resend_confirmation_code(ClientId=client["ClientId"], Username=name)


def test_guessing_codes_is_limited(
    server: Server, idp: Any, public_idp: Any, email_pool: dict[str, Any]
) -> None:
    client = make_client(idp, email_pool["Id"], ExplicitAuthFlows=FLOWS)
    name = f"g{uuid.uuid4().hex[:8]}"
    public_idp.sign_up(
        ClientId=client["ClientId"],
        Username=name,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "g@example.com"}],
    )
    code = last_code(server, name)
    wrong = [f"{(int(code) + i) % 10**6:06d}" for i in range(1, 6)]
    for guess in wrong:
        with pytest.raises(public_idp.exceptions.CodeMismatchException):
            public_idp.confirm_sign_up(ClientId=client["ClientId"], Username=name, ConfirmationCode=guess)
    with pytest.raises(public_idp.exceptions.LimitExceededException):
        public_idp.confirm_sign_up(ClientId=client["ClientId"], Username=name, ConfirmationCode=code)


def test_admin_confirm_after_sign_up_without_auto_verification(
    idp: Any, public_idp: Any, pool: dict[str, Any]
) -> None:
    client = make_client(idp, pool["Id"], ExplicitAuthFlows=FLOWS)
    out = public_idp.sign_up(ClientId=client["ClientId"], Username="manual", Password=PASSWORD)
    assert "CodeDeliveryDetails" not in out
    idp.admin_confirm_sign_up(UserPoolId=pool["Id"], Username="manual")
    assert idp.admin_get_user(UserPoolId=pool["Id"], Username="manual")["UserStatus"] == "CONFIRMED"
    assert "AccessToken" in sign_in(public_idp, client["ClientId"], "manual")["AuthenticationResult"]


def test_unknown_users(idp: Any, public_idp: Any, email_pool: dict[str, Any]) -> None:
    legacy = make_client(idp, email_pool["Id"], ExplicitAuthFlows=FLOWS)
    enabled = make_client(
        idp, email_pool["Id"], ExplicitAuthFlows=FLOWS, PreventUserExistenceErrors="ENABLED"
    )
    with pytest.raises(public_idp.exceptions.UserNotFoundException):
        public_idp.confirm_sign_up(ClientId=legacy["ClientId"], Username="nobody", ConfirmationCode="123456")
    with pytest.raises(public_idp.exceptions.UserNotFoundException):
        public_idp.resend_confirmation_code(ClientId=legacy["ClientId"], Username="nobody")
    with pytest.raises(public_idp.exceptions.CodeMismatchException):
        public_idp.confirm_sign_up(ClientId=enabled["ClientId"], Username="nobody", ConfirmationCode="123456")
    assert "CodeDeliveryDetails" in public_idp.resend_confirmation_code(
        ClientId=enabled["ClientId"], Username="nobody"
    )


def test_sign_up_by_email_username(idp: Any, public_idp: Any) -> None:
    pool = idp.create_user_pool(
        PoolName="suemail", UsernameAttributes=["email"], AutoVerifiedAttributes=["email"]
    )["UserPool"]
    try:
        client = make_client(idp, pool["Id"], ExplicitAuthFlows=FLOWS)
        out = public_idp.sign_up(ClientId=client["ClientId"], Username="dee@example.com", Password=PASSWORD)
        got = idp.admin_get_user(UserPoolId=pool["Id"], Username="dee@example.com")
        assert got["Username"] == out["UserSub"]
        with pytest.raises(public_idp.exceptions.UsernameExistsException):
            public_idp.sign_up(ClientId=client["ClientId"], Username="dee@example.com", Password=PASSWORD)
    finally:
        idp.delete_user_pool(UserPoolId=pool["Id"])
