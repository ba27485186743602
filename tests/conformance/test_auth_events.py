"""AdminListUserAuthEvents and AdminUpdateAuthEventFeedback through boto3 against a real server:
Cognito's shapes (botocore parses every field, CreationDate as a datetime), its paginator,
its errors. Cognito answers only with threat protection on; Cognate always answers."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conformance.test_signin import make_client, make_user, sign_in


def listed(idp: Any, pool_id: str, name: str) -> list[dict[str, Any]]:
    """The user's events once the server has written them (a task of their own, after the answer)."""
    for _ in range(100):
        found: list[dict[str, Any]] = idp.admin_list_user_auth_events(UserPoolId=pool_id, Username=name)[
            "AuthEvents"
        ]
        if found:
            return found
        time.sleep(0.02)
    return []


def test_sign_in_events_through_boto3(idp: Any, public_idp: Any, pool: dict[str, Any]) -> None:
    client = make_client(idp, pool["Id"])
    name = make_user(idp, pool["Id"])
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    sign_in(public_idp, client["ClientId"], name)
    with pytest.raises(ClientError):
        sign_in(public_idp, client["ClientId"], name, "Wrong-passw0rd")
    events: list[dict[str, Any]] = []
    for _ in range(100):  # both written
        events = idp.admin_list_user_auth_events(UserPoolId=pool["Id"], Username=name)["AuthEvents"]
        if len(events) == 2:
            break
        time.sleep(0.02)
    failed, passed = events
    assert failed["EventType"] == "SignIn" and failed["EventResponse"] == "Fail"
    assert failed["ChallengeResponses"] == [{"ChallengeName": "Password", "ChallengeResponse": "Failure"}]
    assert passed["EventResponse"] == "Pass"
    assert isinstance(passed["CreationDate"], dt.datetime) and passed["CreationDate"] >= before
    assert passed["EventContextData"]["IpAddress"] == "127.0.0.1"
    assert (
        "Boto3" in passed["EventContextData"]["DeviceName"]
        or "botocore" in passed["EventContextData"]["DeviceName"]
    )
    assert passed["EventRisk"] == {"RiskDecision": "NoRisk", "CompromisedCredentialsDetected": False}

    pages = idp.get_paginator("admin_list_user_auth_events").paginate(
        UserPoolId=pool["Id"], Username=name, PaginationConfig={"PageSize": 1}
    )
    assert [e["EventId"] for page in pages for e in page["AuthEvents"]] == [
        failed["EventId"],
        passed["EventId"],
    ]

    idp.admin_update_auth_event_feedback(
        UserPoolId=pool["Id"], Username=name, EventId=failed["EventId"], FeedbackValue="Valid"
    )
    marked = listed(idp, pool["Id"], name)[0]
    assert marked["EventFeedback"]["FeedbackValue"] == "Valid"
    assert marked["EventFeedback"]["Provider"] == "Admin"
    assert isinstance(marked["EventFeedback"]["FeedbackDate"], dt.datetime)


def test_errors_through_boto3(idp: Any, pool: dict[str, Any]) -> None:
    with pytest.raises(idp.exceptions.UserNotFoundException):
        idp.admin_list_user_auth_events(UserPoolId=pool["Id"], Username="nobody")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.admin_list_user_auth_events(UserPoolId="us-east-1_nothere12", Username="nobody")
    name = make_user(idp, pool["Id"])
    assert idp.admin_list_user_auth_events(UserPoolId=pool["Id"], Username=name)["AuthEvents"] == []
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.admin_update_auth_event_feedback(
            UserPoolId=pool["Id"], Username=name, EventId="no-such-event", FeedbackValue="Invalid"
        )
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.admin_list_user_auth_events(UserPoolId=pool["Id"], Username=name, NextToken="bm90LWEtdG9rZW4=")
