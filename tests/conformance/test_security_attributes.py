"""Attribute permission findings (issue 7, items 1, 2 and 8), as the attacker made them with boto3.

1: a user set email_verified=true on any address and took its alias sign-in; 2: the
NEW_PASSWORD_REQUIRED answer wrote attributes with admin rights; 8: GetUser ignored
ReadAttributes and showed developer-only attributes, and ``custom:NAME`` written for a
developer-only attribute made a second attribute that reached the ID token.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from tests.conformance.helpers import attrs, verified_email
from tests.conformance.test_signin import PASSWORD, make_client, make_user, sign_in

FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
DEV_SCHEMA = [
    {"Name": "tier", "AttributeDataType": "String", "DeveloperOnlyAttribute": True, "Mutable": True}
]


@pytest.fixture
def alias_pool(idp: Any) -> Iterator[dict[str, Any]]:
    pool = idp.create_user_pool(
        PoolName=f"at{uuid.uuid4().hex[:8]}", AliasAttributes=["email"], Schema=DEV_SCHEMA
    )["UserPool"]
    yield pool
    idp.delete_user_pool(UserPoolId=pool["Id"])


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


# --- 1: the verified flags are not the user's to write ------------------------------------------------


@pytest.mark.parametrize("write_attributes", [None, ["email", "name"]])
def test_a_user_cannot_mark_someone_elses_address_verified(
    idp: Any, public_idp: Any, alias_pool: dict[str, Any], write_attributes: list[str] | None
) -> None:
    pool_id = alias_pool["Id"]
    extra = {"WriteAttributes": write_attributes} if write_attributes else {}
    cid = make_client(idp, pool_id, ExplicitAuthFlows=FLOWS, **extra)["ClientId"]
    victim = make_user(
        idp,
        pool_id,
        UserAttributes=verified_email("victim@example.com"),
    )
    attacker = make_user(idp, pool_id)
    access = sign_in(public_idp, cid, attacker)["AuthenticationResult"]["AccessToken"]
    for updates in (
        [{"Name": "email", "Value": "victim@example.com"}, {"Name": "email_verified", "Value": "true"}],
        [{"Name": "email_verified", "Value": "true"}],
        [
            {"Name": "phone_number", "Value": "+15555550100"},
            {"Name": "phone_number_verified", "Value": "true"},
        ],
    ):
        with pytest.raises(public_idp.exceptions.NotAuthorizedException) as info:
            public_idp.update_user_attributes(AccessToken=access, UserAttributes=updates)
        assert info.value.response["Error"]["Message"] == "A client attempted to write unauthorized attribute"
    with pytest.raises(public_idp.exceptions.NotAuthorizedException):
        public_idp.delete_user_attributes(AccessToken=access, UserAttributeNames=["email_verified"])
    # The victim's address still signs the victim in, and only the victim.
    token = sign_in(public_idp, cid, "victim@example.com")["AuthenticationResult"]["IdToken"]
    assert _claims(token)["cognito:username"] == victim
    got = attrs(idp.admin_get_user(UserPoolId=pool_id, Username=attacker)["UserAttributes"])
    assert "email_verified" not in got and "phone_number_verified" not in got


def test_sign_up_cannot_claim_a_verified_address(
    idp: Any, public_idp: Any, alias_pool: dict[str, Any]
) -> None:
    cid = make_client(idp, alias_pool["Id"], ExplicitAuthFlows=FLOWS)["ClientId"]
    with pytest.raises(public_idp.exceptions.NotAuthorizedException):
        public_idp.sign_up(
            ClientId=cid,
            Username=f"s{uuid.uuid4().hex[:8]}",
            Password=PASSWORD,
            UserAttributes=verified_email("x@example.com"),
        )


def test_a_client_that_lists_a_verified_flag_may_write_it(
    idp: Any, public_idp: Any, alias_pool: dict[str, Any]
) -> None:
    cid = make_client(
        idp, alias_pool["Id"], ExplicitAuthFlows=FLOWS, WriteAttributes=["email", "email_verified"]
    )["ClientId"]
    name = make_user(idp, alias_pool["Id"])
    access = sign_in(public_idp, cid, name)["AuthenticationResult"]["AccessToken"]
    public_idp.update_user_attributes(
        AccessToken=access,
        UserAttributes=verified_email("own@example.com"),
    )
    assert (
        attrs(idp.admin_get_user(UserPoolId=alias_pool["Id"], Username=name)["UserAttributes"])[
            "email_verified"
        ]
        == "true"
    )


# --- 2: the NEW_PASSWORD_REQUIRED answer writes as the user ----------------------------------------------


def test_new_password_required_writes_only_what_the_client_may(
    idp: Any, public_idp: Any, alias_pool: dict[str, Any]
) -> None:
    pool_id = alias_pool["Id"]
    cid = make_client(idp, pool_id, ExplicitAuthFlows=FLOWS)["ClientId"]
    name = f"n{uuid.uuid4().hex[:8]}"
    idp.admin_create_user(
        UserPoolId=pool_id,
        Username=name,
        TemporaryPassword="Temp-Passw0rd!",
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "custom:tier", "Value": "basic"}],
    )

    def challenge() -> dict[str, Any]:
        return dict(sign_in(public_idp, cid, name, "Temp-Passw0rd!"))

    first = challenge()
    assert first["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    shown = json.loads(first["ChallengeParameters"]["userAttributes"])
    assert not any(k.startswith("dev:") or k == "custom:tier" for k in shown), shown
    for forbidden in (
        {"userAttributes.email": "victim@example.com", "userAttributes.email_verified": "true"},
        {"userAttributes.dev:custom:tier": "gold"},
        {"userAttributes.custom:tier": "gold"},
    ):
        with pytest.raises(
            (public_idp.exceptions.NotAuthorizedException, public_idp.exceptions.InvalidParameterException)
        ):
            public_idp.respond_to_auth_challenge(
                ClientId=cid,
                ChallengeName="NEW_PASSWORD_REQUIRED",
                Session=first["Session"],
                ChallengeResponses={"USERNAME": name, "NEW_PASSWORD": "N3w-Passw0rd!", **forbidden},
            )
    out = public_idp.respond_to_auth_challenge(
        ClientId=cid,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=first["Session"],
        ChallengeResponses={"USERNAME": name, "NEW_PASSWORD": "N3w-Passw0rd!", "userAttributes.name": "Nan"},
    )
    claims = _claims(out["AuthenticationResult"]["IdToken"])
    assert claims["name"] == "Nan"
    assert "email_verified" not in claims and "email" not in claims
    assert not any(k.endswith("tier") for k in claims)
    got = attrs(idp.admin_get_user(UserPoolId=pool_id, Username=name)["UserAttributes"])
    assert got["dev:custom:tier"] == "basic" and "custom:tier" not in got


# --- 8: what a user reads; dev:custom addressing ----------------------------------------------------------


def test_get_user_shows_what_the_client_may_read_and_never_developer_attributes(
    idp: Any, public_idp: Any, alias_pool: dict[str, Any]
) -> None:
    pool_id = alias_pool["Id"]
    name = make_user(
        idp,
        pool_id,
        UserAttributes=[
            {"Name": "email", "Value": "r@example.com"},
            {"Name": "name", "Value": "Reader"},
            {"Name": "custom:tier", "Value": "gold"},
        ],
    )
    everything = make_client(idp, pool_id, ExplicitAuthFlows=FLOWS)["ClientId"]
    narrow = make_client(idp, pool_id, ExplicitAuthFlows=FLOWS, ReadAttributes=["email"])["ClientId"]
    access = sign_in(public_idp, everything, name)["AuthenticationResult"]["AccessToken"]
    got = attrs(public_idp.get_user(AccessToken=access)["UserAttributes"])
    assert got["email"] == "r@example.com" and got["name"] == "Reader"
    assert not any(k.endswith("tier") for k in got), got
    access = sign_in(public_idp, narrow, name)["AuthenticationResult"]["AccessToken"]
    got = attrs(public_idp.get_user(AccessToken=access)["UserAttributes"])
    assert set(got) == {"sub", "email"}, got


def test_custom_name_addresses_the_developer_only_attribute(
    idp: Any, public_idp: Any, alias_pool: dict[str, Any]
) -> None:
    pool_id = alias_pool["Id"]
    cid = make_client(idp, pool_id, ExplicitAuthFlows=FLOWS)["ClientId"]
    name = make_user(idp, pool_id, UserAttributes=[{"Name": "dev:custom:tier", "Value": "basic"}])
    idp.admin_update_user_attributes(
        UserPoolId=pool_id, Username=name, UserAttributes=[{"Name": "custom:tier", "Value": "gold"}]
    )
    got = attrs(idp.admin_get_user(UserPoolId=pool_id, Username=name)["UserAttributes"])
    assert got["dev:custom:tier"] == "gold" and "custom:tier" not in got
    claims = _claims(sign_in(public_idp, cid, name)["AuthenticationResult"]["IdToken"])
    assert not any(k.endswith("tier") for k in claims), claims
    # Users cannot write it under either name.
    access = sign_in(public_idp, cid, name)["AuthenticationResult"]["AccessToken"]
    for attr in ("custom:tier", "dev:custom:tier"):
        with pytest.raises(
            (public_idp.exceptions.NotAuthorizedException, public_idp.exceptions.InvalidParameterException)
        ):
            public_idp.update_user_attributes(
                AccessToken=access, UserAttributes=[{"Name": attr, "Value": "x"}]
            )
    idp.admin_delete_user_attributes(UserPoolId=pool_id, Username=name, UserAttributeNames=["custom:tier"])
    assert "dev:custom:tier" not in attrs(
        idp.admin_get_user(UserPoolId=pool_id, Username=name)["UserAttributes"]
    )


# --- 6: usernames that look like aliases -------------------------------------------------------------


def test_a_username_in_email_format_cannot_take_an_email_alias(
    idp: Any, public_idp: Any, alias_pool: dict[str, Any]
) -> None:
    pool_id = alias_pool["Id"]
    cid = make_client(idp, pool_id, ExplicitAuthFlows=FLOWS)["ClientId"]
    victim = make_user(
        idp,
        pool_id,
        UserAttributes=verified_email("victim@example.com"),
    )
    message = "Username cannot be of email format, since user pool is configured for email alias."
    with pytest.raises(public_idp.exceptions.InvalidParameterException) as info:
        public_idp.sign_up(ClientId=cid, Username="victim@example.com", Password=PASSWORD)
    assert info.value.response["Error"]["Message"] == message
    with pytest.raises(idp.exceptions.InvalidParameterException) as info:
        idp.admin_create_user(UserPoolId=pool_id, Username="victim@example.com", MessageAction="SUPPRESS")
    assert info.value.response["Error"]["Message"] == message
    # The victim's alias still signs the victim in.
    token = sign_in(public_idp, cid, "victim@example.com")["AuthenticationResult"]["IdToken"]
    assert _claims(token)["cognito:username"] == victim


def test_phone_aliases_refuse_phone_shaped_usernames_and_numbers_are_e164(idp: Any, public_idp: Any) -> None:
    pool_id = idp.create_user_pool(PoolName=f"ph{uuid.uuid4().hex[:8]}", AliasAttributes=["phone_number"])[
        "UserPool"
    ]["Id"]
    try:
        cid = make_client(idp, pool_id, ExplicitAuthFlows=FLOWS)["ClientId"]
        with pytest.raises(public_idp.exceptions.InvalidParameterException) as info:
            public_idp.sign_up(ClientId=cid, Username="+15555550100", Password=PASSWORD)
        assert "phone number format" in info.value.response["Error"]["Message"]
        for bad in ("5555550100", "+0123456", "+1 555 555 0100", "+1234567890123456"):
            with pytest.raises(public_idp.exceptions.InvalidParameterException):
                public_idp.sign_up(
                    ClientId=cid,
                    Username=f"u{uuid.uuid4().hex[:8]}",
                    Password=PASSWORD,
                    UserAttributes=[{"Name": "phone_number", "Value": bad}],
                )
        out = public_idp.sign_up(
            ClientId=cid,
            Username=f"u{uuid.uuid4().hex[:8]}",
            Password=PASSWORD,
            UserAttributes=[{"Name": "phone_number", "Value": "+15555550100"}],
        )
        assert out["UserSub"]
        # Plain usernames of digits are still fine.
        assert public_idp.sign_up(ClientId=cid, Username="12345678", Password=PASSWORD)["UserSub"]
    finally:
        idp.delete_user_pool(UserPoolId=pool_id)
