"""Lambda handlers for the trigger tests, written as AWS's documentation shows them.

Each is the developer guide's Python example for its trigger (or the smallest change
of one a test needs), unchanged in shape: ``handler(event, context)`` that returns the
event. The functions file of the tests maps function names to ``python:`` paths here.
"""

from __future__ import annotations

import os
import time
from typing import Any

# --- the developer guide's examples ------------------------------------------------------


def pre_signup_auto_confirm(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """ "Pre sign-up Lambda trigger", example: auto-confirm users of one domain."""
    # Confirm the user
    event["response"]["autoConfirmUser"] = True
    # Set the email as verified if it is in the request
    if "email" in event["request"]["userAttributes"]:
        event["response"]["autoVerifyEmail"] = True
    # Set the phone number as verified if it is in the request
    if "phone_number" in event["request"]["userAttributes"]:
        event["response"]["autoVerifyPhone"] = True
    return event


def pre_signup_deny_domain(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Refuses sign-ups from example.org (the guide's "deny" shape: raise an exception)."""
    email = event["request"]["userAttributes"].get("email", "")
    if email.endswith("@example.org"):
        raise Exception("Cannot register users with example.org domain")
    return event


def post_confirmation(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """ "Post confirmation Lambda trigger": records the confirmation (here: a file)."""
    record(event, context)
    return event


def pre_authentication(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """ "Pre authentication Lambda trigger", example: deny a listed app client... or user."""
    if event["userName"] == "blocked":
        raise Exception("This user is blocked")
    record(event, context)
    return event


def post_authentication(event: dict[str, Any], context: Any) -> dict[str, Any]:
    record(event, context)
    return event


def pre_token_v1(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """ "Pre token generation Lambda trigger", version 1 example."""
    event["response"] = {
        "claimsOverrideDetails": {
            "claimsToAddOrOverride": {"my_first_attribute": "first_value", "family_name": "override"},
            "claimsToSuppress": ["email"],
            "groupOverrideDetails": {
                "groupsToOverride": ["group-A", "group-B"],
                "iamRolesToOverride": ["arn:aws:iam::123456789012:role/sns_callerA"],
                "preferredRole": "arn:aws:iam::123456789012:role/sns_callerA",
            },
        }
    }
    return event


def pre_token_v2(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """ "Pre token generation Lambda trigger", version 2 example (claims and scopes)."""
    event["response"] = {
        "claimsAndScopeOverrideDetails": {
            "idTokenGeneration": {
                "claimsToAddOrOverride": {"family_name": "Doe", "sub": "forged"},
                "claimsToSuppress": ["email"],
            },
            "accessTokenGeneration": {
                "claimsToAddOrOverride": {"my_first_attribute": "first_value", "tenant": {"id": 7}},
                "claimsToSuppress": ["username"],
                "scopesToAdd": ["openid", "email", "solar-system-data/asteroids.add"],
                "scopesToSuppress": ["aws.cognito.signin.user.admin"],
            },
            "groupOverrideDetails": {"groupsToOverride": ["group-A"]},
        }
    }
    return event


def pre_token_echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Returns its event unchanged (the bench's handler)."""
    return event


def user_migration(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """ "Migrate user Lambda trigger", example, over a dict standing for the old user store."""
    if event["triggerSource"] == "UserMigration_Authentication":
        # authenticate the user with your existing user directory service
        user = authenticate_user(event["userName"], event["request"]["password"])
        if user:
            event["response"]["userAttributes"] = {
                "email": user["emailAddress"],
                "email_verified": "true",
            }
            event["response"]["finalUserStatus"] = "CONFIRMED"
            event["response"]["messageAction"] = "SUPPRESS"
            return event
        raise Exception("Bad password")
    if event["triggerSource"] == "UserMigration_ForgotPassword":
        # Lookup the user in your existing user directory service
        user = lookup_user(event["userName"])
        if user:
            event["response"]["userAttributes"] = {
                "email": user["emailAddress"],
                # required to enable password-reset code to be sent to user
                "email_verified": "true",
            }
            event["response"]["messageAction"] = "SUPPRESS"
            return event
        raise Exception("User does not exist")
    raise Exception("Bad triggerSource " + event["triggerSource"])


OLD_USERS = {
    "legacy": {"password": "OldPassw0rd!", "emailAddress": "legacy@example.com"},
    "forgetful": {"password": "Unknown9!", "emailAddress": "forgetful@example.com"},
}


def authenticate_user(username: str, password: str) -> dict[str, str] | None:
    user = OLD_USERS.get(username)
    return user if user and user["password"] == password else None


def lookup_user(username: str) -> dict[str, str] | None:
    return OLD_USERS.get(username)


def custom_message(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """ "Custom message Lambda trigger", example: one message per trigger source."""
    source = event["triggerSource"]
    code = event["request"]["codeParameter"]
    event["response"]["smsMessage"] = f"[{source}] Your code is {code}"
    event["response"]["emailSubject"] = f"Welcome ({source})"
    event["response"]["emailMessage"] = f"[{source}] Hello {event['userName']}, your code is {code}"
    return event


def define_auth_challenge(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """ "Define auth challenge Lambda trigger", example: SRP, then one custom challenge."""
    session = event["request"]["session"]
    if len(session) == 1 and session[0]["challengeName"] == "SRP_A":
        event["response"]["issueTokens"] = False
        event["response"]["failAuthentication"] = False
        event["response"]["challengeName"] = "PASSWORD_VERIFIER"
    elif (
        len(session) == 2
        and session[1]["challengeName"] == "PASSWORD_VERIFIER"
        and session[1]["challengeResult"] is True
    ):
        event["response"]["issueTokens"] = False
        event["response"]["failAuthentication"] = False
        event["response"]["challengeName"] = "CUSTOM_CHALLENGE"
    elif (
        len(session) == 3
        and session[2]["challengeName"] == "CUSTOM_CHALLENGE"
        and session[2]["challengeResult"] is True
    ):
        event["response"]["issueTokens"] = True
        event["response"]["failAuthentication"] = False
    else:
        event["response"]["issueTokens"] = False
        event["response"]["failAuthentication"] = True
    return event


def define_auth_challenge_no_srp(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Custom challenges only: three tries at the answer, then fail."""
    session = event["request"]["session"]
    if session and session[-1]["challengeResult"] is True:
        event["response"]["issueTokens"] = True
        event["response"]["failAuthentication"] = False
    elif len(session) >= 3:
        event["response"]["issueTokens"] = False
        event["response"]["failAuthentication"] = True
    else:
        event["response"]["issueTokens"] = False
        event["response"]["failAuthentication"] = False
        event["response"]["challengeName"] = "CUSTOM_CHALLENGE"
    return event


def define_always_custom(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Never satisfied: asks for one more custom challenge, whatever the answers."""
    event["response"]["issueTokens"] = False
    event["response"]["failAuthentication"] = False
    event["response"]["challengeName"] = "CUSTOM_CHALLENGE"
    return event


def create_auth_challenge(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """ "Create auth challenge Lambda trigger", example: a captcha-like question."""
    if event["request"]["challengeName"] == "CUSTOM_CHALLENGE":
        event["response"]["publicChallengeParameters"] = {"captchaUrl": "url/123.jpg"}
        event["response"]["privateChallengeParameters"] = {"answer": "5"}
        event["response"]["challengeMetadata"] = "CAPTCHA_CHALLENGE"
    return event


def verify_auth_challenge(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """ "Verify auth challenge response Lambda trigger", example."""
    if event["request"]["privateChallengeParameters"]["answer"] == event["request"]["challengeAnswer"]:
        event["response"]["answerCorrect"] = True
    else:
        event["response"]["answerCorrect"] = False
    return event


def recorder(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Records the event it got and returns it unchanged."""
    record(event, context)
    return event


# --- failures -----------------------------------------------------------------------------


def raises(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise Exception("Denied by the test handler")


def sleeps(event: dict[str, Any], context: Any) -> dict[str, Any]:
    record(event, context)
    time.sleep(30)
    return event


def crashes(event: dict[str, Any], context: Any) -> dict[str, Any]:
    os._exit(3)


def bad_answer(event: dict[str, Any], context: Any) -> Any:
    return "not an event"


def bad_shape(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An event back, but with a response field of the wrong type."""
    event["response"] = {
        "autoConfirmUser": "yes",
        "answerCorrect": "yes",
        "issueTokens": "yes",
        "claimsOverrideDetails": "all",
        "claimsAndScopeOverrideDetails": "all",
        "smsMessage": 5,
        "finalUserStatus": "MAYBE",
    }
    return event


def context_report(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Reports what it got as ``context`` (as a claim: the test reads it from the token)."""
    event["response"] = {
        "claimsOverrideDetails": {
            "claimsToAddOrOverride": {
                "fn": context.function_name,
                "rid": context.aws_request_id,
                "left": str(context.get_remaining_time_in_millis()),
                "pid": str(os.getpid()),
            }
        }
    }
    return event


def naps(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Busy for a tenth of a second (so that concurrent calls need several workers)."""
    time.sleep(0.1)
    return context_report(event, context)


# --- a record of calls, for the tests (a file named by COGNATE_TEST_TRIGGER_LOG) --------


def record(event: dict[str, Any], context: Any) -> None:
    import json

    path = os.environ.get("COGNATE_TEST_TRIGGER_LOG")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"event": event, "function": context.function_name}) + "\n")
