"""core/mfa.py takes typed settings and returns entities (issue 6): the pool's MFA
configuration comes back as the Pool, a user's preference as the User."""

from __future__ import annotations

import pytest

from cognate.core.mfa import SMS, TOTP, Preference, pool_methods
from cognate.core.service import Core
from cognate.errors import InvalidParameterException, SoftwareTokenMFANotFoundException

pytestmark = pytest.mark.anyio


async def test_pool_configuration_is_kept_as_given(core: Core) -> None:
    pool = await core.pools.create({"PoolName": "p"})
    updated = await core.mfa.set_pool_config(pool.id, mode="OPTIONAL", software_token={"Enabled": True})
    assert updated.doc["MfaConfiguration"] == "OPTIONAL" and pool_methods(updated) == [TOTP]
    assert (await core.pools.get(pool.id)).doc["MfaConfig"] == {
        "SoftwareTokenMfaConfiguration": {"Enabled": True}
    }
    with pytest.raises(InvalidParameterException, match="at least one MFA method"):
        await core.mfa.set_pool_config(pool.id, mode="ON", software_token={"Enabled": False})
    assert (await core.pools.get(pool.id)).doc["MfaConfiguration"] == "OPTIONAL"  # nothing half-written


async def test_preferences_enable_prefer_and_clear(core: Core) -> None:
    pool = await core.pools.create({"PoolName": "p"})
    user = await core.users.create_confirmed(pool, "ann", "Passw0rd!", {"phone_number": "+15555550100"})
    user = await core.mfa.set_preference(pool, user, Preference(enabled=True, preferred=True), None)
    assert (user.mfa["enabled"], user.mfa["preferred"]) == ([SMS], SMS)
    user = await core.mfa.set_preference(pool, user, Preference(enabled=True, preferred=False), None)
    assert (user.mfa["enabled"], user.mfa["preferred"]) == ([SMS], None)
    user = await core.mfa.set_preference(pool, user, Preference(enabled=False), None)
    assert (user.mfa["enabled"], user.mfa["preferred"]) == ([], None)
    with pytest.raises(SoftwareTokenMFANotFoundException):
        await core.mfa.set_preference(pool, user, None, Preference(enabled=True))
    with pytest.raises(InvalidParameterException, match="must be enabled"):
        await core.mfa.set_preference(pool, user, Preference(enabled=False, preferred=True), None)
