"""Aliases as Cognito documents them ("Customizing sign-in attributes"), over a real socket.

A usable alias belongs to one user: a verified email or phone number and any
preferred_username in a pool with AliasAttributes; an unverified email may sit on
several accounts. ForceAliasCreation (AdminCreateUser, ConfirmSignUp) moves a taken
alias and leaves the previous owner's attribute unverified. In a case-insensitive
pool, email and preferred_username aliases ignore case.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conformance.helpers import attrs
from tests.conformance.test_signin import PASSWORD, make_client
from tests.conformance.test_signup import last_code
from tests.support.server import Server

X = "owner@example.com"
VERIFIED = [{"Name": "email", "Value": X}, {"Name": "email_verified", "Value": "true"}]
TAKEN = "An account with the given email already exists."


@pytest.fixture
def make_pool(idp: Any) -> Iterator[Callable[..., str]]:
    made: list[str] = []

    def make(**fields: Any) -> str:
        pool_id = str(idp.create_user_pool(PoolName=f"al{uuid.uuid4().hex[:8]}", **fields)["UserPool"]["Id"])
        made.append(pool_id)
        return pool_id

    yield make
    for pool_id in made:
        idp.delete_user_pool(UserPoolId=pool_id)


def create(idp: Any, pool_id: str, name: str, attributes: list[dict[str, str]], **kw: Any) -> dict[str, Any]:
    user: dict[str, Any] = idp.admin_create_user(
        UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS", UserAttributes=attributes, **kw
    )["User"]
    return user


def user_attrs(idp: Any, pool_id: str, name: str) -> dict[str, str]:
    return attrs(idp.admin_get_user(UserPoolId=pool_id, Username=name)["UserAttributes"])


def test_a_verified_email_has_one_owner_an_unverified_one_many(
    idp: Any, make_pool: Callable[..., str]
) -> None:
    pool_id = make_pool(AliasAttributes=["email"])
    create(idp, pool_id, "first", VERIFIED)
    with pytest.raises(idp.exceptions.AliasExistsException) as err:
        create(idp, pool_id, "second", VERIFIED)
    assert err.value.response["Error"]["Message"] == TAKEN
    with pytest.raises(idp.exceptions.UserNotFoundException):
        idp.admin_get_user(UserPoolId=pool_id, Username="second")
    create(idp, pool_id, "third", [{"Name": "email", "Value": X}])  # unverified: allowed
    create(idp, pool_id, "fourth", [{"Name": "email", "Value": X}])
    assert idp.admin_get_user(UserPoolId=pool_id, Username=X)["Username"] == "first"
    with pytest.raises(idp.exceptions.AliasExistsException):  # verifying it on another account
        idp.admin_update_user_attributes(
            UserPoolId=pool_id, Username="third", UserAttributes=[{"Name": "email_verified", "Value": "true"}]
        )
    assert user_attrs(idp, pool_id, "third").get("email_verified") != "true"  # the refused update left it
    idp.admin_delete_user(UserPoolId=pool_id, Username="first")  # deleting frees the alias
    idp.admin_update_user_attributes(
        UserPoolId=pool_id, Username="third", UserAttributes=[{"Name": "email_verified", "Value": "true"}]
    )
    assert idp.admin_get_user(UserPoolId=pool_id, Username=X)["Username"] == "third"


def test_force_alias_creation_moves_the_alias(idp: Any, make_pool: Callable[..., str]) -> None:
    pool_id = make_pool(AliasAttributes=["email", "preferred_username"])
    create(idp, pool_id, "old", VERIFIED)
    create(idp, pool_id, "new", VERIFIED, ForceAliasCreation=True)
    assert idp.admin_get_user(UserPoolId=pool_id, Username=X)["Username"] == "new"
    old = user_attrs(idp, pool_id, "old")
    assert old["email"] == X and old["email_verified"] == "false"
    # a refused creation moves nothing: the username is taken, so the alias stays where it is
    with pytest.raises(idp.exceptions.UsernameExistsException):
        create(idp, pool_id, "old", VERIFIED, ForceAliasCreation=True)
    assert idp.admin_get_user(UserPoolId=pool_id, Username=X)["Username"] == "new"
    assert user_attrs(idp, pool_id, "new")["email_verified"] == "true"
    # preferred_username never moves
    create(idp, pool_id, "nick1", [{"Name": "preferred_username", "Value": "nick"}])
    with pytest.raises(idp.exceptions.AliasExistsException) as err:
        create(
            idp, pool_id, "nick2", [{"Name": "preferred_username", "Value": "nick"}], ForceAliasCreation=True
        )
    assert (
        err.value.response["Error"]["Message"]
        == "An account with the given preferred_username already exists."
    )


def test_case_insensitive_pool_aliases_ignore_case(idp: Any, make_pool: Callable[..., str]) -> None:
    pool_id = make_pool(
        AliasAttributes=["email", "preferred_username"], UsernameConfiguration={"CaseSensitive": False}
    )
    create(idp, pool_id, "first", [{"Name": "email", "Value": "Mixed@Example.com"}, VERIFIED[1]])
    for typed in ("mixed@example.com", "MIXED@EXAMPLE.COM", "Mixed@Example.com"):
        assert idp.admin_get_user(UserPoolId=pool_id, Username=typed)["Username"] == "first"
    with pytest.raises(idp.exceptions.AliasExistsException):
        create(idp, pool_id, "second", [{"Name": "email", "Value": "mixed@EXAMPLE.com"}, VERIFIED[1]])
    create(idp, pool_id, "third", [{"Name": "preferred_username", "Value": "Nick"}])
    with pytest.raises(idp.exceptions.AliasExistsException):
        create(idp, pool_id, "fourth", [{"Name": "preferred_username", "Value": "nICK"}])
    assert idp.admin_get_user(UserPoolId=pool_id, Username="NICK")["Username"] == "third"


def test_confirm_sign_up_refuses_or_forces_a_taken_alias(
    server: Server, idp: Any, public_idp: Any, make_pool: Callable[..., str]
) -> None:
    pool_id = make_pool(AliasAttributes=["email"], AutoVerifiedAttributes=["email"])
    client_id = make_client(idp, pool_id)["ClientId"]
    create(idp, pool_id, "admin-made", VERIFIED)
    name = f"s{uuid.uuid4().hex[:8]}"
    public_idp.sign_up(
        ClientId=client_id, Username=name, Password=PASSWORD, UserAttributes=[{"Name": "email", "Value": X}]
    )
    with pytest.raises(public_idp.exceptions.AliasExistsException) as err:
        public_idp.confirm_sign_up(
            ClientId=client_id, Username=name, ConfirmationCode=last_code(server, name)
        )
    assert err.value.response["Error"]["Message"] == TAKEN
    got = idp.admin_get_user(UserPoolId=pool_id, Username=name)
    assert got["UserStatus"] == "UNCONFIRMED"  # neither write happened
    assert attrs(got["UserAttributes"]).get("email_verified") != "true"
    public_idp.resend_confirmation_code(ClientId=client_id, Username=name)
    public_idp.confirm_sign_up(
        ClientId=client_id, Username=name, ConfirmationCode=last_code(server, name), ForceAliasCreation=True
    )
    assert idp.admin_get_user(UserPoolId=pool_id, Username=X)["Username"] == name
    assert idp.admin_get_user(UserPoolId=pool_id, Username=name)["UserStatus"] == "CONFIRMED"
    assert user_attrs(idp, pool_id, "admin-made")["email_verified"] == "false"


def test_email_as_username_is_unique_whatever_its_case(
    idp: Any, public_idp: Any, make_pool: Callable[..., str]
) -> None:
    pool_id = make_pool(UsernameAttributes=["email"], UsernameConfiguration={"CaseSensitive": False})
    client_id = make_client(idp, pool_id)["ClientId"]
    public_idp.sign_up(ClientId=client_id, Username="Case@Example.com", Password=PASSWORD)
    with pytest.raises(public_idp.exceptions.UsernameExistsException) as err:
        public_idp.sign_up(ClientId=client_id, Username="case@example.COM", Password=PASSWORD)
    assert err.value.response["Error"]["Message"] == TAKEN
    with pytest.raises(idp.exceptions.UsernameExistsException):
        create(idp, pool_id, "CASE@example.com", [])
    assert len(idp.list_users(UserPoolId=pool_id)["Users"]) == 1
