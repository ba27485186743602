"""pycognito against Cognate: admin sign-in, token verification against the pool's JWKS,
refresh, user read.

pycognito derives the issuer it expects from ``endpoint_url`` when it is given one, which
is Cognate's default (local) issuer. An app that reaches Cognate through botocore's
``AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`` instead expects Cognito's own issuer string: that is
``--issuer-style aws``, with the JWKS handed over through ``COGNITO_JWKS`` (issue 3)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pycognito import Cognito
from pycognito.exceptions import TokenVerificationException

from tests.conformance.test_signin import PASSWORD, make_client, make_user
from tests.support.server import Server, running_server


def _setup(server: Server) -> tuple[str, str, str]:
    idp = server.boto()
    pool = idp.create_user_pool(PoolName="pycognito")["UserPool"]
    client = make_client(idp, pool["Id"])
    name = make_user(idp, pool["Id"], UserAttributes=[{"Name": "email", "Value": "py@example.com"}])
    return pool["Id"], client["ClientId"], name


def _cognito(
    server: Server, pool_id: str, client_id: str, username: str, *, endpoint: bool = True
) -> Cognito:
    creds = server.credentials
    kwargs: dict[str, Any] = {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
    }
    if endpoint:
        kwargs["endpoint_url"] = server.url
    return Cognito(
        pool_id, client_id, username=username, user_pool_region="us-east-1", boto3_client_kwargs=kwargs
    )


def test_pycognito_with_local_issuer(server: Server) -> None:
    pool_id, client_id, name = _setup(server)
    u = _cognito(server, pool_id, client_id, name)
    u.admin_authenticate(password=PASSWORD)
    assert u.id_token and u.access_token and u.refresh_token
    u.verify_tokens()  # signature against the served JWKS, issuer, audience, token_use
    assert u.id_claims["cognito:username"] == name
    old = u.access_token
    u.renew_access_token()  # REFRESH_TOKEN_AUTH
    assert u.access_token != old
    u.verify_tokens()
    user = u.get_user()
    assert user.email == "py@example.com"


@pytest.fixture(scope="module")
def aws_style() -> Iterator[Server]:
    with running_server("--issuer-style", "aws") as srv:
        yield srv


def test_pycognito_with_aws_issuer(aws_style: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    pool_id, client_id, name = _setup(aws_style)
    jwks = httpx.get(f"{aws_style.url}/{pool_id}/.well-known/jwks.json").json()
    monkeypatch.setenv("COGNITO_JWKS", json.dumps(jwks))  # how such an app loads Cognate's keys
    monkeypatch.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", aws_style.url)
    u = _cognito(aws_style, pool_id, client_id, name, endpoint=False)
    u.admin_authenticate(password=PASSWORD)
    u.verify_tokens()
    assert u.id_claims["iss"] == f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}"
    assert u.access_claims["client_id"] == client_id
    u.id_token = u.id_token[:-6] + "AAAAAA"  # a forged signature is caught
    with pytest.raises(TokenVerificationException, match=r"(?i)signature|verif"):
        u.verify_tokens()
