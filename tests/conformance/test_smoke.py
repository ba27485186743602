from __future__ import annotations

from typing import Any


def test_create_and_describe_pool(idp: Any, pool: dict[str, Any]) -> None:
    got = idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
    assert got["Id"] == pool["Id"]
    assert got["Policies"]["PasswordPolicy"]["MinimumLength"] == 8
