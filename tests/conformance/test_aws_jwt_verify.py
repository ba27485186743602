"""Cognate's tokens verified by AWS's own aws-jwt-verify (node): ``JwtVerifier`` with our
issuer and JWKS URI, and ``CognitoJwtVerifier`` with ``--issuer-style aws`` and the JWKS
loaded from Cognate (issue 3)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conformance.test_signin import make_client, make_user, sign_in
from tests.support.server import Server, running_server, self_signed_cert

JS = Path(__file__).resolve().parents[1] / "js"
pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    pytest.mark.skipif(
        not (JS / "node_modules" / "aws-jwt-verify").exists(),
        reason="aws-jwt-verify is not installed (run `npm install` in tests/js; .ci/run does)",
    ),
]


def run_verifier(payload: dict[str, Any], ca_file: str | None = None) -> dict[str, Any]:
    env = {**os.environ, **({"NODE_EXTRA_CA_CERTS": ca_file} if ca_file else {})}
    proc = subprocess.run(
        ["node", str(JS / "verify_tokens.mjs")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=JS,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def tokens_for(server: Server) -> dict[str, Any]:
    idp = server.boto()
    pool = idp.create_user_pool(PoolName="jwtverify")["UserPool"]
    client = make_client(idp, pool["Id"])
    name = make_user(idp, pool["Id"])
    result = sign_in(server.boto(signed=False), client["ClientId"], name)["AuthenticationResult"]
    return {"pool_id": pool["Id"], "client_id": client["ClientId"], "result": result, "username": name}


@pytest.fixture(scope="module")
def tls_server() -> Iterator[Server]:
    """aws-jwt-verify fetches JWKS over HTTPS only: serve with --tls-cert/--tls-key."""
    cert, key = self_signed_cert(Path(tempfile.mkdtemp(prefix="cognate-tls-")))
    with running_server("--tls-cert", cert, "--tls-key", key, ca_file=cert) as srv:
        yield srv


def test_jwt_verifier_with_local_issuer(tls_server: Server) -> None:
    server = tls_server
    t = tokens_for(server)
    assert server.url.startswith("https://")
    out = run_verifier(
        {
            "mode": "generic",
            "issuer": f"{server.url}/{t['pool_id']}",
            "jwksUri": f"{server.url}/{t['pool_id']}/.well-known/jwks.json",
            "clientId": t["client_id"],
            "idToken": t["result"]["IdToken"],
            "accessToken": t["result"]["AccessToken"],
        },
        ca_file=server.ca_file,
    )
    assert out["id"]["ok"], out
    assert out["id"]["payload"]["cognito:username"] == t["username"]
    assert out["id"]["payload"]["iss"] == f"https://127.0.0.1:{server.port}/{t['pool_id']}"
    assert out["access"]["ok"], out
    assert not out["tampered"]["ok"]
    assert not out["idAsAccess"]["ok"]


@pytest.fixture(scope="module")
def aws_style() -> Iterator[Server]:
    with running_server("--issuer-style", "aws") as srv:
        yield srv


def test_cognito_jwt_verifier_with_aws_issuer(aws_style: Server) -> None:
    t = tokens_for(aws_style)
    jwks = httpx.get(f"{aws_style.url}/{t['pool_id']}/.well-known/jwks.json").json()
    out = run_verifier(
        {
            "mode": "cognito",
            "userPoolId": t["pool_id"],
            "jwks": jwks,
            "clientId": t["client_id"],
            "idToken": t["result"]["IdToken"],
            "accessToken": t["result"]["AccessToken"],
        }
    )
    assert out["id"]["ok"], out
    assert out["id"]["payload"]["iss"] == f"https://cognito-idp.us-east-1.amazonaws.com/{t['pool_id']}"
    assert out["access"]["ok"], out
    assert not out["tampered"]["ok"]
    assert not out["idAsAccess"]["ok"]
    # discovery still lives on Cognate, and names the AWS issuer
    doc = httpx.get(f"{aws_style.url}/{t['pool_id']}/.well-known/openid-configuration").json()
    assert doc["issuer"] == f"https://cognito-idp.us-east-1.amazonaws.com/{t['pool_id']}"
    assert doc["jwks_uri"] == f"{aws_style.url}/{t['pool_id']}/.well-known/jwks.json"
    # and the server itself accepts its aws-style access tokens
    me = aws_style.boto(signed=False).get_user(AccessToken=t["result"]["AccessToken"])
    assert me["Username"] == t["username"]
