"""A user's own account with an access token, and password resets, over a real socket;
codes are read from the outbox."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conformance.test_signin import PASSWORD, make_client, make_user, sign_in
from tests.support.server import Server

FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


def code_for(server: Server, username: str, kind: str) -> str:
    found = [m for m in server.outbox() if m["username"] == username and m["kind"] == kind]
    assert found, f"no {kind} message for {username}"
    return str(found[-1]["code"])


@pytest.fixture
def account(idp: Any, public_idp: Any) -> Any:
    pool = idp.create_user_pool(PoolName=f"ac{uuid.uuid4().hex[:8]}", AutoVerifiedAttributes=["email"])[
        "UserPool"
    ]
    client = make_client(idp, pool["Id"], ExplicitAuthFlows=FLOWS)
    name = make_user(
        idp,
        pool["Id"],
        UserAttributes=[
            {"Name": "email", "Value": "owner@example.com"},
            {"Name": "email_verified", "Value": "true"},
        ],
    )
    tokens = sign_in(public_idp, client["ClientId"], name)["AuthenticationResult"]
    yield {"pool": pool, "client": client, "name": name, "access": tokens["AccessToken"]}
    idp.delete_user_pool(UserPoolId=pool["Id"])


def test_change_password(public_idp: Any, account: dict[str, Any]) -> None:
    cid, name, access = account["client"]["ClientId"], account["name"], account["access"]
    with pytest.raises(public_idp.exceptions.NotAuthorizedException):
        public_idp.change_password(
            AccessToken=access, PreviousPassword="Wr0ng-pass!", ProposedPassword="N3w-Passw0rd!"
        )
    with pytest.raises(public_idp.exceptions.InvalidPasswordException):
        public_idp.change_password(AccessToken=access, PreviousPassword=PASSWORD, ProposedPassword="short")
    public_idp.change_password(
        AccessToken=access, PreviousPassword=PASSWORD, ProposedPassword="N3w-Passw0rd!"
    )
    with pytest.raises(public_idp.exceptions.NotAuthorizedException):
        sign_in(public_idp, cid, name, PASSWORD)
    assert "AccessToken" in sign_in(public_idp, cid, name, "N3w-Passw0rd!")["AuthenticationResult"]


def test_update_and_verify_email(server: Server, idp: Any, public_idp: Any, account: dict[str, Any]) -> None:
    access, name, pool_id = account["access"], account["name"], account["pool"]["Id"]
    out = public_idp.update_user_attributes(
        AccessToken=access,
        UserAttributes=[{"Name": "email", "Value": "new@example.com"}, {"Name": "name", "Value": "New Name"}],
    )
    assert out["CodeDeliveryDetailsList"] == [
        {"Destination": "n***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    ]
    attrs = {a["Name"]: a["Value"] for a in public_idp.get_user(AccessToken=access)["UserAttributes"]}
    assert (
        attrs["email"] == "new@example.com"
        and attrs["email_verified"] == "false"
        and attrs["name"] == "New Name"
    )
    with pytest.raises(public_idp.exceptions.CodeMismatchException):
        public_idp.verify_user_attribute(AccessToken=access, AttributeName="email", Code="999999")
    public_idp.get_user_attribute_verification_code(AccessToken=access, AttributeName="email")
    public_idp.verify_user_attribute(
        AccessToken=access, AttributeName="email", Code=code_for(server, name, "verification")
    )
    got = idp.admin_get_user(UserPoolId=pool_id, Username=name)
    assert {"Name": "email_verified", "Value": "true"} in got["UserAttributes"]
    with pytest.raises(public_idp.exceptions.InvalidParameterException):
        public_idp.update_user_attributes(AccessToken=access, UserAttributes=[{"Name": "sub", "Value": "x"}])


def test_delete_attributes_and_user(idp: Any, public_idp: Any, account: dict[str, Any]) -> None:
    access, name, pool_id = account["access"], account["name"], account["pool"]["Id"]
    public_idp.update_user_attributes(
        AccessToken=access, UserAttributes=[{"Name": "nickname", "Value": "nick"}]
    )
    public_idp.delete_user_attributes(AccessToken=access, UserAttributeNames=["nickname"])
    attrs = {a["Name"] for a in public_idp.get_user(AccessToken=access)["UserAttributes"]}
    assert "nickname" not in attrs
    public_idp.delete_user(AccessToken=access)
    with pytest.raises(idp.exceptions.UserNotFoundException):
        idp.admin_get_user(UserPoolId=pool_id, Username=name)
    with pytest.raises(public_idp.exceptions.NotAuthorizedException):
        public_idp.get_user(AccessToken=access)


def test_forgot_password(server: Server, public_idp: Any, account: dict[str, Any]) -> None:
    cid, name = account["client"]["ClientId"], account["name"]
    out = public_idp.forgot_password(ClientId=cid, Username=name)
    assert out["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    code = code_for(server, name, "reset")
    with pytest.raises(public_idp.exceptions.InvalidPasswordException):
        public_idp.confirm_forgot_password(
            ClientId=cid, Username=name, ConfirmationCode=code, Password="weak"
        )
    with pytest.raises(public_idp.exceptions.CodeMismatchException):
        public_idp.confirm_forgot_password(
            ClientId=cid,
            Username=name,
            ConfirmationCode="000000" if code != "000000" else "111111",
            Password="R3set-Passw0rd!",
        )
    public_idp.confirm_forgot_password(
        ClientId=cid, Username=name, ConfirmationCode=code, Password="R3set-Passw0rd!"
    )
    assert "AccessToken" in sign_in(public_idp, cid, name, "R3set-Passw0rd!")["AuthenticationResult"]
    with pytest.raises(public_idp.exceptions.ExpiredCodeException):  # a code works once
        public_idp.confirm_forgot_password(
            ClientId=cid, Username=name, ConfirmationCode=code, Password="An0ther-Pass!"
        )


def test_forgot_password_needs_a_verified_contact(idp: Any, public_idp: Any, pool: dict[str, Any]) -> None:
    client = make_client(idp, pool["Id"], ExplicitAuthFlows=FLOWS)
    name = make_user(idp, pool["Id"], UserAttributes=[{"Name": "email", "Value": "unverified@example.com"}])
    with pytest.raises(public_idp.exceptions.InvalidParameterException) as err:
        public_idp.forgot_password(ClientId=client["ClientId"], Username=name)
    assert "no registered/verified email or phone_number" in str(err.value)
    with pytest.raises(public_idp.exceptions.UserNotFoundException):
        public_idp.forgot_password(ClientId=client["ClientId"], Username="nobody")


def test_admin_reset_user_password(
    server: Server, idp: Any, public_idp: Any, account: dict[str, Any]
) -> None:
    cid, name, pool_id = account["client"]["ClientId"], account["name"], account["pool"]["Id"]
    idp.admin_reset_user_password(UserPoolId=pool_id, Username=name)
    assert idp.admin_get_user(UserPoolId=pool_id, Username=name)["UserStatus"] == "RESET_REQUIRED"
    with pytest.raises(public_idp.exceptions.PasswordResetRequiredException):
        sign_in(public_idp, cid, name)
    code = code_for(server, name, "reset")
    public_idp.confirm_forgot_password(
        ClientId=cid, Username=name, ConfirmationCode=code, Password="Aft3r-Reset!"
    )
    assert idp.admin_get_user(UserPoolId=pool_id, Username=name)["UserStatus"] == "CONFIRMED"
    assert "AccessToken" in sign_in(public_idp, cid, name, "Aft3r-Reset!")["AuthenticationResult"]


def test_account_operations_refuse_bad_tokens(public_idp: Any, account: dict[str, Any]) -> None:
    with pytest.raises(public_idp.exceptions.NotAuthorizedException):
        public_idp.change_password(
            AccessToken="not.a.token", PreviousPassword=PASSWORD, ProposedPassword="N3w-Passw0rd!"
        )
    public_idp.global_sign_out(AccessToken=account["access"])
    with pytest.raises(public_idp.exceptions.NotAuthorizedException):
        public_idp.update_user_attributes(
            AccessToken=account["access"], UserAttributes=[{"Name": "name", "Value": "x"}]
        )
