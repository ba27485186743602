"""A user's sign-in history through AdminListUserAuthEvents and AdminUpdateAuthEventFeedback
(issue 13, "Operating it"), in-process on the pinned clock.

Cognito lists these only with threat protection on; Cognate always does. One event per
sign-in (its MFA step updates it), per sign-up, password reset request, password change
and resent code; newest first, paged by NextToken; the request's address and User-Agent
as its context; never an event for a refresh or for a name that is no user.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pyotp
import pytest

from cognate import app
from cognate.core.context import Door, RequestContext
from cognate.core.mfa import Preference
from cognate.core.outcome import Challenge
from cognate.core.service import Core
from cognate.core.triggers import RecordingInvoker
from cognate.errors import NotAuthorizedException
from tests.api import hosted_helpers as hosted
from tests.api.conftest import MakeCore
from tests.support.inprocess import InProcessApi, inprocess_api

pytestmark = pytest.mark.anyio
PASSWORD = "Passw0rd!"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
AGENT = "Mozilla/5.0 (X11; Linux x86_64) events-test/1.0"


async def setup(api: InProcessApi, **pool: Any) -> tuple[str, str]:
    pool_id = (await api.admin("CreateUserPool", {"PoolName": "events", **pool}))["UserPool"]["Id"]
    client_id = (
        await api.admin(
            "CreateUserPoolClient",
            {"UserPoolId": pool_id, "ClientName": "app", "ExplicitAuthFlows": FLOWS},
        )
    )["UserPoolClient"]["ClientId"]
    return pool_id, client_id


async def add_user(api: InProcessApi, pool_id: str, name: str = "ann", **attrs: str) -> None:
    await api.admin(
        "AdminCreateUser",
        {
            "UserPoolId": pool_id,
            "Username": name,
            "MessageAction": "SUPPRESS",
            "UserAttributes": [{"Name": k, "Value": v} for k, v in attrs.items()],
        },
    )
    await api.admin(
        "AdminSetUserPassword",
        {"UserPoolId": pool_id, "Username": name, "Password": PASSWORD, "Permanent": True},
    )


def password_auth(client_id: str, name: str, password: str = PASSWORD) -> dict[str, Any]:
    return {
        "ClientId": client_id,
        "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": name, "PASSWORD": password},
    }


async def events(api: InProcessApi, pool_id: str, name: str = "ann", **kw: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (
        await api.admin("AdminListUserAuthEvents", {"UserPoolId": pool_id, "Username": name, **kw})
    )["AuthEvents"]
    return found


def answers(event: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["ChallengeName"], c["ChallengeResponse"]) for c in event["ChallengeResponses"]]


async def test_sign_ins_newest_first_with_their_context(api: InProcessApi) -> None:
    pool_id, client_id = await setup(api)
    await add_user(api, pool_id)
    assert await events(api, pool_id) == []  # administrative writes are no events of the user
    await api.ok("InitiateAuth", password_auth(client_id, "ann"), headers={"User-Agent": AGENT})
    api.clock.advance(60)
    await api.error(
        "InitiateAuth", password_auth(client_id, "ann", "Wrong-passw0rd"), "NotAuthorizedException"
    )
    await api.error("InitiateAuth", password_auth(client_id, "nobody"), "UserNotFoundException")
    failed, passed = await events(api, pool_id)
    assert failed["EventType"] == passed["EventType"] == "SignIn"
    assert (failed["EventResponse"], answers(failed)) == ("Fail", [("Password", "Failure")])
    assert (passed["EventResponse"], answers(passed)) == ("Pass", [("Password", "Success")])
    assert failed["CreationDate"] - passed["CreationDate"] == pytest.approx(60)
    assert passed["EventContextData"] == {"IpAddress": "192.0.2.10", "DeviceName": AGENT}
    assert passed["EventRisk"] == {"RiskDecision": "NoRisk", "CompromisedCredentialsDetected": False}
    assert "EventFeedback" not in passed
    assert failed["EventId"] != passed["EventId"]


async def test_admin_sign_in_takes_the_end_users_context(api: InProcessApi) -> None:
    """AdminInitiateAuth's ContextData: the address and User-Agent the signed server saw."""
    pool_id, client_id = await setup(api)
    await api.admin(
        "UpdateUserPoolClient",
        {
            "UserPoolId": pool_id,
            "ClientId": client_id,
            "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH"],
        },
    )
    await add_user(api, pool_id)
    await api.admin(
        "AdminInitiateAuth",
        {
            "UserPoolId": pool_id,
            "ClientId": client_id,
            "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "ann", "PASSWORD": PASSWORD},
            "ContextData": {
                "IpAddress": "198.51.100.7",
                "ServerName": "app.example.com",
                "ServerPath": "/login",
                "HttpHeaders": [{"headerName": "User-Agent", "headerValue": AGENT}],
            },
        },
    )
    api.clock.advance(1)
    await api.admin(
        "AdminInitiateAuth",
        {
            "UserPoolId": pool_id,
            "ClientId": client_id,
            "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "ann", "PASSWORD": PASSWORD},
        },
    )
    without, given = await events(api, pool_id)
    assert given["EventContextData"] == {"IpAddress": "198.51.100.7", "DeviceName": AGENT}
    assert without["EventContextData"]["IpAddress"] == "192.0.2.10"  # the caller's own


async def test_a_refresh_is_no_sign_in(api: InProcessApi) -> None:
    pool_id, client_id = await setup(api)
    await add_user(api, pool_id)
    signed = await api.ok("InitiateAuth", password_auth(client_id, "ann"))
    refresh = signed["AuthenticationResult"]["RefreshToken"]
    await api.ok(
        "InitiateAuth",
        {
            "ClientId": client_id,
            "AuthFlow": "REFRESH_TOKEN_AUTH",
            "AuthParameters": {"REFRESH_TOKEN": refresh},
        },
    )
    assert len(await events(api, pool_id)) == 1


async def test_paging_by_next_token(api: InProcessApi) -> None:
    pool_id, client_id = await setup(api)
    await add_user(api, pool_id)
    await add_user(api, pool_id, "bob")
    for _ in range(5):
        await api.ok("InitiateAuth", password_auth(client_id, "ann"))
        api.clock.advance(1)
    everything = await events(api, pool_id)
    assert len(everything) == 5  # MaxResults missing: up to 60
    assert await events(api, pool_id, MaxResults=0) == everything
    dates = [e["CreationDate"] for e in everything]
    assert dates == sorted(dates, reverse=True)
    seen, token, pages = [], None, 0
    while True:
        page = await api.admin(
            "AdminListUserAuthEvents",
            {
                "UserPoolId": pool_id,
                "Username": "ann",
                "MaxResults": 2,
                **({"NextToken": token} if token else {}),
            },
        )
        seen += page["AuthEvents"]
        pages += 1
        token = page.get("NextToken")
        if token is None:
            break
        other = {"UserPoolId": pool_id, "Username": "bob", "NextToken": token}
        await api.error("AdminListUserAuthEvents", other, "InvalidParameterException", signed=True)
    assert (pages, seen) == (3, everything)


async def test_unknown_user_and_pool(api: InProcessApi) -> None:
    pool_id, _ = await setup(api)
    body = {"UserPoolId": pool_id, "Username": "nobody"}
    assert await api.error("AdminListUserAuthEvents", body, "UserNotFoundException", signed=True)
    body = {"UserPoolId": "us-east-1_nothere12", "Username": "ann"}
    await api.error("AdminListUserAuthEvents", body, "ResourceNotFoundException", signed=True)
    # IAM only: unsigned, Cognito's answer to a missing signature.
    await api.error(
        "AdminListUserAuthEvents",
        {"UserPoolId": pool_id, "Username": "ann"},
        "MissingAuthenticationTokenException",
    )


async def test_an_mfa_sign_in_is_one_event(api: InProcessApi) -> None:
    pool_id, client_id = await setup(api, MfaConfiguration="OPTIONAL")
    await api.admin(
        "SetUserPoolMfaConfig",
        {
            "UserPoolId": pool_id,
            "SoftwareTokenMfaConfiguration": {"Enabled": True},
            "MfaConfiguration": "OPTIONAL",
        },
    )
    await add_user(api, pool_id)
    access = (await api.ok("InitiateAuth", password_auth(client_id, "ann")))["AuthenticationResult"][
        "AccessToken"
    ]
    secret = (await api.ok("AssociateSoftwareToken", {"AccessToken": access}))["SecretCode"]
    totp = pyotp.TOTP(secret)
    await api.ok("VerifySoftwareToken", {"AccessToken": access, "UserCode": totp.at(api.clock.now())})
    await api.ok(
        "SetUserMFAPreference",
        {"AccessToken": access, "SoftwareTokenMfaSettings": {"Enabled": True, "PreferredMfa": True}},
    )
    api.clock.advance(60)
    step = await api.ok("InitiateAuth", password_auth(client_id, "ann"))
    assert step["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    pending = (await events(api, pool_id))[0]
    assert (pending["EventResponse"], answers(pending)) == ("InProgress", [("Password", "Success")])
    right = totp.at(api.clock.now())
    respond = {
        "ClientId": client_id,
        "ChallengeName": "SOFTWARE_TOKEN_MFA",
        "Session": step["Session"],
        "ChallengeResponses": {
            "USERNAME": "ann",
            "SOFTWARE_TOKEN_MFA_CODE": "000000" if right != "000000" else "111111",
        },
    }
    await api.error("RespondToAuthChallenge", respond, "CodeMismatchException")
    failed = (await events(api, pool_id))[0]
    assert failed["EventId"] == pending["EventId"]
    assert (failed["EventResponse"], answers(failed)) == (
        "Fail",
        [("Password", "Success"), ("Mfa", "Failure")],
    )
    respond["ChallengeResponses"]["SOFTWARE_TOKEN_MFA_CODE"] = right
    await api.ok("RespondToAuthChallenge", respond)
    latest, first = await events(api, pool_id)
    assert latest["EventId"] == pending["EventId"] and latest["CreationDate"] == pending["CreationDate"]
    assert (latest["EventResponse"], answers(latest)) == (
        "Pass",
        [("Password", "Success"), ("Mfa", "Failure"), ("Mfa", "Success")],
    )
    assert first["EventResponse"] == "Pass"  # the sign-in before MFA was set up


async def test_sign_up_resend_reset_and_password_changes(api: InProcessApi) -> None:
    pool_id, client_id = await setup(api, AutoVerifiedAttributes=["email"])
    attrs = [{"Name": "email", "Value": "ann@example.com"}]
    api.clock.advance(1)  # one instant per event: listed in the order they happened
    await api.ok(
        "SignUp", {"ClientId": client_id, "Username": "ann", "Password": PASSWORD, "UserAttributes": attrs}
    )
    api.clock.advance(1)
    await api.ok("ResendConfirmationCode", {"ClientId": client_id, "Username": "ann"})
    await api.admin("AdminConfirmSignUp", {"UserPoolId": pool_id, "Username": "ann"})
    await api.admin(
        "AdminUpdateUserAttributes",
        {
            "UserPoolId": pool_id,
            "Username": "ann",
            "UserAttributes": [{"Name": "email_verified", "Value": "true"}],
        },
    )
    api.clock.advance(1)
    await api.ok("ForgotPassword", {"ClientId": client_id, "Username": "ann"})
    code = [m for m in api.outbox() if m.get("username") == "ann" and m.get("code")][-1]["code"]
    api.clock.advance(1)
    await api.error(
        "ConfirmForgotPassword",
        {
            "ClientId": client_id,
            "Username": "ann",
            "ConfirmationCode": "0" if code != "0" else "1",
            "Password": "N3w-Passw0rd!",
        },
        "CodeMismatchException",
    )
    api.clock.advance(1)
    await api.ok(
        "ConfirmForgotPassword",
        {"ClientId": client_id, "Username": "ann", "ConfirmationCode": code, "Password": "N3w-Passw0rd!"},
    )
    api.clock.advance(1)
    access = (await api.ok("InitiateAuth", password_auth(client_id, "ann", "N3w-Passw0rd!")))[
        "AuthenticationResult"
    ]["AccessToken"]
    change = {
        "AccessToken": access,
        "PreviousPassword": "Wr0ng-passw0rd",
        "ProposedPassword": "An0ther-passw0rd",
    }
    api.clock.advance(1)
    await api.error("ChangePassword", change, "NotAuthorizedException")
    api.clock.advance(1)
    await api.ok("ChangePassword", {**change, "PreviousPassword": "N3w-Passw0rd!"})
    found = [(e["EventType"], e["EventResponse"], answers(e)) for e in reversed(await events(api, pool_id))]
    assert found == [
        ("SignUp", "Pass", []),
        ("ResendCode", "Pass", []),
        ("ForgotPassword", "Pass", []),
        ("PasswordChange", "Fail", []),  # ConfirmForgotPassword with a wrong code
        ("PasswordChange", "Pass", []),
        ("SignIn", "Pass", [("Password", "Success")]),
        ("PasswordChange", "Fail", [("Password", "Failure")]),  # ChangePassword, wrong previous one
        ("PasswordChange", "Pass", [("Password", "Success")]),
    ]


async def test_admin_feedback_on_an_event(api: InProcessApi) -> None:
    pool_id, client_id = await setup(api)
    await add_user(api, pool_id)
    await api.ok("InitiateAuth", password_auth(client_id, "ann"))
    event = (await events(api, pool_id))[0]
    api.clock.advance(30)
    body = {"UserPoolId": pool_id, "Username": "ann", "EventId": event["EventId"], "FeedbackValue": "Invalid"}
    assert await api.admin("AdminUpdateAuthEventFeedback", body) == {}
    marked = (await events(api, pool_id))[0]
    assert marked["EventFeedback"] == {
        "FeedbackValue": "Invalid",
        "Provider": "Admin",
        "FeedbackDate": pytest.approx(event["CreationDate"] + 30),
    }
    await api.error(
        "AdminUpdateAuthEventFeedback",
        {**body, "EventId": "no-such-event"},
        "ResourceNotFoundException",
        signed=True,
    )
    await add_user(api, pool_id, "bob")  # another user's event is not theirs to mark
    await api.error(
        "AdminUpdateAuthEventFeedback", {**body, "Username": "bob"}, "ResourceNotFoundException", signed=True
    )
    await api.error(
        "AdminUpdateAuthEventFeedback",
        {**body, "FeedbackValue": "Maybe"},
        "InvalidParameterException",
        signed=True,
    )


async def test_deleting_the_user_deletes_its_history(api: InProcessApi) -> None:
    pool_id, client_id = await setup(api)
    await add_user(api, pool_id)
    await api.ok("InitiateAuth", password_auth(client_id, "ann"))
    await api.admin("AdminDeleteUser", {"UserPoolId": pool_id, "Username": "ann"})
    await add_user(api, pool_id)  # the same name again: a new user, with no history
    assert await events(api, pool_id) == []


async def test_events_past_their_retention_are_purged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's purge loop (every minute; here every few milliseconds) on the pinned clock."""
    monkeypatch.setattr(app, "PURGE_INTERVAL_S", 0.005)
    async with inprocess_api(tmp_path) as api:
        pool_id, client_id = await setup(api)
        await add_user(api, pool_id)
        await api.ok("InitiateAuth", password_auth(client_id, "ann"))
        api.clock.advance(89 * 86400)
        await api.ok("InitiateAuth", password_auth(client_id, "ann"))
        await asyncio.sleep(0.05)  # a few rounds of the loop
        assert len(await events(api, pool_id)) == 2
        api.clock.advance(2 * 86400)  # the first is 91 days old: past the 90 days kept
        for _ in range(200):
            if len(await events(api, pool_id)) == 1:
                break
            await asyncio.sleep(0.01)
        assert len(await events(api, pool_id)) == 1


async def test_the_hosted_login_is_a_sign_in_event(core: Core) -> None:
    """The hosted login page's password step is observed as any other sign-in step."""
    pool, client = await hosted.setup(core)
    await hosted.add_user(core, pool)
    async with hosted.browser(core, hosted.Completions()) as b:
        f = await hosted.open_form(b, "/login", hosted.authorize_params(client))
        wrong = await hosted.submit(b, f, username="alice", password="Wrong-passw0rd")
        assert wrong.status_code == 400  # the page again, with Cognito's message
        r = await hosted.submit(b, f, username="alice", password=hosted.PASSWORD)
        assert r.status_code == 302
    user = await core.users.get(pool, "alice")
    listed, _ = await core.auth_events.page(pool, user, None, None)
    assert sorted((e.event_type, e.doc["EventResponse"]) for e in listed) == [
        ("SignIn", "Fail"),
        ("SignIn", "Pass"),
    ]
    assert all(e.doc["EventContextData"]["IpAddress"] == "127.0.0.1" for e in listed)


async def test_one_event_when_the_mfa_step_reaches_another_node(make_core: MakeCore) -> None:
    """Two cores over one database (two nodes): the password step on one, the code on the
    other; the session carries the event, the store holds it."""
    first, second = await make_core(), await make_core()
    pool, client = await hosted.setup(first, ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])
    await first.mfa.set_pool_config(pool.id, mode="OPTIONAL", software_token={"Enabled": True})
    pool = await first.pools.get(pool.id)
    user = await hosted.add_user(first, pool)
    secret = await first.mfa.associate(pool, user)
    user = await first.users.get(pool, "alice")
    user = await first.mfa.verify_software_token(pool, user, pyotp.TOTP(secret).now(), None)
    await first.mfa.set_preference(pool, user, None, Preference(enabled=True, preferred=True))
    ctx = RequestContext(Door.AWS, source_ip="203.0.113.5")
    auth = {"USERNAME": "alice", "PASSWORD": hosted.PASSWORD}
    step = await first.auth.initiate(ctx, client.id, "USER_PASSWORD_AUTH", auth)
    assert isinstance(step, Challenge) and step.name == "SOFTWARE_TOKEN_MFA"
    await first.auth_events.settle()
    code = pyotp.TOTP(secret).at(time.time() + 30)  # the next step's code: not used by the setup
    answer = {"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": code}
    done = await second.auth.respond(ctx, client.id, "SOFTWARE_TOKEN_MFA", answer, step.session)
    assert not isinstance(done, Challenge)
    user = await second.users.get(pool, "alice")
    listed, _ = await second.auth_events.page(pool, user, None, None)
    assert [(e.doc["EventResponse"], e.doc["ChallengeResponses"]) for e in listed] == [
        (
            "Pass",
            [
                {"ChallengeName": "Password", "ChallengeResponse": "Success"},
                {"ChallengeName": "Mfa", "ChallengeResponse": "Success"},
            ],
        )
    ]


async def test_a_custom_authentication_is_one_event(make_core: MakeCore) -> None:
    """CUSTOM_AUTH: its challenges continue one event, Pass when tokens are issued, Fail when
    DefineAuthChallenge gives up (Cognito's ChallengeResponses name only Password and Mfa)."""

    def answer(_arn: str, event: dict[str, Any]) -> dict[str, Any]:
        source, request = event["triggerSource"], event["request"]
        if source.startswith("Define"):
            results = [s["challengeResult"] for s in request["session"]]
            if results and results[-1]:
                return {**event, "response": {"issueTokens": True, "failAuthentication": False}}
            if len(results) >= 2:
                return {**event, "response": {"issueTokens": False, "failAuthentication": True}}
            return {**event, "response": {"challengeName": "CUSTOM_CHALLENGE"}}
        if source.startswith("Create"):
            return {
                **event,
                "response": {"publicChallengeParameters": {}, "privateChallengeParameters": {"a": "42"}},
            }
        ok = request["privateChallengeParameters"]["a"] == request["challengeAnswer"]
        return {**event, "response": {"answerCorrect": ok}}

    core = await make_core(RecordingInvoker(answer))
    lambdas = {
        k: "arn:aws:lambda:us-east-1:123456789012:function:t"
        for k in ("DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse")
    }
    pool = await core.pools.create({"PoolName": "p", "LambdaConfig": lambdas})
    client = await core.clients.create(pool, {"ClientName": "c", "ExplicitAuthFlows": ["ALLOW_CUSTOM_AUTH"]})
    user = await core.users.create_confirmed(pool, "ann", "Passw0rd!", {})
    ctx = RequestContext(Door.AWS, source_ip="203.0.113.9")

    async def attempt(*answers: str) -> str:
        step = await core.auth.initiate(ctx, client.id, "CUSTOM_AUTH", {"USERNAME": "ann"})
        for given in answers:
            assert isinstance(step, Challenge)
            try:
                step = await core.auth.respond(
                    ctx, client.id, "CUSTOM_CHALLENGE", {"ANSWER": given}, step.session
                )
            except NotAuthorizedException:
                return "refused"
        return "challenge" if isinstance(step, Challenge) else "signed in"

    assert await attempt("7", "42") == "signed in"
    await core.auth_events.settle()
    assert [e.doc["EventResponse"] for e in (await core.auth_events.page(pool, user, None, None))[0]] == [
        "Pass"
    ]
    assert await attempt("1", "2") == "refused"
    listed, _ = await core.auth_events.page(pool, user, None, None)
    assert sorted(e.doc["EventResponse"] for e in listed) == ["Fail", "Pass"]
    assert all(e.event_type == "SignIn" and e.doc["ChallengeResponses"] == [] for e in listed)
