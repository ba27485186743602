"""amazon-cognito-identity-js (node) signs in against Cognate by SRP, as browser apps do:
the right password gives tokens the server accepts, a wrong one Cognito's error, and a
temporary password the NEW_PASSWORD_REQUIRED round trip (issue 3; SRP per REFERENCE 5d)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.test_signin import PASSWORD, make_client, make_user
from tests.support.server import Server

JS = Path(__file__).resolve().parents[1] / "js"
pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    pytest.mark.skipif(
        not (JS / "node_modules" / "amazon-cognito-identity-js").exists(),
        reason="amazon-cognito-identity-js is not installed (run `npm install` in tests/js; .ci/run does)",
    ),
]
SRP_FLOWS = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


def sign_in(server: Server, **payload: Any) -> dict[str, Any]:
    proc = subprocess.run(
        ["node", str(JS / "srp_sign_in.mjs")],
        input=json.dumps({"endpoint": server.url + "/", **payload}),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=JS,
        env=dict(os.environ),
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_identity_js_srp_sign_in(server: Server, idp: Any, pool: dict[str, Any]) -> None:
    client = make_client(idp, pool["Id"], ExplicitAuthFlows=SRP_FLOWS)
    name = make_user(idp, pool["Id"])
    common = {"userPoolId": pool["Id"], "clientId": client["ClientId"], "username": name}
    out = sign_in(server, password=PASSWORD, **common)
    assert out["ok"], out
    assert server.boto(signed=False).get_user(AccessToken=out["accessToken"])["Username"] == name
    wrong = sign_in(server, password="Wr0ng-password!", **common)
    assert wrong == {
        "ok": False,
        "code": "NotAuthorizedException",
        "message": "Incorrect username or password.",
    }


def test_identity_js_new_password_required(server: Server, idp: Any, pool: dict[str, Any]) -> None:
    client = make_client(idp, pool["Id"], ExplicitAuthFlows=SRP_FLOWS)
    idp.admin_create_user(
        UserPoolId=pool["Id"], Username="jsnew", TemporaryPassword="Temp0rary!", MessageAction="SUPPRESS"
    )
    common = {"userPoolId": pool["Id"], "clientId": client["ClientId"], "username": "jsnew"}
    out = sign_in(server, password="Temp0rary!", newPassword="N3w-Passw0rd!", **common)
    assert out["ok"], out
    assert sign_in(server, password="N3w-Passw0rd!", **common)["ok"]
