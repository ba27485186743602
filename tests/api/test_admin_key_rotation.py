"""A previous admin key pair signs IAM operations until it expires, by the core's clock;
then it is refused as an unknown key (issue 13, "Operating it")."""

from __future__ import annotations

from pathlib import Path

import pytest

from cognate.admin_keys import write_credentials
from cognate.core.clock import Clock
from tests.support.inprocess import inprocess_api

pytestmark = pytest.mark.anyio

NEW = {"AccessKeyId": "AKIANEWNEWNEWNEWNEW1", "SecretAccessKey": "new-secret"}
OLD = {"AccessKeyId": "AKIAOLDOLDOLDOLDOLD1", "SecretAccessKey": "old-secret"}


async def test_the_previous_pair_works_until_it_expires(tmp_path: Path) -> None:
    clock = Clock.pinned()
    (tmp_path / "data").mkdir()
    write_credentials(
        tmp_path / "data" / "credentials.json", {**NEW, "Previous": {**OLD, "Expires": clock.now() + 3600}}
    )
    async with inprocess_api(tmp_path, clock=clock) as api:
        assert api.credentials["AccessKeyId"] == NEW["AccessKeyId"]
        await api.admin("ListUserPools", {"MaxResults": 1})
        api.credentials = OLD
        await api.admin("ListUserPools", {"MaxResults": 1})
        api.clock.advance(3599)
        await api.admin("ListUserPools", {"MaxResults": 1})
        api.clock.advance(1)
        await api.error("ListUserPools", {"MaxResults": 1}, "UnrecognizedClientException", signed=True)
        api.credentials = NEW
        await api.admin("ListUserPools", {"MaxResults": 1})
