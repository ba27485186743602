"""Triggers on sign-up, confirmation, messages and password resets, over a real socket.

Real handlers (tests/support/trigger_handlers.py, written as AWS's documentation shows
them) run in the server's worker processes or behind an HTTP server the test starts.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.test_signin import PASSWORD, make_client, sign_in
from tests.conformance.trigger_server import arn, events, trigger_server
from tests.support.http_handlers import http_handlers
from tests.support.server import Server

FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


@pytest.fixture(scope="module")
def http() -> Iterator[Any]:
    with http_handlers() as server:
        yield server


@pytest.fixture(scope="module")
def trig(tmp_path_factory: pytest.TempPathFactory, http: Any) -> Iterator[Server]:
    with trigger_server(tmp_path_factory.mktemp("trig"), http.url) as server:
        yield server


@pytest.fixture(scope="module")
def admin(trig: Server) -> Any:
    return trig.boto()


@pytest.fixture(scope="module")
def public(trig: Server) -> Any:
    return trig.boto(signed=False)


def name() -> str:
    return f"u{uuid.uuid4().hex[:10]}"


def make_pool(admin: Any, **lambdas: str) -> tuple[str, str]:
    pool = admin.create_user_pool(
        PoolName=name(),
        AutoVerifiedAttributes=["email"],
        LambdaConfig={trigger: arn(fn) for trigger, fn in lambdas.items()},
    )["UserPool"]
    client = make_client(admin, pool["Id"], ExplicitAuthFlows=FLOWS)
    return pool["Id"], client["ClientId"]


def sign_up(public: Any, client_id: str, username: str, email: str = "sam@example.com", **kw: Any) -> Any:
    return public.sign_up(
        ClientId=client_id,
        Username=username,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": email}],
        **kw,
    )


def messages(server: Server, username: str) -> list[dict[str, Any]]:
    return [m for m in server.outbox() if m["username"] == username]


def user_exists(admin: Any, pool_id: str, username: str) -> bool:
    try:
        admin.admin_get_user(UserPoolId=pool_id, Username=username)
    except admin.exceptions.UserNotFoundException:
        return False
    return True


# --- configuration ----------------------------------------------------------------------


def test_a_pool_may_only_name_functions_the_file_defines(admin: Any) -> None:
    with pytest.raises(admin.exceptions.InvalidParameterException) as caught:
        admin.create_user_pool(PoolName=name(), LambdaConfig={"PreSignUp": arn("not-in-the-file")})
    assert "not-in-the-file" in caught.value.response["Error"]["Message"]
    pool_id, _ = make_pool(admin)
    with pytest.raises(admin.exceptions.InvalidParameterException):
        admin.update_user_pool(UserPoolId=pool_id, LambdaConfig={"PostConfirmation": arn("nope")})
    admin.update_user_pool(
        UserPoolId=pool_id,
        LambdaConfig={
            "PreTokenGenerationConfig": {"LambdaArn": arn("pre_token_v2"), "LambdaVersion": "V2_0"}
        },
    )
    config = admin.describe_user_pool(UserPoolId=pool_id)["UserPool"]["LambdaConfig"]
    assert config["PreTokenGeneration"] == arn("pre_token_v2")  # Cognito fills both
    assert config["PreTokenGenerationConfig"] == {"LambdaArn": arn("pre_token_v2"), "LambdaVersion": "V2_0"}


# --- PreSignUp ------------------------------------------------------------------------------


def test_pre_sign_up_auto_confirms_and_verifies(trig: Server, admin: Any, public: Any) -> None:
    pool_id, client_id = make_pool(admin, PreSignUp="pre_signup_auto_confirm")
    user = name()
    out = sign_up(public, client_id, user)
    assert out["UserConfirmed"] is True
    assert "CodeDeliveryDetails" not in out and messages(trig, user) == []
    got = admin.admin_get_user(UserPoolId=pool_id, Username=user)
    assert got["UserStatus"] == "CONFIRMED"
    assert {"Name": "email_verified", "Value": "true"} in got["UserAttributes"]
    assert "AuthenticationResult" in sign_in(public, client_id, user)


def test_pre_sign_up_event_carries_cognitos_shape(trig: Server, admin: Any, public: Any) -> None:
    pool_id, client_id = make_pool(admin, PreSignUp="recorder")
    user = name()
    sign_up(
        public,
        client_id,
        user,
        ValidationData=[{"Name": "captcha", "Value": "ok"}],
        ClientMetadata={"source": "web"},
    )
    (event,) = [e for e in events(trig, "PreSignUp_SignUp") if e["userName"] == user]
    assert event["version"] == "1"
    assert event["region"] == "us-east-1" and event["userPoolId"] == pool_id
    assert event["callerContext"]["clientId"] == client_id
    assert event["callerContext"]["awsSdkVersion"]
    assert event["request"]["userAttributes"] == {"email": "sam@example.com"}
    assert event["request"]["validationData"] == {"captcha": "ok"}
    assert event["request"]["clientMetadata"] == {"source": "web"}
    assert event["response"] == {}
    admin_user = name()
    admin.admin_create_user(
        UserPoolId=pool_id,
        Username=admin_user,
        UserAttributes=[{"Name": "email", "Value": "a@example.com"}],
        MessageAction="SUPPRESS",
    )
    (event,) = [e for e in events(trig, "PreSignUp_AdminCreateUser") if e["userName"] == admin_user]
    assert event["callerContext"]["clientId"] == "CLIENT_ID_NOT_APPLICABLE"


def test_pre_sign_up_denial_stores_nothing(trig: Server, admin: Any, public: Any) -> None:
    pool_id, client_id = make_pool(admin, PreSignUp="pre_signup_deny_domain")
    user = name()
    with pytest.raises(public.exceptions.UserLambdaValidationException) as caught:
        sign_up(public, client_id, user, email="eve@example.org")
    assert caught.value.response["Error"]["Message"] == (
        "PreSignUp failed with error Cannot register users with example.org domain."
    )
    assert not user_exists(admin, pool_id, user)
    with pytest.raises(admin.exceptions.UserLambdaValidationException):
        admin.admin_create_user(
            UserPoolId=pool_id,
            Username=user,
            UserAttributes=[{"Name": "email", "Value": "e@example.org"}],
            DesiredDeliveryMediums=["EMAIL"],
        )
    assert not user_exists(admin, pool_id, user)
    assert sign_up(public, client_id, user, email="eve@example.com")["UserConfirmed"] is False


@pytest.mark.parametrize(
    ("function", "error", "message"),
    [
        ("sleeps", "UnexpectedLambdaException", "PreSignUp invocation failed due to error Socket timeout"),
        ("crashes", "UserLambdaValidationException", "Runtime exited with error: exit status 3."),
        ("bad_answer", "InvalidLambdaResponseException", "Unrecognizable lambda output"),
        ("bad_shape", "InvalidLambdaResponseException", "autoConfirmUser must be a boolean"),
        ("http-raises", "UserLambdaValidationException", "PreSignUp failed with error Denied by the test"),
        ("http-slow", "UnexpectedLambdaException", "Socket timeout while invoking Lambda function."),
        ("http-garbage", "InvalidLambdaResponseException", "Unrecognizable lambda output"),
    ],
)
def test_each_failure_of_a_function_stores_nothing(
    trig: Server, admin: Any, public: Any, function: str, error: str, message: str
) -> None:
    pool_id, client_id = make_pool(admin, PreSignUp=function)
    user = name()
    with pytest.raises(public.exceptions.ClientError) as caught:
        sign_up(public, client_id, user)
    assert caught.value.response["Error"]["Code"] == error
    assert message in caught.value.response["Error"]["Message"]
    assert not user_exists(admin, pool_id, user)
    admin.update_user_pool(UserPoolId=pool_id, AutoVerifiedAttributes=["email"])  # no trigger now
    assert sign_up(public, client_id, user)["UserConfirmed"] is False  # the server carries on


def test_an_http_handler_runs_as_a_python_one(trig: Server, admin: Any, public: Any, http: Any) -> None:
    _pool_id, client_id = make_pool(admin, PreSignUp="http-pre_signup_auto_confirm")
    user = name()
    assert sign_up(public, client_id, user)["UserConfirmed"] is True
    (call,) = [c for c in http.calls if c["event"]["userName"] == user]
    assert call["event"]["triggerSource"] == "PreSignUp_SignUp"


# --- PostConfirmation ------------------------------------------------------------------------


def code_for(server: Server, user: str, kind: str = "verification") -> str:
    found = [m for m in messages(server, user) if m["kind"] == kind]
    assert found, f"no {kind} message for {user}"
    return str(found[-1]["code"])


def test_post_confirmation_after_confirm_sign_up(trig: Server, admin: Any, public: Any) -> None:
    _pool_id, client_id = make_pool(admin, PostConfirmation="post_confirmation")
    user = name()
    sign_up(public, client_id, user, ClientMetadata={"step": "signup"})
    public.confirm_sign_up(
        ClientId=client_id, Username=user, ConfirmationCode=code_for(trig, user), ClientMetadata={"k": "v"}
    )
    (event,) = [e for e in events(trig, "PostConfirmation_ConfirmSignUp") if e["userName"] == user]
    assert event["request"]["userAttributes"]["cognito:user_status"] == "CONFIRMED"
    assert event["request"]["userAttributes"]["email_verified"] == "true"
    assert event["request"]["clientMetadata"] == {"k": "v"}


def test_a_failing_post_confirmation_leaves_the_user_unconfirmed_and_the_code_good(
    trig: Server, admin: Any, public: Any
) -> None:
    pool_id, client_id = make_pool(admin, PostConfirmation="raises")
    user = name()
    sign_up(public, client_id, user)
    code = code_for(trig, user)
    with pytest.raises(public.exceptions.UserLambdaValidationException) as caught:
        public.confirm_sign_up(ClientId=client_id, Username=user, ConfirmationCode=code)
    assert caught.value.response["Error"]["Message"] == (
        "PostConfirmation failed with error Denied by the test handler."
    )
    assert admin.admin_get_user(UserPoolId=pool_id, Username=user)["UserStatus"] == "UNCONFIRMED"
    admin.update_user_pool(UserPoolId=pool_id, AutoVerifiedAttributes=["email"])
    public.confirm_sign_up(ClientId=client_id, Username=user, ConfirmationCode=code)
    assert admin.admin_get_user(UserPoolId=pool_id, Username=user)["UserStatus"] == "CONFIRMED"


def test_post_confirmation_after_confirm_forgot_password(trig: Server, admin: Any, public: Any) -> None:
    _pool_id, client_id = make_pool(admin, PreSignUp="pre_signup_auto_confirm", PostConfirmation="recorder")
    user = name()
    sign_up(public, client_id, user)
    public.forgot_password(ClientId=client_id, Username=user)
    code = code_for(trig, user, "reset")
    public.confirm_forgot_password(
        ClientId=client_id, Username=user, ConfirmationCode=code, Password="N3w-Passw0rd!"
    )
    (event,) = [e for e in events(trig, "PostConfirmation_ConfirmForgotPassword") if e["userName"] == user]
    assert event["callerContext"]["clientId"] == client_id
    assert "AuthenticationResult" in sign_in(public, client_id, user, "N3w-Passw0rd!")


# --- CustomMessage ------------------------------------------------------------------------------


def test_custom_message_for_every_code_source(trig: Server, admin: Any, public: Any) -> None:
    pool_id, client_id = make_pool(admin, CustomMessage="custom_message")
    user = name()
    sign_up(public, client_id, user)
    public.resend_confirmation_code(ClientId=client_id, Username=user)
    public.confirm_sign_up(ClientId=client_id, Username=user, ConfirmationCode=code_for(trig, user))
    public.forgot_password(ClientId=client_id, Username=user)
    token = sign_in(public, client_id, user)["AuthenticationResult"]["AccessToken"]
    public.update_user_attributes(
        AccessToken=token, UserAttributes=[{"Name": "email", "Value": "new@example.com"}]
    )
    public.get_user_attribute_verification_code(AccessToken=token, AttributeName="email")
    invited = name()
    admin.admin_create_user(
        UserPoolId=pool_id,
        Username=invited,
        UserAttributes=[{"Name": "email", "Value": "i@example.com"}],
        DesiredDeliveryMediums=["EMAIL"],
    )
    sent = [(m["subject"], m["body"], m["code"]) for m in messages(trig, user) + messages(trig, invited)]
    sources = [
        "SignUp",
        "ResendCode",
        "ForgotPassword",
        "UpdateUserAttribute",
        "VerifyUserAttribute",
        "AdminCreateUser",
    ]
    for source, (subject, body, code) in zip(sources, sent, strict=True):
        assert subject == f"Welcome (CustomMessage_{source})"
        assert body.startswith(f"[CustomMessage_{source}] Hello ") and body.endswith(f"your code is {code}")


def test_a_failing_custom_message_undoes_the_sign_up(trig: Server, admin: Any, public: Any) -> None:
    pool_id, client_id = make_pool(admin, CustomMessage="raises")
    user = name()
    with pytest.raises(public.exceptions.UserLambdaValidationException) as caught:
        sign_up(public, client_id, user)
    assert (
        caught.value.response["Error"]["Message"]
        == "CustomMessage failed with error Denied by the test handler."
    )
    assert not user_exists(admin, pool_id, user) and messages(trig, user) == []


# --- UserMigration on ForgotPassword --------------------------------------------------------------


def test_user_migration_on_forgot_password(trig: Server, admin: Any, public: Any) -> None:
    pool_id, client_id = make_pool(admin, UserMigration="user_migration")
    out = public.forgot_password(ClientId=client_id, Username="forgetful", ClientMetadata={"app": "x"})
    assert out["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    got = admin.admin_get_user(UserPoolId=pool_id, Username="forgetful")
    assert got["UserStatus"] == "RESET_REQUIRED"
    assert {"Name": "email", "Value": "forgetful@example.com"} in got["UserAttributes"]
    assert [m["kind"] for m in messages(trig, "forgetful")] == ["reset"]  # SUPPRESS: no welcome
    public.confirm_forgot_password(
        ClientId=client_id,
        Username="forgetful",
        ConfirmationCode=code_for(trig, "forgetful", "reset"),
        Password="N3w-Passw0rd!",
    )
    assert "AuthenticationResult" in sign_in(public, client_id, "forgetful", "N3w-Passw0rd!")
    with pytest.raises(public.exceptions.UserLambdaValidationException) as caught:
        public.forgot_password(ClientId=client_id, Username="nobody-at-all")
    assert caught.value.response["Error"]["Message"] == "UserMigration failed with error User does not exist."


def test_a_seed_naming_an_undefined_function_stops_the_start(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    from tests.support.server import free_port

    (tmp_path / "functions.json").write_text(json.dumps({"present": "http://127.0.0.1:9/x"}))
    (tmp_path / "seed.json").write_text(
        json.dumps({"UserPools": [{"PoolName": "a", "LambdaConfig": {"PreSignUp": arn("missing")}}]})
    )
    files = ["--seed", str(tmp_path / "seed.json"), "--functions", str(tmp_path / "functions.json")]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cognate.cli",
            "serve",
            "--port",
            str(free_port()),
            "--data-dir",
            str(tmp_path),
            *files,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "function:missing (PreSignUp) does not exist" in proc.stderr
