"""ListUsers' Filter through the door, while users change: attribute updates and deletions,
user deletion, disabling, confirmation; a case-insensitive pool; paging of prefix filters."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.inprocess import InProcessApi

pytestmark = pytest.mark.anyio


async def make_pool(api: InProcessApi, **extra: Any) -> str:
    return str((await api.admin("CreateUserPool", {"PoolName": "p", **extra}))["UserPool"]["Id"])


async def create(api: InProcessApi, pool: str, name: str, **attrs: str) -> None:
    await api.admin(
        "AdminCreateUser",
        {
            "UserPoolId": pool,
            "Username": name,
            "MessageAction": "SUPPRESS",
            "UserAttributes": [{"Name": k, "Value": v} for k, v in attrs.items()],
        },
    )


async def names(api: InProcessApi, pool: str, flt: str, limit: int = 60) -> list[str]:
    """Every page of the listing, in order."""
    out: list[str] = []
    body: dict[str, Any] = {"UserPoolId": pool, "Filter": flt, "Limit": limit}
    while True:
        page = await api.admin("ListUsers", body)
        out += [u["Username"] for u in page["Users"]]
        if "PaginationToken" not in page:
            return out
        body = {**body, "PaginationToken": page["PaginationToken"]}


async def test_filters_follow_attribute_changes_and_deletions(api: InProcessApi) -> None:
    pool = await make_pool(api)
    await create(api, pool, "ann", email="ann@example.com", given_name="Ann", phone_number="+15550001")
    await create(api, pool, "bob", email="bob@example.com", given_name="Bob")
    await create(api, pool, "cy", email="cy@example.org", family_name="Ng")
    assert await names(api, pool, 'email ^= "ann"') == ["ann"]

    await api.admin(
        "AdminUpdateUserAttributes",
        {
            "UserPoolId": pool,
            "Username": "ann",
            "UserAttributes": [{"Name": "email", "Value": "zed@example.com"}],
        },
    )
    assert await names(api, pool, 'email = "ann@example.com"') == []
    assert await names(api, pool, 'email = "zed@example.com"') == ["ann"]
    assert await names(api, pool, 'email ^= "zed"') == ["ann"]

    await api.admin(
        "AdminDeleteUserAttributes",
        {"UserPoolId": pool, "Username": "ann", "UserAttributeNames": ["given_name", "phone_number"]},
    )
    assert await names(api, pool, 'given_name ^= ""') == ["bob"]
    assert await names(api, pool, 'phone_number = "+15550001"') == []
    assert await names(api, pool, 'email ^= "zed"') == ["ann"]  # the rest of the index stays

    sub = {
        u["Username"]: {a["Name"]: a["Value"] for a in u["Attributes"]}["sub"]
        for u in (await api.admin("ListUsers", {"UserPoolId": pool}))["Users"]
    }
    assert await names(api, pool, f'sub = "{sub["cy"]}"') == ["cy"]
    await api.admin("AdminDeleteUser", {"UserPoolId": pool, "Username": "cy"})
    assert await names(api, pool, f'sub = "{sub["cy"]}"') == []
    assert await names(api, pool, 'family_name = "Ng"') == []
    assert await names(api, pool, 'email ^= ""') == ["bob", "ann"]  # by value: bob@ < zed@


async def test_status_filters_follow_state_changes(api: InProcessApi) -> None:
    pool = await make_pool(api)
    for name in ("a", "b", "c"):
        await create(api, pool, name)
    assert await names(api, pool, 'cognito:user_status = "force_change_password"') == ["a", "b", "c"]
    await api.admin(
        "AdminSetUserPassword",
        {"UserPoolId": pool, "Username": "b", "Password": "Passw0rd!x", "Permanent": True},
    )
    await api.admin("AdminDisableUser", {"UserPoolId": pool, "Username": "c"})
    assert await names(api, pool, 'cognito:user_status = "CONFIRMED"') == ["b"]
    assert await names(api, pool, 'cognito:user_status ^= "FORCE"') == ["a", "c"]
    assert await names(api, pool, 'status = "Disabled"') == ["c"]
    assert await names(api, pool, 'status = "enabled"') == ["a", "b"]
    assert await names(api, pool, 'status ^= "Enabled"') == []
    assert await names(api, pool, 'status = "sometimes"') == []
    await api.admin("AdminEnableUser", {"UserPoolId": pool, "Username": "c"})
    assert await names(api, pool, 'status = "Enabled"', limit=1) == ["a", "b", "c"]


async def test_case_insensitive_pool(api: InProcessApi) -> None:
    """Usernames are compared as the pool compares them; attribute values exactly."""
    pool = await make_pool(api, UsernameConfiguration={"CaseSensitive": False})
    await create(api, pool, "Alice", email="Alice@Example.com")
    await create(api, pool, "alfred", email="alfred@example.com")
    assert await names(api, pool, 'username = "ALICE"') == ["Alice"]
    assert await names(api, pool, 'username ^= "AL"') == ["alfred", "Alice"]
    assert await names(api, pool, 'email = "alice@example.com"') == []
    assert await names(api, pool, 'email ^= "Al"') == ["Alice"]
    sensitive = await make_pool(api)
    await create(api, sensitive, "Alice")
    assert await names(api, sensitive, 'username = "alice"') == []
    assert await names(api, sensitive, 'username ^= "Al"') == ["Alice"]


async def test_prefix_filters_page_in_value_order(api: InProcessApi) -> None:
    pool = await make_pool(api)
    for name, given in (
        ("u1", "Bea"),
        ("u2", "Al"),
        ("u3", "Bea"),
        ("u4", "Ben"),
        ("u5", "Bo"),
        ("u6", "Cy"),
    ):
        await create(api, pool, name, given_name=given)
    expected = ["u1", "u3", "u4", "u5"]  # Bea (u1, u3), Ben, Bo
    for limit in (1, 2, 3, 60):
        assert await names(api, pool, 'given_name ^= "B"', limit=limit) == expected
    assert await names(api, pool, 'given_name = "Bea"', limit=1) == ["u1", "u3"]

    first = await api.admin("ListUsers", {"UserPoolId": pool, "Filter": 'given_name ^= "B"', "Limit": 2})
    token = first["PaginationToken"]
    # a user changed between pages: the next page resumes after the last one listed
    await api.admin(
        "AdminUpdateUserAttributes",
        {"UserPoolId": pool, "Username": "u1", "UserAttributes": [{"Name": "given_name", "Value": "Bz"}]},
    )
    rest = await api.admin(
        "ListUsers", {"UserPoolId": pool, "Filter": 'given_name ^= "B"', "PaginationToken": token}
    )
    assert [u["Username"] for u in rest["Users"]] == ["u4", "u5", "u1"]
    for other in ('given_name ^= "Be"', None):
        body = {"UserPoolId": pool, "PaginationToken": token, **({"Filter": other} if other else {})}
        await api.error("ListUsers", body, "InvalidParameterException", signed=True)
