"""MFA over a real socket: authenticator apps (TOTP codes made with pyotp), SMS codes
from the outbox, MFA_SETUP when the pool requires MFA, preferences and pool config."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pyotp
import pytest

from tests.conformance.test_signin import PASSWORD, make_client, make_user, sign_in
from tests.support.server import Server

FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


@pytest.fixture
def mfa_pool(idp: Any) -> Any:
    pool = idp.create_user_pool(PoolName=f"mfa{uuid.uuid4().hex[:8]}", MfaConfiguration="OPTIONAL")[
        "UserPool"
    ]
    yield pool
    idp.delete_user_pool(UserPoolId=pool["Id"])


def next_code(totp: pyotp.TOTP) -> str:
    """The code of the next time step (accepted: one step of drift), unused so far."""
    return str(totp.at(time.time() + totp.interval))


def totp_user(idp: Any, public_idp: Any, pool_id: str, client_id: str) -> tuple[str, pyotp.TOTP]:
    name = make_user(idp, pool_id)
    access = sign_in(public_idp, client_id, name)["AuthenticationResult"]["AccessToken"]
    secret = public_idp.associate_software_token(AccessToken=access)["SecretCode"]
    totp = pyotp.TOTP(secret)
    with pytest.raises(public_idp.exceptions.EnableSoftwareTokenMFAException):
        public_idp.verify_software_token(
            AccessToken=access, UserCode="000000" if totp.now() != "000000" else "111111"
        )
    assert (
        public_idp.verify_software_token(AccessToken=access, UserCode=totp.now(), FriendlyDeviceName="phone")[
            "Status"
        ]
        == "SUCCESS"
    )
    public_idp.set_user_mfa_preference(
        AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    return name, totp


def test_totp_mfa_sign_in(idp: Any, public_idp: Any, mfa_pool: dict[str, Any]) -> None:
    client = make_client(idp, mfa_pool["Id"], ExplicitAuthFlows=FLOWS)
    name, totp = totp_user(idp, public_idp, mfa_pool["Id"], client["ClientId"])
    got = idp.admin_get_user(UserPoolId=mfa_pool["Id"], Username=name)
    assert (
        got["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
        and got["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"
    )
    first = sign_in(public_idp, client["ClientId"], name)
    assert first["ChallengeName"] == "SOFTWARE_TOKEN_MFA" and "AuthenticationResult" not in first
    wrong = "000000" if totp.now() != "000000" else "111111"
    with pytest.raises(public_idp.exceptions.CodeMismatchException):
        public_idp.respond_to_auth_challenge(
            ClientId=client["ClientId"],
            ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=first["Session"],
            ChallengeResponses={"USERNAME": name, "SOFTWARE_TOKEN_MFA_CODE": wrong},
        )
    # The code that verified the authenticator used its time step up: sign in with the next one.
    done = public_idp.respond_to_auth_challenge(  # the session survives a wrong code
        ClientId=client["ClientId"],
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=first["Session"],
        ChallengeResponses={"USERNAME": name, "SOFTWARE_TOKEN_MFA_CODE": next_code(totp)},
    )
    assert "AccessToken" in done["AuthenticationResult"]
    with pytest.raises(public_idp.exceptions.NotAuthorizedException):  # ... but not a success
        public_idp.respond_to_auth_challenge(
            ClientId=client["ClientId"],
            ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=first["Session"],
            ChallengeResponses={"USERNAME": name, "SOFTWARE_TOKEN_MFA_CODE": totp.now()},
        )
    idp.admin_set_user_mfa_preference(
        UserPoolId=mfa_pool["Id"], Username=name, SoftwareTokenMfaSettings={"Enabled": False}
    )
    assert "AuthenticationResult" in sign_in(public_idp, client["ClientId"], name)


def test_sms_mfa_sign_in(server: Server, idp: Any, public_idp: Any, mfa_pool: dict[str, Any]) -> None:
    client = make_client(idp, mfa_pool["Id"], ExplicitAuthFlows=FLOWS)
    name = make_user(idp, mfa_pool["Id"], UserAttributes=[{"Name": "phone_number", "Value": "+15555550123"}])
    idp.admin_set_user_mfa_preference(
        UserPoolId=mfa_pool["Id"], Username=name, SMSMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    first = sign_in(public_idp, client["ClientId"], name)
    assert first["ChallengeName"] == "SMS_MFA"
    assert first["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "SMS"
    assert first["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"].endswith("0123")
    sms = [m for m in server.outbox() if m["username"] == name and m["kind"] == "mfa"]
    assert sms and sms[-1]["channel"] == "sms" and sms[-1]["to"] == "+15555550123"
    done = public_idp.respond_to_auth_challenge(
        ClientId=client["ClientId"],
        ChallengeName="SMS_MFA",
        Session=first["Session"],
        ChallengeResponses={"USERNAME": name, "SMS_MFA_CODE": sms[-1]["code"]},
    )
    assert "AccessToken" in done["AuthenticationResult"]


def test_required_mfa_goes_through_setup(idp: Any, public_idp: Any) -> None:
    pool = idp.create_user_pool(PoolName="mfaon", MfaConfiguration="OFF")["UserPool"]
    try:
        config = idp.set_user_pool_mfa_config(
            UserPoolId=pool["Id"], SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="ON"
        )
        assert config["MfaConfiguration"] == "ON" and config["SoftwareTokenMfaConfiguration"] == {
            "Enabled": True
        }
        assert idp.get_user_pool_mfa_config(UserPoolId=pool["Id"])["MfaConfiguration"] == "ON"
        client = make_client(idp, pool["Id"], ExplicitAuthFlows=FLOWS)
        name = make_user(idp, pool["Id"])
        first = sign_in(public_idp, client["ClientId"], name)
        assert first["ChallengeName"] == "MFA_SETUP"
        assoc = public_idp.associate_software_token(Session=first["Session"])
        totp = pyotp.TOTP(assoc["SecretCode"])
        verified = public_idp.verify_software_token(Session=assoc["Session"], UserCode=totp.now())
        assert verified["Status"] == "SUCCESS"
        done = public_idp.respond_to_auth_challenge(
            ClientId=client["ClientId"],
            ChallengeName="MFA_SETUP",
            Session=verified["Session"],
            ChallengeResponses={"USERNAME": name},
        )
        assert "AccessToken" in done["AuthenticationResult"]
        again = sign_in(public_idp, client["ClientId"], name)
        assert again["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
        # UpdateUserPool keeps the MFA configuration set by SetUserPoolMfaConfig
        idp.update_user_pool(UserPoolId=pool["Id"], MfaConfiguration="ON")
        assert idp.get_user_pool_mfa_config(UserPoolId=pool["Id"])["SoftwareTokenMfaConfiguration"] == {
            "Enabled": True
        }
    finally:
        idp.delete_user_pool(UserPoolId=pool["Id"])


def test_preferences_need_a_factor(idp: Any, public_idp: Any, mfa_pool: dict[str, Any]) -> None:
    name = make_user(idp, mfa_pool["Id"])
    with pytest.raises(idp.exceptions.SoftwareTokenMFANotFoundException):
        idp.admin_set_user_mfa_preference(
            UserPoolId=mfa_pool["Id"], Username=name, SoftwareTokenMfaSettings={"Enabled": True}
        )
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.admin_set_user_mfa_preference(
            UserPoolId=mfa_pool["Id"], Username=name, SMSMfaSettings={"Enabled": True}
        )


def test_mfa_off_pool_never_asks(idp: Any, public_idp: Any, pool: dict[str, Any]) -> None:
    client = make_client(idp, pool["Id"], ExplicitAuthFlows=FLOWS)
    name, _ = totp_user(idp, public_idp, pool["Id"], client["ClientId"])
    assert "AuthenticationResult" in sign_in(public_idp, client["ClientId"], name, PASSWORD)
