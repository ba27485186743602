"""Sign-in flows over a real socket with boto3: USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH,
NEW_PASSWORD_REQUIRED, refresh, SECRET_HASH, and what sign-in refuses (issue 3)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from typing import Any

import pytest

PASSWORD = "Passw0rd!"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


def secret_hash(secret: str, username: str, client_id: str) -> str:
    mac = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def make_client(idp: Any, pool_id: str, **kw: Any) -> dict[str, Any]:
    kw.setdefault("ExplicitAuthFlows", FLOWS)
    return idp.create_user_pool_client(UserPoolId=pool_id, ClientName="app", **kw)["UserPoolClient"]


def make_user(
    idp: Any, pool_id: str, username: str | None = None, password: str = PASSWORD, **kw: Any
) -> str:
    name = username or f"u{uuid.uuid4().hex[:8]}"
    idp.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS", **kw)
    idp.admin_set_user_password(UserPoolId=pool_id, Username=name, Password=password, Permanent=True)
    return name


def sign_in(
    idp: Any, client_id: str, username: str, password: str = PASSWORD, **extra: str
) -> dict[str, Any]:
    return idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password, **extra},
    )


def test_user_password_auth_returns_tokens(idp: Any, public_idp: Any, pool: dict[str, Any]) -> None:
    client = make_client(idp, pool["Id"])
    name = make_user(idp, pool["Id"])
    result = sign_in(public_idp, client["ClientId"], name)["AuthenticationResult"]
    assert set(result) == {"AccessToken", "ExpiresIn", "TokenType", "RefreshToken", "IdToken"}
    assert result["TokenType"] == "Bearer"
    assert result["ExpiresIn"] == 3600
    me = public_idp.get_user(AccessToken=result["AccessToken"])
    assert me["Username"] == name


def test_admin_user_password_auth_and_legacy_alias(idp: Any, pool: dict[str, Any]) -> None:
    client = make_client(idp, pool["Id"])
    name = make_user(idp, pool["Id"])
    for flow in ("ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"):
        result = idp.admin_initiate_auth(
            UserPoolId=pool["Id"],
            ClientId=client["ClientId"],
            AuthFlow=flow,
            AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD},
        )
        assert "AccessToken" in result["AuthenticationResult"]


def test_admin_initiate_auth_needs_a_signature(server: Any, pool: dict[str, Any], idp: Any) -> None:
    client = make_client(idp, pool["Id"])
    unsigned = server.boto(signed=False)
    with pytest.raises(Exception) as err:
        unsigned.admin_initiate_auth(
            UserPoolId=pool["Id"],
            ClientId=client["ClientId"],
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "x", "PASSWORD": "y"},
        )
    assert err.value.response["Error"]["Code"] in {
        "MissingAuthenticationTokenException",
        "AccessDeniedException",
    }


def test_flow_not_enabled_for_client(idp: Any, public_idp: Any, pool: dict[str, Any]) -> None:
    client = make_client(
        idp, pool["Id"], ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )
    with pytest.raises(public_idp.exceptions.InvalidParameterException) as err:
        sign_in(public_idp, client["ClientId"], "anyone")
    assert "USER_PASSWORD_AUTH flow not enabled for this client" in str(err.value)
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.admin_initiate_auth(
            UserPoolId=pool["Id"],
            ClientId=client["ClientId"],
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "x", "PASSWORD": "y"},
        )


def test_legacy_flow_names_are_honoured(idp: Any, public_idp: Any, pool: dict[str, Any]) -> None:
    client = make_client(idp, pool["Id"], ExplicitAuthFlows=["USER_PASSWORD_AUTH"])
    name = make_user(idp, pool["Id"])
    result = sign_in(public_idp, client["ClientId"], name)["AuthenticationResult"]
    refreshed = public_idp.initiate_auth(
        ClientId=client["ClientId"],
        AuthFlow="REFRESH_TOKEN",
        AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]},
    )
    assert "AccessToken" in refreshed["AuthenticationResult"]


def test_admin_flow_refused_on_public_initiate(idp: Any, public_idp: Any, pool: dict[str, Any]) -> None:
    client = make_client(idp, pool["Id"])
    with pytest.raises(public_idp.exceptions.InvalidParameterException):
        public_idp.initiate_auth(
            ClientId=client["ClientId"],
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "x", "PASSWORD": "y"},
        )


def test_secret_hash_required_and_checked(idp: Any, public_idp: Any, pool: dict[str, Any]) -> None:
    client = make_client(idp, pool["Id"], GenerateSecret=True)
    cid, secret = client["ClientId"], client["ClientSecret"]
    name = make_user(idp, pool["Id"])
    with pytest.raises(public_idp.exceptions.NotAuthorizedException) as err:
        sign_in(public_idp, cid, name)
    assert "secret" in str(err.value).lower()
    with pytest.raises(public_idp.exceptions.NotAuthorizedException) as err:
        sign_in(public_idp, cid, name, SECRET_HASH=secret_hash("wrong", name, cid))
    assert f"Unable to verify secret hash for client {cid}" in str(err.value)
    ok = sign_in(public_idp, cid, name, SECRET_HASH=secret_hash(secret, name, cid))["AuthenticationResult"]
    refreshed = public_idp.initiate_auth(
        ClientId=cid,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": ok["RefreshToken"], "SECRET_HASH": secret_hash(secret, name, cid)},
    )
    assert "IdToken" in refreshed["AuthenticationResult"]
    with pytest.raises(public_idp.exceptions.NotAuthorizedException):
        public_idp.initiate_auth(
            ClientId=cid, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": ok["RefreshToken"]}
        )


def test_new_password_required_via_both_doors(idp: Any, public_idp: Any, pool: dict[str, Any]) -> None:
    client = make_client(idp, pool["Id"])
    for door in ("public", "admin"):
        name = f"n{uuid.uuid4().hex[:8]}"
        idp.admin_create_user(
            UserPoolId=pool["Id"], Username=name, TemporaryPassword="Temp0rary!", MessageAction="SUPPRESS"
        )
        first = sign_in(public_idp, client["ClientId"], name, "Temp0rary!")
        assert first["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
        assert first["ChallengeParameters"]["USER_ID_FOR_SRP"] == name
        session = first["Session"]
        # a password that breaks the policy is refused with Cognito's message; the session survives
        with pytest.raises(public_idp.exceptions.InvalidPasswordException) as err:
            public_idp.respond_to_auth_challenge(
                ClientId=client["ClientId"],
                ChallengeName="NEW_PASSWORD_REQUIRED",
                Session=session,
                ChallengeResponses={"USERNAME": name, "NEW_PASSWORD": "short"},
            )
        assert "Password did not conform with policy" in str(err.value)
        responses = {"USERNAME": name, "NEW_PASSWORD": "N3w-Passw0rd!"}
        if door == "public":
            done = public_idp.respond_to_auth_challenge(
                ClientId=client["ClientId"],
                ChallengeName="NEW_PASSWORD_REQUIRED",
                Session=session,
                ChallengeResponses=responses,
            )
        else:
            done = idp.admin_respond_to_auth_challenge(
                UserPoolId=pool["Id"],
                ClientId=client["ClientId"],
                ChallengeName="NEW_PASSWORD_REQUIRED",
                Session=session,
                ChallengeResponses=responses,
            )
        assert "AccessToken" in done["AuthenticationResult"]
        assert idp.admin_get_user(UserPoolId=pool["Id"], Username=name)["UserStatus"] == "CONFIRMED"
        # sessions are single-use
        with pytest.raises(public_idp.exceptions.NotAuthorizedException) as err:
            public_idp.respond_to_auth_challenge(
                ClientId=client["ClientId"],
                ChallengeName="NEW_PASSWORD_REQUIRED",
                Session=session,
                ChallengeResponses=responses,
            )
        assert "Invalid session for the user, session is expired." in str(err.value)
        assert (
            "AccessToken"
            in sign_in(public_idp, client["ClientId"], name, "N3w-Passw0rd!")["AuthenticationResult"]
        )


def test_wrong_password_and_unknown_user(idp: Any, public_idp: Any, pool: dict[str, Any]) -> None:
    legacy = make_client(idp, pool["Id"])
    enabled = make_client(idp, pool["Id"], PreventUserExistenceErrors="ENABLED")
    name = make_user(idp, pool["Id"])
    with pytest.raises(public_idp.exceptions.NotAuthorizedException) as err:
        sign_in(public_idp, legacy["ClientId"], name, "Wrong-passw0rd")
    assert err.value.response["Error"]["Message"] == "Incorrect username or password."
    with pytest.raises(public_idp.exceptions.UserNotFoundException) as err:
        sign_in(public_idp, legacy["ClientId"], "nobody-here")
    assert err.value.response["Error"]["Message"] == "User does not exist."
    with pytest.raises(public_idp.exceptions.NotAuthorizedException) as err:
        sign_in(public_idp, enabled["ClientId"], "nobody-here")
    assert err.value.response["Error"]["Message"] == "Incorrect username or password."


def test_disabled_user_refused_then_enabled(idp: Any, public_idp: Any, pool: dict[str, Any]) -> None:
    client = make_client(idp, pool["Id"])
    name = make_user(idp, pool["Id"])
    idp.admin_disable_user(UserPoolId=pool["Id"], Username=name)
    with pytest.raises(public_idp.exceptions.NotAuthorizedException) as err:
        sign_in(public_idp, client["ClientId"], name)
    assert err.value.response["Error"]["Message"] == "User is disabled."
    idp.admin_enable_user(UserPoolId=pool["Id"], Username=name)
    assert "AccessToken" in sign_in(public_idp, client["ClientId"], name)["AuthenticationResult"]


def test_weak_password_on_admin_set(idp: Any, pool: dict[str, Any]) -> None:
    name = make_user(idp, pool["Id"])
    with pytest.raises(idp.exceptions.InvalidPasswordException) as err:
        idp.admin_set_user_password(
            UserPoolId=pool["Id"], Username=name, Password="alllowercase1!", Permanent=True
        )
    assert "Password must have uppercase characters" in str(err.value)


def test_sign_in_with_email_username_attribute(idp: Any, public_idp: Any) -> None:
    pool = idp.create_user_pool(PoolName="emails", UsernameAttributes=["email"])["UserPool"]
    try:
        client = make_client(idp, pool["Id"])
        idp.admin_create_user(UserPoolId=pool["Id"], Username="carol@example.com", MessageAction="SUPPRESS")
        idp.admin_set_user_password(
            UserPoolId=pool["Id"], Username="carol@example.com", Password=PASSWORD, Permanent=True
        )
        result = sign_in(public_idp, client["ClientId"], "carol@example.com")["AuthenticationResult"]
        me = public_idp.get_user(AccessToken=result["AccessToken"])
        attrs = {a["Name"]: a["Value"] for a in me["UserAttributes"]}
        assert attrs["email"] == "carol@example.com"
        uuid.UUID(me["Username"])  # the username is a generated UUID
    finally:
        idp.delete_user_pool(UserPoolId=pool["Id"])
