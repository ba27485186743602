"""AdminConfirmSignUp on an UNCONFIRMED user (made in the store, since SignUp is a later issue)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cognate.awsjson.ops.users import admin_confirm_sign_up
from cognate.awsjson.params import Params
from cognate.core.entities import UserStatus
from cognate.core.service import Core
from cognate.core.users import username_key
from cognate.errors import NotAuthorizedException

pytestmark = pytest.mark.anyio


async def test_admin_confirm_sign_up_confirms_an_unconfirmed_user(core: Core) -> None:
    pool = await core.pools.create({"PoolName": "p"})
    user = await core.users.create_confirmed(pool, "sam", "Passw0rd!", {})
    await core.store.update_user(replace(user, status=UserStatus.UNCONFIRMED), username_key(pool, "sam"))
    params = Params({"UserPoolId": pool.id, "Username": "sam"})
    assert await admin_confirm_sign_up(core, params) == {}
    confirmed = await core.users.get(pool, "sam")
    assert confirmed.status == UserStatus.CONFIRMED
    with pytest.raises(NotAuthorizedException, match="Current status is CONFIRMED"):
        await admin_confirm_sign_up(core, params)
