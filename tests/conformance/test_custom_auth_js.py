"""CUSTOM_AUTH from the JavaScript clients apps use, in node: amazon-cognito-identity-js's
``sendCustomChallengeAnswer`` and Amplify JS v6 ``signIn`` with ``authFlowType``
``CUSTOM_WITH_SRP`` and ``CUSTOM_WITHOUT_SRP``, against functions written as AWS's
documentation shows them (tests/support/trigger_handlers.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.test_signin import PASSWORD, make_client, make_user
from tests.conformance.trigger_server import arn, trigger_server
from tests.support.server import Server

JS = Path(__file__).resolve().parents[1] / "js"
pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    pytest.mark.skipif(
        not (JS / "node_modules" / "aws-amplify").exists()
        or not (JS / "node_modules" / "amazon-cognito-identity-js").exists(),
        reason="aws-amplify or amazon-cognito-identity-js missing (`npm ci` in tests/js; .ci/run does)",
    ),
]
FLOWS = ["ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
CREATE_VERIFY = {
    "CreateAuthChallenge": arn("create_auth_challenge"),
    "VerifyAuthChallengeResponse": arn("verify_auth_challenge"),
}


@pytest.fixture(scope="module")
def trig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with trigger_server(tmp_path_factory.mktemp("trig")) as server:
        yield server


def setup(server: Server, define: str) -> tuple[str, str, str]:
    admin = server.boto()
    pool = admin.create_user_pool(
        PoolName=f"js{uuid.uuid4().hex[:8]}",
        LambdaConfig={"DefineAuthChallenge": arn(define), **CREATE_VERIFY},
    )["UserPool"]
    client = make_client(admin, pool["Id"], ExplicitAuthFlows=FLOWS)
    return pool["Id"], client["ClientId"], make_user(admin, pool["Id"])


def run(script: str, server: Server, **payload: Any) -> dict[str, Any]:
    proc = subprocess.run(
        ["node", str(JS / script)],
        input=json.dumps({"endpoint": server.url + "/", **payload}),
        capture_output=True,
        text=True,
        timeout=90,
        cwd=JS,
        env=dict(os.environ),
    )
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def test_identity_js_send_custom_challenge_answer_without_srp(trig: Server) -> None:
    pool_id, client_id, user = setup(trig, "define_auth_challenge_no_srp")
    common = {"userPoolId": pool_id, "clientId": client_id, "username": user}
    out = run("custom_auth.mjs", trig, answers=["4", "5"], **common)
    assert out["ok"], out
    assert out["challenges"] == [{"captchaUrl": "url/123.jpg", "USERNAME": user}] * 2
    assert trig.boto(signed=False).get_user(AccessToken=out["accessToken"])["Username"] == user
    failed = run("custom_auth.mjs", trig, answers=["1", "2", "3"], **common)
    assert failed["ok"] is False and failed["code"] == "NotAuthorizedException"


def test_identity_js_custom_auth_with_srp_first(trig: Server) -> None:
    pool_id, client_id, user = setup(trig, "define_auth_challenge")
    common = {"userPoolId": pool_id, "clientId": client_id, "username": user}
    out = run("custom_auth.mjs", trig, password=PASSWORD, answers=["5"], **common)
    assert out["ok"], out
    wrong = run("custom_auth.mjs", trig, password="Wr0ng-password!", answers=["5"], **common)
    assert wrong["ok"] is False and wrong["code"] == "NotAuthorizedException"


@pytest.mark.parametrize(
    ("flow", "define", "password"),
    [
        ("CUSTOM_WITH_SRP", "define_auth_challenge", PASSWORD),
        ("CUSTOM_WITHOUT_SRP", "define_auth_challenge_no_srp", None),
    ],
)
def test_amplify_v6_sign_in_with_a_custom_challenge(
    trig: Server, flow: str, define: str, password: str | None
) -> None:
    pool_id, client_id, user = setup(trig, define)
    out = run(
        "amplify_custom_auth.mjs",
        trig,
        userPoolId=pool_id,
        clientId=client_id,
        username=user,
        password=password,
        authFlowType=flow,
        answers=["5"],
    )
    assert out["ok"], out
    assert out["steps"][0]["signInStep"] == "CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE"
    assert out["steps"][0]["additionalInfo"] == {"captchaUrl": "url/123.jpg", "USERNAME": user}
    assert out["username"] == user
    assert trig.boto(signed=False).get_user(AccessToken=out["accessToken"])["Username"] == user
