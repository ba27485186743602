"""Paging and counting live in the core (issue 6): ListGroups, ListUsersInGroup, ListUsers'
AttributesToGet and DescribeUserPool's count, through the door in-process."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.inprocess import InProcessApi

pytestmark = pytest.mark.anyio


async def pages(api: InProcessApi, op: str, body: dict[str, Any], key: str, token: str) -> list[list[str]]:
    out: list[list[str]] = []
    sent = dict(body)
    while True:
        page = await api.admin(op, sent)
        out.append([item.get("GroupName") or item["Username"] for item in page[key]])
        if token not in page:
            return out
        sent = {**body, token: page[token]}


async def test_groups_and_members_page_through(api: InProcessApi) -> None:
    pool = (await api.admin("CreateUserPool", {"PoolName": "p"}))["UserPool"]["Id"]
    for name in ("e", "b", "d", "a", "c"):
        await api.admin("CreateGroup", {"UserPoolId": pool, "GroupName": name})
    for name in ("e", "b", "d", "a", "c"):
        await api.admin(
            "AdminCreateUser", {"UserPoolId": pool, "Username": f"u{name}", "MessageAction": "SUPPRESS"}
        )
        await api.admin("AdminAddUserToGroup", {"UserPoolId": pool, "Username": f"u{name}", "GroupName": "a"})
    body = {"UserPoolId": pool, "Limit": 2}
    assert await pages(api, "ListGroups", body, "Groups", "NextToken") == [["a", "b"], ["c", "d"], ["e"]]
    members = await pages(api, "ListUsersInGroup", {**body, "GroupName": "a"}, "Users", "NextToken")
    assert members == [["ua", "ub"], ["uc", "ud"], ["ue"]]
    await api.error(
        "ListGroups", {**body, "NextToken": "bm90IG91cnM="}, "InvalidParameterException", signed=True
    )
    await api.error("ListUsersInGroup", {**body, "GroupName": "zz"}, "ResourceNotFoundException", signed=True)
    described = await api.admin("DescribeUserPool", {"UserPoolId": pool})
    assert described["UserPool"]["EstimatedNumberOfUsers"] == 5


async def test_list_users_attributes_to_get_is_checked_in_the_core(api: InProcessApi) -> None:
    pool = (await api.admin("CreateUserPool", {"PoolName": "p"}))["UserPool"]["Id"]
    await api.admin(
        "AdminCreateUser",
        {
            "UserPoolId": pool,
            "Username": "ann",
            "MessageAction": "SUPPRESS",
            "UserAttributes": [{"Name": "email", "Value": "ann@example.com"}],
        },
    )
    only = await api.admin("ListUsers", {"UserPoolId": pool, "AttributesToGet": ["email"]})
    assert only["Users"][0]["Attributes"] == [{"Name": "email", "Value": "ann@example.com"}]
    none = await api.admin("ListUsers", {"UserPoolId": pool, "AttributesToGet": []})
    assert none["Users"][0]["Attributes"] == []
    message = await api.error(
        "ListUsers",
        {"UserPoolId": pool, "AttributesToGet": ["colour"]},
        "InvalidParameterException",
        signed=True,
    )
    assert message == "One or more requested attributes do not exist."
