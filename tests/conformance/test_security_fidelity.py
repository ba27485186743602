"""Fidelity findings of the audit (issue 7, items 16-21), through boto3 against a real server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conformance.helpers import verified_email
from tests.conformance.test_signin import PASSWORD, make_client, make_user, sign_in

FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


@pytest.fixture
def fresh_pool(idp: Any) -> Iterator[dict[str, Any]]:
    pool = idp.create_user_pool(PoolName=f"fi{uuid.uuid4().hex[:8]}")["UserPool"]
    yield pool
    idp.delete_user_pool(UserPoolId=pool["Id"])


# --- 19: AdminResetUserPassword, AdminListGroupsForUser, ListUsers -------------------------------


def test_admin_reset_user_password_refuses_a_user_who_never_set_one(
    idp: Any, fresh_pool: dict[str, Any]
) -> None:
    pool_id = fresh_pool["Id"]
    idp.admin_create_user(UserPoolId=pool_id, Username="invited", MessageAction="SUPPRESS")
    with pytest.raises(idp.exceptions.NotAuthorizedException) as info:
        idp.admin_reset_user_password(UserPoolId=pool_id, Username="invited")
    assert info.value.response["Error"]["Message"] == "User password cannot be reset in the current state."
    got = idp.admin_get_user(UserPoolId=pool_id, Username="invited")
    assert got["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    # A user with a password can be reset.
    make_user(idp, pool_id, "settled")
    idp.admin_reset_user_password(UserPoolId=pool_id, Username="settled")
    assert idp.admin_get_user(UserPoolId=pool_id, Username="settled")["UserStatus"] == "RESET_REQUIRED"


def test_admin_list_groups_for_user_pages_by_limit_and_its_own_tokens(
    idp: Any, fresh_pool: dict[str, Any]
) -> None:
    pool_id = fresh_pool["Id"]
    name = make_user(idp, pool_id, "grouped")
    other = make_user(idp, pool_id, "other")
    for g in ("g1", "g2", "g3", "g4", "g5"):
        idp.create_group(UserPoolId=pool_id, GroupName=g)
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username=name, GroupName=g)
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username=other, GroupName=g)
    first = idp.admin_list_groups_for_user(UserPoolId=pool_id, Username=name, Limit=2)
    assert [g["GroupName"] for g in first["Groups"]] == ["g1", "g2"]
    seen = [g["GroupName"] for g in first["Groups"]]
    token = first["NextToken"]
    while token:
        page = idp.admin_list_groups_for_user(UserPoolId=pool_id, Username=name, Limit=2, NextToken=token)
        assert len(page["Groups"]) <= 2
        seen += [g["GroupName"] for g in page["Groups"]]
        token = page.get("NextToken")
    assert seen == ["g1", "g2", "g3", "g4", "g5"]
    for bad in ("not-a-token", "e30="):  # garbage, and "{}"
        with pytest.raises(idp.exceptions.InvalidParameterException):
            idp.admin_list_groups_for_user(UserPoolId=pool_id, Username=name, NextToken=bad)
    # Another user's token is not this user's.
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.admin_list_groups_for_user(UserPoolId=pool_id, Username=other, NextToken=first["NextToken"])


def test_list_users_tokens_belong_to_their_pool_and_filter(idp: Any, fresh_pool: dict[str, Any]) -> None:
    pool_id = fresh_pool["Id"]
    other_pool = idp.create_user_pool(PoolName=f"fo{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    try:
        for i in range(3):
            make_user(idp, pool_id, f"user{i}")
            make_user(idp, other_pool, f"user{i}")
        page = idp.list_users(UserPoolId=pool_id, Limit=1, Filter='username ^= "user"')
        token = page["PaginationToken"]
        assert idp.list_users(UserPoolId=pool_id, Limit=1, Filter='username ^= "user"', PaginationToken=token)
        with pytest.raises(idp.exceptions.InvalidParameterException):
            idp.list_users(UserPoolId=other_pool, Limit=1, Filter='username ^= "user"', PaginationToken=token)
        with pytest.raises(idp.exceptions.InvalidParameterException):
            idp.list_users(UserPoolId=pool_id, Limit=1, Filter='username ^= "use"', PaginationToken=token)
        with pytest.raises(idp.exceptions.InvalidParameterException):
            idp.list_users(UserPoolId=pool_id, Limit=1, PaginationToken=token)
    finally:
        idp.delete_user_pool(UserPoolId=other_pool)


def test_list_users_status_filter_ignores_case(idp: Any, fresh_pool: dict[str, Any]) -> None:
    pool_id = fresh_pool["Id"]
    make_user(idp, pool_id, "confirmed")
    idp.admin_create_user(UserPoolId=pool_id, Username="invited", MessageAction="SUPPRESS")
    for text in ("CONFIRMED", "confirmed", "Confirmed"):
        users = idp.list_users(UserPoolId=pool_id, Filter=f'cognito:user_status = "{text}"')["Users"]
        assert [u["Username"] for u in users] == ["confirmed"], text
    users = idp.list_users(UserPoolId=pool_id, Filter='cognito:user_status = "force_change_password"')[
        "Users"
    ]
    assert [u["Username"] for u in users] == ["invited"]


# --- 18: ConfirmSignUp and ForceAliasCreation; a failed step keeps its code ----------------------


def test_confirm_sign_up_keeps_its_code_through_alias_exists_for_the_forced_retry(
    server: Any, idp: Any, public_idp: Any
) -> None:
    pool_id = idp.create_user_pool(
        PoolName=f"fa{uuid.uuid4().hex[:8]}", AliasAttributes=["email"], AutoVerifiedAttributes=["email"]
    )["UserPool"]["Id"]
    try:
        cid = make_client(idp, pool_id, ExplicitAuthFlows=FLOWS)["ClientId"]
        holder = make_user(
            idp,
            pool_id,
            UserAttributes=verified_email("shared@example.com"),
        )
        newcomer = f"n{uuid.uuid4().hex[:8]}"
        public_idp.sign_up(
            ClientId=cid,
            Username=newcomer,
            Password=PASSWORD,
            UserAttributes=[{"Name": "email", "Value": "shared@example.com"}],
        )
        code = next(
            str(m["code"])
            for m in reversed(server.outbox())
            if m["username"] == newcomer and m["pool_id"] == pool_id
        )
        with pytest.raises(public_idp.exceptions.AliasExistsException):
            public_idp.confirm_sign_up(ClientId=cid, Username=newcomer, ConfirmationCode=code)
        assert idp.admin_get_user(UserPoolId=pool_id, Username=newcomer)["UserStatus"] == "UNCONFIRMED"
        # The same code, with ForceAliasCreation: the alias moves to the newcomer.
        public_idp.confirm_sign_up(
            ClientId=cid, Username=newcomer, ConfirmationCode=code, ForceAliasCreation=True
        )
        assert idp.admin_get_user(UserPoolId=pool_id, Username=newcomer)["UserStatus"] == "CONFIRMED"
        token = sign_in(public_idp, cid, "shared@example.com")["AuthenticationResult"]["AccessToken"]
        assert public_idp.get_user(AccessToken=token)["Username"] == newcomer
        held = {
            a["Name"]: a["Value"]
            for a in idp.admin_get_user(UserPoolId=pool_id, Username=holder)["UserAttributes"]
        }
        assert held["email_verified"] == "false"
        # Redeemed now: the code does not work twice.
        with pytest.raises(
            (public_idp.exceptions.ExpiredCodeException, public_idp.exceptions.NotAuthorizedException)
        ):
            public_idp.confirm_sign_up(ClientId=cid, Username=newcomer, ConfirmationCode=code)
    finally:
        idp.delete_user_pool(UserPoolId=pool_id)


# --- 21: AttributesRequireVerificationBeforeUpdate ---------------------------------------------------


def _attrs_of(idp: Any, pool_id: str, name: str) -> dict[str, str]:
    return {
        a["Name"]: a["Value"] for a in idp.admin_get_user(UserPoolId=pool_id, Username=name)["UserAttributes"]
    }


def test_a_new_email_waits_for_its_code_when_the_pool_says_so(server: Any, idp: Any, public_idp: Any) -> None:
    pool_id = idp.create_user_pool(
        PoolName=f"rv{uuid.uuid4().hex[:8]}",
        AliasAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]},
    )["UserPool"]["Id"]
    try:
        cid = make_client(idp, pool_id, ExplicitAuthFlows=FLOWS)["ClientId"]
        name = make_user(
            idp,
            pool_id,
            UserAttributes=verified_email("old@example.com"),
        )
        access = sign_in(public_idp, cid, name)["AuthenticationResult"]["AccessToken"]
        out = public_idp.update_user_attributes(
            AccessToken=access, UserAttributes=[{"Name": "email", "Value": "new@example.com"}]
        )
        assert out["CodeDeliveryDetailsList"][0]["Destination"] == "n***@e***"
        sent = [m for m in server.outbox() if m["username"] == name and m["kind"] == "verification"]
        assert sent[-1]["to"] == "new@example.com"
        # Until the code is confirmed the verified address stays: for sign-in and for messages.
        got = _attrs_of(idp, pool_id, name)
        assert got["email"] == "old@example.com" and got["email_verified"] == "true"
        assert "AccessToken" in sign_in(public_idp, cid, "old@example.com")["AuthenticationResult"]
        with pytest.raises(public_idp.exceptions.UserNotFoundException):
            sign_in(public_idp, cid, "new@example.com")
        reset = public_idp.forgot_password(ClientId=cid, Username=name)["CodeDeliveryDetails"]
        assert reset["Destination"] == "o***@e***"
        # The code sent to the new address makes it the address.
        public_idp.verify_user_attribute(
            AccessToken=access, AttributeName="email", Code=str(sent[-1]["code"])
        )
        got = _attrs_of(idp, pool_id, name)
        assert got["email"] == "new@example.com" and got["email_verified"] == "true"
        assert "AccessToken" in sign_in(public_idp, cid, "new@example.com")["AuthenticationResult"]
        with pytest.raises(public_idp.exceptions.UserNotFoundException):
            sign_in(public_idp, cid, "old@example.com")
    finally:
        idp.delete_user_pool(UserPoolId=pool_id)


def test_without_the_setting_a_new_email_replaces_the_old_one_unverified(idp: Any, public_idp: Any) -> None:
    pool_id = idp.create_user_pool(PoolName=f"rv{uuid.uuid4().hex[:8]}", AliasAttributes=["email"])[
        "UserPool"
    ]["Id"]
    try:
        cid = make_client(idp, pool_id, ExplicitAuthFlows=FLOWS)["ClientId"]
        name = make_user(
            idp,
            pool_id,
            UserAttributes=verified_email("old@example.com"),
        )
        access = sign_in(public_idp, cid, name)["AuthenticationResult"]["AccessToken"]
        public_idp.update_user_attributes(
            AccessToken=access, UserAttributes=[{"Name": "email", "Value": "new@example.com"}]
        )
        got = _attrs_of(idp, pool_id, name)
        assert got["email"] == "new@example.com" and got["email_verified"] == "false"
    finally:
        idp.delete_user_pool(UserPoolId=pool_id)


# --- 17: one Unicode profile for usernames and aliases -----------------------------------------------

NFC, NFD = "caf\u00e9", "cafe\u0301"


def test_nfc_and_nfd_are_one_user(idp: Any, public_idp: Any, fresh_pool: dict[str, Any]) -> None:
    pool_id = fresh_pool["Id"]
    cid = make_client(idp, pool_id, ExplicitAuthFlows=FLOWS)["ClientId"]
    public_idp.sign_up(ClientId=cid, Username=NFD, Password=PASSWORD)
    with pytest.raises(public_idp.exceptions.UsernameExistsException):
        public_idp.sign_up(ClientId=cid, Username=NFC, Password=PASSWORD)
    with pytest.raises(idp.exceptions.UsernameExistsException):
        idp.admin_create_user(UserPoolId=pool_id, Username=NFC, MessageAction="SUPPRESS")
    got = idp.admin_get_user(UserPoolId=pool_id, Username=NFC)
    assert got["Username"] == NFC  # kept in NFC, found by either form
    assert idp.admin_get_user(UserPoolId=pool_id, Username=NFD)["Username"] == NFC
    idp.admin_confirm_sign_up(UserPoolId=pool_id, Username=NFD)
    for typed in (NFC, NFD):
        assert "AccessToken" in sign_in(public_idp, cid, typed)["AuthenticationResult"]
    users = idp.list_users(UserPoolId=pool_id, Filter=f'username = "{NFD}"')["Users"]
    assert [u["Username"] for u in users] == [NFC]
    # Case-sensitive pool (the default): case still makes another user.
    public_idp.sign_up(ClientId=cid, Username=NFC.upper(), Password=PASSWORD)


def test_case_insensitive_pools_map_width_and_case(idp: Any, public_idp: Any) -> None:
    pool_id = idp.create_user_pool(
        PoolName=f"ci{uuid.uuid4().hex[:8]}",
        UsernameConfiguration={"CaseSensitive": False},
        AliasAttributes=["email"],
    )["UserPool"]["Id"]
    try:
        cid = make_client(idp, pool_id, ExplicitAuthFlows=FLOWS)["ClientId"]
        make_user(
            idp,
            pool_id,
            "Joe",
            UserAttributes=verified_email("Caf\u00e9@example.com"),
        )
        for twin in ("joe", "JOE", "\uff4a\uff4f\uff45"):  # the last in fullwidth letters
            with pytest.raises(idp.exceptions.UsernameExistsException):
                idp.admin_create_user(UserPoolId=pool_id, Username=twin, MessageAction="SUPPRESS")
            assert "AccessToken" in sign_in(public_idp, cid, twin)["AuthenticationResult"]
        # The email alias is compared the same way.
        assert "AccessToken" in sign_in(public_idp, cid, "CAFE\u0301@example.com")["AuthenticationResult"]
    finally:
        idp.delete_user_pool(UserPoolId=pool_id)
