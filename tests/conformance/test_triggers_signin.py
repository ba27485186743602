"""Triggers on sign-in, over a real socket: PreAuthentication, PostAuthentication,
PreTokenGeneration (versions 1 and 2; refreshes), UserMigration from a dict of old users,
CustomMessage_Authentication, and CUSTOM_AUTH driven by Define/Create/Verify functions.

Handlers are tests/support/trigger_handlers.py, written as AWS's documentation shows them.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conformance.test_signin import PASSWORD, make_client, make_user, sign_in
from tests.conformance.trigger_server import arn, events, trigger_server
from tests.support.server import Server

FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


@pytest.fixture(scope="module")
def trig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with trigger_server(tmp_path_factory.mktemp("trig")) as server:
        yield server


@pytest.fixture(scope="module")
def admin(trig: Server) -> Any:
    return trig.boto()


@pytest.fixture(scope="module")
def public(trig: Server) -> Any:
    return trig.boto(signed=False)


def setup(admin: Any, lambdas: dict[str, Any], **pool_fields: Any) -> tuple[str, str]:
    config = {k: (arn(v) if isinstance(v, str) else v) for k, v in lambdas.items()}
    pool = admin.create_user_pool(PoolName=f"p{uuid.uuid4().hex[:8]}", LambdaConfig=config, **pool_fields)
    client = make_client(admin, pool["UserPool"]["Id"], ExplicitAuthFlows=FLOWS)
    return pool["UserPool"]["Id"], client["ClientId"]


def claims(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


def srp_sign_in(public: Any, pool_id: str, client_id: str, username: str, password: str = PASSWORD) -> Any:
    from pycognito.aws_srp import AWSSRP

    return AWSSRP(username, password, pool_id, client_id, client=public).authenticate_user()


# --- PreAuthentication / PostAuthentication --------------------------------------------------


def test_pre_and_post_authentication(trig: Server, admin: Any, public: Any) -> None:
    pool_id, client_id = setup(
        admin, {"PreAuthentication": "pre_authentication", "PostAuthentication": "post_authentication"}
    )
    user = make_user(admin, pool_id)
    public.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": PASSWORD},
        ClientMetadata={"device": "kiosk"},
    )
    (pre,) = [e for e in events(trig, "PreAuthentication_Authentication") if e["userName"] == user]
    assert pre["request"]["validationData"] == {"device": "kiosk"}  # InitiateAuth's ClientMetadata
    assert pre["request"]["userNotFound"] is False
    assert pre["request"]["userAttributes"]["cognito:user_status"] == "CONFIRMED"
    (post,) = [e for e in events(trig, "PostAuthentication_Authentication") if e["userName"] == user]
    assert post["request"]["newDeviceUsed"] is False and post["callerContext"]["clientId"] == client_id
    srp_sign_in(public, pool_id, client_id, user)  # SRP sign-ins run them too
    assert len([e for e in events(trig, "PreAuthentication_Authentication") if e["userName"] == user]) == 2
    blocked = make_user(admin, pool_id, "blocked")
    for attempt in (
        lambda: sign_in(public, client_id, blocked),
        lambda: srp_sign_in(public, pool_id, client_id, blocked),
    ):
        with pytest.raises(public.exceptions.UserLambdaValidationException) as caught:
            attempt()
        assert (
            caught.value.response["Error"]["Message"]
            == "PreAuthentication failed with error This user is blocked."
        )


def test_a_failing_post_authentication_issues_nothing(trig: Server, admin: Any, public: Any) -> None:
    pool_id, client_id = setup(admin, {"PostAuthentication": "crashes"})
    user = make_user(admin, pool_id)
    with pytest.raises(public.exceptions.UserLambdaValidationException) as caught:
        sign_in(public, client_id, user)
    assert "PostAuthentication failed with error RequestId: " in caught.value.response["Error"]["Message"]


# --- PreTokenGeneration ------------------------------------------------------------------------


def test_pre_token_generation_v1_claims_and_groups(trig: Server, admin: Any, public: Any) -> None:
    pool_id, client_id = setup(admin, {"PreTokenGeneration": "pre_token_v1"})
    user = make_user(admin, pool_id, UserAttributes=[{"Name": "email", "Value": "a@example.com"}])
    admin.create_group(UserPoolId=pool_id, GroupName="real")
    admin.admin_add_user_to_group(UserPoolId=pool_id, Username=user, GroupName="real")
    result = sign_in(public, client_id, user)["AuthenticationResult"]
    id_claims, access = claims(result["IdToken"]), claims(result["AccessToken"])
    assert id_claims["my_first_attribute"] == "first_value" and id_claims["family_name"] == "override"
    assert "email" not in id_claims
    assert id_claims["cognito:groups"] == ["group-A", "group-B"] == access["cognito:groups"]
    assert id_claims["cognito:roles"] == ["arn:aws:iam::123456789012:role/sns_callerA"]
    assert id_claims["cognito:preferred_role"] == "arn:aws:iam::123456789012:role/sns_callerA"
    assert "my_first_attribute" not in access  # version 1 changes the ID token only
    refreshed = public.initiate_auth(
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]},
    )["AuthenticationResult"]
    assert claims(refreshed["IdToken"])["my_first_attribute"] == "first_value"
    assert public.get_user(AccessToken=refreshed["AccessToken"])["Username"] == user


def test_pre_token_generation_v2_access_token_and_scopes(trig: Server, admin: Any, public: Any) -> None:
    pool_id, client_id = setup(
        admin, {"PreTokenGenerationConfig": {"LambdaArn": arn("pre_token_v2"), "LambdaVersion": "V2_0"}}
    )
    user = make_user(admin, pool_id, UserAttributes=[{"Name": "email", "Value": "a@example.com"}])
    result = sign_in(public, client_id, user)["AuthenticationResult"]
    id_claims, access = claims(result["IdToken"]), claims(result["AccessToken"])
    assert id_claims["family_name"] == "Doe" and "email" not in id_claims
    assert id_claims["sub"] != "forged"  # who the token is about cannot be changed
    assert access["my_first_attribute"] == "first_value" and access["tenant"] == {"id": 7}
    assert access["username"] == user  # a reserved claim: not suppressed
    assert access["scope"].split() == ["openid", "email", "solar-system-data/asteroids.add"]
    assert access["cognito:groups"] == ["group-A"]


def test_pre_token_generation_events_by_source(trig: Server, admin: Any, public: Any) -> None:
    pool_id, client_id = setup(admin, {"PreTokenGeneration": "recorder"})
    user = make_user(admin, pool_id)
    result = sign_in(public, client_id, user)["AuthenticationResult"]
    public.initiate_auth(
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]},
    )
    sources = [e["triggerSource"] for e in events(trig) if e["userName"] == user]
    assert sources == ["TokenGeneration_Authentication", "TokenGeneration_RefreshTokens"]
    event = next(e for e in events(trig, "TokenGeneration_Authentication") if e["userName"] == user)
    assert event["request"]["groupConfiguration"] == {
        "groupsToOverride": [],
        "iamRolesToOverride": [],
        "preferredRole": None,
    }


@pytest.mark.parametrize("function", ["raises", "sleeps", "bad_shape"])
def test_a_failing_pre_token_generation_issues_nothing(
    trig: Server, admin: Any, public: Any, function: str
) -> None:
    pool_id, client_id = setup(admin, {"PreTokenGeneration": function})
    user = make_user(admin, pool_id)
    with pytest.raises(public.exceptions.ClientError) as caught:
        sign_in(public, client_id, user)
    assert caught.value.response["Error"]["Code"] in (
        "UserLambdaValidationException",
        "UnexpectedLambdaException",
        "InvalidLambdaResponseException",
    )


# --- UserMigration on sign-in ----------------------------------------------------------------------


def test_user_migration_moves_users_from_a_dict_on_first_sign_in(
    trig: Server, admin: Any, public: Any
) -> None:
    pool_id, client_id = setup(admin, {"UserMigration": "user_migration"})
    with pytest.raises(public.exceptions.UserLambdaValidationException) as caught:
        sign_in(public, client_id, "legacy", "Wr0ng-password!")
    assert caught.value.response["Error"]["Message"] == "UserMigration failed with error Bad password."
    with pytest.raises(admin.exceptions.UserNotFoundException):
        admin.admin_get_user(UserPoolId=pool_id, Username="legacy")
    # USER_SRP_AUTH never sends the password: no migration (docs/triggers.md says so).
    with pytest.raises(public.exceptions.UserNotFoundException):
        srp_sign_in(public, pool_id, client_id, "legacy", "OldPassw0rd!")
    result = sign_in(public, client_id, "legacy", "OldPassw0rd!")["AuthenticationResult"]
    assert claims(result["IdToken"])["email"] == "legacy@example.com"
    got = admin.admin_get_user(UserPoolId=pool_id, Username="legacy")
    assert got["UserStatus"] == "CONFIRMED"
    assert {"Name": "email_verified", "Value": "true"} in got["UserAttributes"]
    # Moved: the next sign-in (SRP too) is the pool's own, the function is not asked again.
    srp_sign_in(public, pool_id, client_id, "legacy", "OldPassw0rd!")
    assert [m for m in trig.outbox() if m["username"] == "legacy"] == []  # messageAction SUPPRESS


# --- CustomMessage_Authentication ----------------------------------------------------------------


def test_custom_message_for_the_sms_mfa_code(trig: Server, admin: Any, public: Any) -> None:
    pool_id, client_id = setup(admin, {"CustomMessage": "custom_message"}, MfaConfiguration="OPTIONAL")
    user = make_user(admin, pool_id, UserAttributes=[{"Name": "phone_number", "Value": "+15555550123"}])
    admin.admin_set_user_mfa_preference(
        UserPoolId=pool_id, Username=user, SMSMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    assert sign_in(public, client_id, user)["ChallengeName"] == "SMS_MFA"
    (sms,) = [m for m in trig.outbox() if m["username"] == user]
    assert sms["body"] == f"[CustomMessage_Authentication] Your code is {sms['code']}"


# --- CUSTOM_AUTH ----------------------------------------------------------------------------------

CUSTOM = {
    "DefineAuthChallenge": "define_auth_challenge_no_srp",
    "CreateAuthChallenge": "create_auth_challenge",
    "VerifyAuthChallengeResponse": "verify_auth_challenge",
}


def custom_start(public: Any, client_id: str, user: str) -> Any:
    return public.initiate_auth(ClientId=client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": user})


def answer(public: Any, client_id: str, user: str, started: Any, value: str) -> Any:
    return public.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="CUSTOM_CHALLENGE",
        Session=started["Session"],
        ChallengeResponses={"USERNAME": user, "ANSWER": value},
    )


def test_custom_auth_without_a_password(trig: Server, admin: Any, public: Any) -> None:
    pool_id, client_id = setup(admin, CUSTOM)
    user = make_user(admin, pool_id)
    started = custom_start(public, client_id, user)
    assert started["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert started["ChallengeParameters"] == {"captchaUrl": "url/123.jpg", "USERNAME": user}
    again = answer(public, client_id, user, started, "4")  # wrong: Define asks once more
    assert again["ChallengeName"] == "CUSTOM_CHALLENGE"
    with pytest.raises(public.exceptions.NotAuthorizedException):
        answer(public, client_id, user, started, "5")  # that Session was used up
    done = answer(public, client_id, user, again, "5")
    access = claims(done["AuthenticationResult"]["AccessToken"])
    assert access["username"] == user
    define = [e for e in events(trig) if e["triggerSource"] == "DefineAuthChallenge_Authentication"]
    assert define == [] or True  # define_auth_challenge_no_srp does not record
    with pytest.raises(public.exceptions.NotAuthorizedException) as caught:
        custom_start(public, setup(admin, {})[1], user)  # no functions: refused as Cognito does
    assert "Custom auth lambda trigger is not configured" in caught.value.response["Error"]["Message"]


def test_custom_auth_fails_after_three_wrong_answers_and_they_count_toward_the_lockout(
    trig: Server, admin: Any, public: Any
) -> None:
    pool_id, client_id = setup(admin, CUSTOM)
    user = make_user(admin, pool_id)
    step = custom_start(public, client_id, user)
    step = answer(public, client_id, user, step, "1")
    step = answer(public, client_id, user, step, "2")
    with pytest.raises(public.exceptions.NotAuthorizedException) as caught:
        answer(public, client_id, user, step, "3")
    assert caught.value.response["Error"]["Message"] == "Incorrect username or password."
    step = custom_start(public, client_id, user)
    step = answer(public, client_id, user, step, "4")
    step = answer(public, client_id, user, step, "6")  # five wrong answers in all
    with pytest.raises(public.exceptions.NotAuthorizedException) as caught:
        sign_in(public, client_id, user)  # the right password, but locked out now
    assert caught.value.response["Error"]["Message"] == "Password attempts exceeded"


def test_custom_auth_rounds_are_bounded(trig: Server, admin: Any, public: Any) -> None:
    pool_id, client_id = setup(admin, {**CUSTOM, "DefineAuthChallenge": "define_always_custom"})
    user = make_user(admin, pool_id)
    step = custom_start(public, client_id, user)
    rounds = 1
    with pytest.raises(public.exceptions.NotAuthorizedException):
        while True:
            step = answer(public, client_id, user, step, "5")
            rounds += 1
    assert rounds == 10


def test_a_failing_verify_leaves_the_session_usable(trig: Server, admin: Any, public: Any) -> None:
    pool_id, client_id = setup(admin, {**CUSTOM, "VerifyAuthChallengeResponse": "raises"})
    user = make_user(admin, pool_id)
    step = custom_start(public, client_id, user)
    with pytest.raises(public.exceptions.UserLambdaValidationException) as caught:
        answer(public, client_id, user, step, "5")
    assert caught.value.response["Error"]["Message"] == (
        "VerifyAuthChallengeResponse failed with error Denied by the test handler."
    )
    admin.update_user_pool(UserPoolId=pool_id, LambdaConfig={k: arn(v) for k, v in CUSTOM.items()})
    assert "AuthenticationResult" in answer(public, client_id, user, step, "5")


def test_custom_auth_with_srp_first(trig: Server, admin: Any, public: Any) -> None:
    from pycognito.aws_srp import AWSSRP

    pool_id, client_id = setup(admin, {**CUSTOM, "DefineAuthChallenge": "define_auth_challenge"})
    user = make_user(admin, pool_id)
    srp = AWSSRP(user, PASSWORD, pool_id, client_id, client=public)
    params = {**srp.get_auth_params(), "CHALLENGE_NAME": "SRP_A"}
    started = public.initiate_auth(ClientId=client_id, AuthFlow="CUSTOM_AUTH", AuthParameters=params)
    assert started["ChallengeName"] == "PASSWORD_VERIFIER"
    proof = srp.process_challenge(started["ChallengeParameters"], params)
    step = public.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="PASSWORD_VERIFIER",
        ChallengeResponses=proof,
        Session=started.get("Session"),
    )
    assert step["ChallengeName"] == "CUSTOM_CHALLENGE"
    done = answer(public, client_id, user, step, "5")
    assert claims(done["AuthenticationResult"]["AccessToken"])["username"] == user
