"""A year of traffic does not grow the database (issue 13, "Operating it").

The server's own purge loop (``app.purge_loop``, every minute in production, every few
milliseconds here) runs on the pinned clock while a year goes by, a week at a time:
sign-ins (refresh tokens), a revocation, failed sign-ins of unknown and known names
(lockout counters), forgotten passwords (codes), SRP starts (sessions) and a key rotation a
month. Each table that holds short-lived rows stops growing once its longest lifetime has
passed; what is still valid survives the purge.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from cognate import app, bootstrap, config
from cognate.core.service import Core
from cognate.store.cached import CachingStore
from tests.support.inprocess import URL, InProcessApi, inprocess_api

pytestmark = pytest.mark.anyio
PASSWORD = "Passw0rd!"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
TABLES = ("ttl_items", "refresh_tokens", "lockouts", "signing_keys", "auth_events")
WEEK = 7 * 86400.0
SRP_A = format(2**1000 + 12345, "x")  # any A that is not 0 mod N starts an SRP sign-in


def counts(data_dir: Path) -> dict[str, int]:
    with sqlite3.connect(data_dir / "cognate.db") as db:
        return {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}


async def one_week(api: InProcessApi, client_id: str, week: int) -> None:
    tokens = []
    for _ in range(3):
        signed_in = await api.ok(
            "InitiateAuth",
            {
                "ClientId": client_id,
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": "ann", "PASSWORD": PASSWORD},
            },
        )
        tokens.append(signed_in["AuthenticationResult"]["RefreshToken"])
    await api.ok("RevokeToken", {"ClientId": client_id, "Token": tokens[0]})
    for name in (f"ghost{week}", "bob"):
        await api.error(
            "InitiateAuth",
            {
                "ClientId": client_id,
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": name, "PASSWORD": "Wrong-passw0rd"},
            },
            "NotAuthorizedException",
        )
    await api.ok("ForgotPassword", {"ClientId": client_id, "Username": "ann"})
    await api.ok(
        "InitiateAuth",
        {
            "ClientId": client_id,
            "AuthFlow": "USER_SRP_AUTH",
            "AuthParameters": {"USERNAME": "ann", "SRP_A": SRP_A},
        },
    )


async def test_a_year_of_traffic_does_not_grow_the_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app, "PURGE_INTERVAL_S", 0.005)  # the server's own loop, run often
    async with inprocess_api(tmp_path) as api:
        pool_id = (await api.admin("CreateUserPool", {"PoolName": "year"}))["UserPool"]["Id"]
        client_id = (
            await api.admin(
                "CreateUserPoolClient",
                {
                    "UserPoolId": pool_id,
                    "ClientName": "app",
                    "ExplicitAuthFlows": FLOWS,
                    "PreventUserExistenceErrors": "ENABLED",
                },
            )
        )["UserPoolClient"]["ClientId"]
        for name in ("ann", "bob"):
            await api.admin(
                "AdminCreateUser",
                {
                    "UserPoolId": pool_id,
                    "Username": name,
                    "MessageAction": "SUPPRESS",
                    "UserAttributes": [
                        {"Name": "email", "Value": f"{name}@example.com"},
                        {"Name": "email_verified", "Value": "true"},
                    ],
                },
            )
            await api.admin(
                "AdminSetUserPassword",
                {"UserPoolId": pool_id, "Username": name, "Password": PASSWORD, "Permanent": True},
            )
        rotator = await operator_core(api)
        seen: list[dict[str, int]] = []
        try:
            for week in range(52):
                await one_week(api, client_id, week)
                if week % 4 == 0:
                    await rotator.keys.rotate(pool_id)  # what `cognate keys rotate` does
                seen.append(counts(api.data_dir))  # the week's peak, before it is over
                api.clock.advance(WEEK)
                await asyncio.sleep(0.05)  # a few rounds of the purge loop at the new time
        finally:
            await rotator.store.close()

        first_half = {t: max(week[t] for week in seen[:26]) for t in TABLES}
        second_half = {t: max(week[t] for week in seen[26:]) for t in TABLES}
        assert all(first_half[t] > 0 for t in TABLES), seen
        assert second_half == {t: min(second_half[t], first_half[t]) for t in TABLES}, seen
        # The bounds, by lifetime: refresh tokens last 30 days (5 weeks of 3 tokens at most),
        # retired keys are kept two days (a rotation a month: at most a retired pair with the active one).
        assert second_half["refresh_tokens"] <= 6 * 3, seen
        assert second_half["signing_keys"] <= 4, seen
        # Sign-in events are kept 90 days: 13 weeks of 5 a week (3 sign-ins, a failed one, a
        # reset code; an SRP start that is never answered is no event), and the current week's.
        assert second_half["auth_events"] <= 14 * 5, seen
        assert after_purge(api) == {"lockouts": 0, "ttl_items": 0}, seen

        # What is still valid survived: a sign-in's refresh token works a week later.
        fresh = await api.ok(
            "InitiateAuth",
            {
                "ClientId": client_id,
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": "ann", "PASSWORD": PASSWORD},
            },
        )
        api.clock.advance(WEEK)
        await asyncio.sleep(0.05)
        refreshed = await api.ok(
            "InitiateAuth",
            {
                "ClientId": client_id,
                "AuthFlow": "REFRESH_TOKEN_AUTH",
                "AuthParameters": {"REFRESH_TOKEN": fresh["AuthenticationResult"]["RefreshToken"]},
            },
        )
        assert refreshed["AuthenticationResult"]["AccessToken"]


def after_purge(api: InProcessApi) -> dict[str, int]:
    now = counts(api.data_dir)
    return {"lockouts": now["lockouts"], "ttl_items": now["ttl_items"]}


async def operator_core(api: InProcessApi) -> Core:
    """A second core over the same database, as ``cognate keys rotate`` builds one."""
    settings = config.Settings(data_dir=api.data_dir, public_url=URL, password_hash_cost="low").resolved()
    store = CachingStore(settings.database_url)
    return Core(store, app.core_config(settings, bootstrap.ensure(settings)), clock=api.clock)
