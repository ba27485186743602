"""Tokens over a real socket: claims as Cognito puts them, verified with PyJWT against the
served JWKS; discovery; refresh, rotation, revocation and sign-out (issue 3)."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest

from tests.conformance.test_signin import PASSWORD, make_client, make_user, sign_in

ID_CLAIMS = {
    "sub",
    "iss",
    "aud",
    "token_use",
    "auth_time",
    "iat",
    "exp",
    "jti",
    "origin_jti",
    "event_id",
    "cognito:username",
}
ACCESS_CLAIMS = {
    "sub",
    "iss",
    "client_id",
    "token_use",
    "auth_time",
    "iat",
    "exp",
    "jti",
    "origin_jti",
    "event_id",
    "username",
    "scope",
}


def jwks_client(server: Any, pool_id: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(f"{server.url}/{pool_id}/.well-known/jwks.json", cache_keys=False)


def verify(server: Any, pool_id: str, token: str, **kw: Any) -> dict[str, Any]:
    key = jwks_client(server, pool_id).get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["RS256"], issuer=f"{server.url}/{pool_id}", **kw)


@pytest.fixture
def signed_in(idp: Any, public_idp: Any, pool: dict[str, Any]) -> dict[str, Any]:
    idp.create_group(UserPoolId=pool["Id"], GroupName="admins", Precedence=1)
    idp.create_group(UserPoolId=pool["Id"], GroupName="staff", Precedence=5)
    client = make_client(idp, pool["Id"])
    name = make_user(
        idp,
        pool["Id"],
        UserAttributes=[
            {"Name": "email", "Value": "dana@example.com"},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "name", "Value": "Dana"},
        ],
    )
    for group in ("staff", "admins"):
        idp.admin_add_user_to_group(UserPoolId=pool["Id"], Username=name, GroupName=group)
    result = sign_in(public_idp, client["ClientId"], name)["AuthenticationResult"]
    return {"pool": pool, "client": client, "username": name, "result": result}


def test_claims_and_signatures(server: Any, signed_in: dict[str, Any]) -> None:
    pool_id, cid = signed_in["pool"]["Id"], signed_in["client"]["ClientId"]
    result = signed_in["result"]
    id_claims = verify(server, pool_id, result["IdToken"], audience=cid)
    access = verify(server, pool_id, result["AccessToken"])
    assert ID_CLAIMS <= set(id_claims)
    assert id_claims["token_use"] == "id" and id_claims["aud"] == cid
    assert id_claims["cognito:username"] == signed_in["username"]
    assert id_claims["email"] == "dana@example.com" and id_claims["email_verified"] is True
    assert id_claims["name"] == "Dana"
    assert id_claims["cognito:groups"] == ["admins", "staff"]
    uuid.UUID(id_claims["sub"])
    uuid.UUID(id_claims["event_id"])
    assert set(access) == ACCESS_CLAIMS | {"cognito:groups"}
    assert "aud" not in access
    assert access["token_use"] == "access" and access["client_id"] == cid
    assert access["scope"] == "aws.cognito.signin.user.admin"
    assert access["username"] == signed_in["username"]
    assert access["origin_jti"] == id_claims["origin_jti"]
    assert access["exp"] - access["iat"] == 3600
    # ID and access tokens are signed by different keys, both in the JWKS
    id_kid = jwt.get_unverified_header(result["IdToken"])["kid"]
    access_kid = jwt.get_unverified_header(result["AccessToken"])["kid"]
    assert id_kid != access_kid
    keys = httpx.get(f"{server.url}/{pool_id}/.well-known/jwks.json").json()["keys"]
    assert {id_kid, access_kid} <= {k["kid"] for k in keys}
    assert all(k["alg"] == "RS256" and k["kty"] == "RSA" and "d" not in k for k in keys)


def test_token_lifetimes_follow_the_client(
    server: Any, idp: Any, public_idp: Any, pool: dict[str, Any]
) -> None:
    client = make_client(
        idp,
        pool["Id"],
        AccessTokenValidity=10,
        IdTokenValidity=2,
        RefreshTokenValidity=1,
        TokenValidityUnits={"AccessToken": "minutes", "IdToken": "hours", "RefreshToken": "days"},
    )
    name = make_user(idp, pool["Id"])
    result = sign_in(public_idp, client["ClientId"], name)["AuthenticationResult"]
    assert result["ExpiresIn"] == 600
    access = jwt.decode(result["AccessToken"], options={"verify_signature": False})
    id_claims = jwt.decode(result["IdToken"], options={"verify_signature": False})
    assert access["exp"] - access["iat"] == 600
    assert id_claims["exp"] - id_claims["iat"] == 7200


def test_read_attributes_limit_id_token(idp: Any, public_idp: Any, pool: dict[str, Any]) -> None:
    client = make_client(idp, pool["Id"], ReadAttributes=["email"])
    name = make_user(
        idp,
        pool["Id"],
        UserAttributes=[{"Name": "email", "Value": "e@example.com"}, {"Name": "name", "Value": "Hidden"}],
    )
    result = sign_in(public_idp, client["ClientId"], name)["AuthenticationResult"]
    claims = jwt.decode(result["IdToken"], options={"verify_signature": False})
    assert claims["email"] == "e@example.com"
    assert "name" not in claims


def test_refresh_token_bound_to_its_client(idp: Any, public_idp: Any, signed_in: dict[str, Any]) -> None:
    other = make_client(idp, signed_in["pool"]["Id"])
    with pytest.raises(public_idp.exceptions.NotAuthorizedException):
        public_idp.initiate_auth(
            ClientId=other["ClientId"],
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": signed_in["result"]["RefreshToken"]},
        )
    with pytest.raises(public_idp.exceptions.NotAuthorizedException):
        public_idp.initiate_auth(
            ClientId=other["ClientId"],
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": "garbage"},
        )


def test_get_tokens_from_refresh_token_without_rotation(public_idp: Any, signed_in: dict[str, Any]) -> None:
    out = public_idp.get_tokens_from_refresh_token(
        RefreshToken=signed_in["result"]["RefreshToken"], ClientId=signed_in["client"]["ClientId"]
    )["AuthenticationResult"]
    assert "AccessToken" in out and "RefreshToken" not in out


def test_rotation_grace_period_allows_a_retry(idp: Any, public_idp: Any, pool: dict[str, Any]) -> None:
    client = make_client(
        idp, pool["Id"], RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 30}
    )
    cid = client["ClientId"]
    first = sign_in(public_idp, cid, make_user(idp, pool["Id"]))["AuthenticationResult"]["RefreshToken"]
    a = public_idp.get_tokens_from_refresh_token(RefreshToken=first, ClientId=cid)["AuthenticationResult"]
    b = public_idp.get_tokens_from_refresh_token(RefreshToken=first, ClientId=cid)["AuthenticationResult"]
    assert a["RefreshToken"] != b["RefreshToken"]


def test_revoke_token_kills_refresh_and_its_access_tokens(
    idp: Any, public_idp: Any, signed_in: dict[str, Any]
) -> None:
    cid = signed_in["client"]["ClientId"]
    result = signed_in["result"]
    refreshed = public_idp.initiate_auth(
        ClientId=cid, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]}
    )["AuthenticationResult"]
    # a second, independent session of the same user
    other = sign_in(public_idp, cid, signed_in["username"])["AuthenticationResult"]
    public_idp.revoke_token(Token=result["RefreshToken"], ClientId=cid)
    for token in (result["AccessToken"], refreshed["AccessToken"]):
        with pytest.raises(public_idp.exceptions.NotAuthorizedException) as err:
            public_idp.get_user(AccessToken=token)
        assert "revoked" in str(err.value)
    with pytest.raises(public_idp.exceptions.NotAuthorizedException):
        public_idp.initiate_auth(
            ClientId=cid,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]},
        )
    assert public_idp.get_user(AccessToken=other["AccessToken"])["Username"] == signed_in["username"]
    # revoking an access token is refused; an unknown token is quietly accepted (RFC 7009)
    with pytest.raises(public_idp.exceptions.UnsupportedTokenTypeException):
        public_idp.revoke_token(Token=other["AccessToken"], ClientId=cid)
    public_idp.revoke_token(Token="not-a-token", ClientId=cid)


def test_global_sign_out(idp: Any, public_idp: Any, signed_in: dict[str, Any]) -> None:
    cid = signed_in["client"]["ClientId"]
    second = sign_in(public_idp, cid, signed_in["username"])["AuthenticationResult"]
    public_idp.global_sign_out(AccessToken=signed_in["result"]["AccessToken"])
    for result in (signed_in["result"], second):
        with pytest.raises(public_idp.exceptions.NotAuthorizedException):
            public_idp.get_user(AccessToken=result["AccessToken"])
        with pytest.raises(public_idp.exceptions.NotAuthorizedException):
            public_idp.initiate_auth(
                ClientId=cid,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]},
            )
    # A fresh sign-in a second later works again: tests/api/test_inprocess_wire.py (pinned clock).


def test_admin_user_global_sign_out(idp: Any, public_idp: Any, signed_in: dict[str, Any]) -> None:
    idp.admin_user_global_sign_out(UserPoolId=signed_in["pool"]["Id"], Username=signed_in["username"])
    with pytest.raises(public_idp.exceptions.NotAuthorizedException):
        public_idp.get_user(AccessToken=signed_in["result"]["AccessToken"])


def test_get_user_refuses_bad_tokens(server: Any, public_idp: Any, signed_in: dict[str, Any]) -> None:
    access, id_token = signed_in["result"]["AccessToken"], signed_in["result"]["IdToken"]
    head, body, sig = access.split(".")
    tampered = f"{head}.{body}.{sig[:-4]}AAAA"
    forged_alg = jwt.encode(
        jwt.decode(access, options={"verify_signature": False}), "s" * 40, algorithm="HS256"
    )
    for bad in (id_token, tampered, forged_alg, "not.a.jwt", "x" * 20000):
        with pytest.raises(public_idp.exceptions.NotAuthorizedException):
            public_idp.get_user(AccessToken=bad)


def test_discovery_document(server: Any, pool: dict[str, Any]) -> None:
    resp = httpx.get(f"{server.url}/{pool['Id']}/.well-known/openid-configuration")
    assert resp.status_code == 200
    assert resp.headers["access-control-allow-origin"] == "*"
    assert "max-age" in resp.headers["cache-control"]
    doc = resp.json()
    assert doc["issuer"] == f"{server.url}/{pool['Id']}"
    assert doc["jwks_uri"] == f"{server.url}/{pool['Id']}/.well-known/jwks.json"
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    jwks = httpx.get(doc["jwks_uri"])
    assert jwks.status_code == 200 and "max-age" in jwks.headers["cache-control"]
    assert httpx.get(f"{server.url}/us-east-1_NoSuchPoo/.well-known/jwks.json").status_code == 404


def test_key_rotation_keeps_old_tokens_valid(
    server: Any, idp: Any, public_idp: Any, pool: dict[str, Any]
) -> None:
    client = make_client(idp, pool["Id"])
    name = make_user(idp, pool["Id"])
    before = sign_in(public_idp, client["ClientId"], name)["AuthenticationResult"]
    old_kid = jwt.get_unverified_header(before["AccessToken"])["kid"]
    old_etag = httpx.get(f"{server.url}/{pool['Id']}/.well-known/jwks.json").headers["etag"]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cognate.cli",
            "keys",
            "rotate",
            pool["Id"],
            "--data-dir",
            str(server.data_dir),
        ],
        capture_output=True,
        text=True,
        env=server.env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    time.sleep(5.5)  # the server's key cache lifetime
    after = sign_in(public_idp, client["ClientId"], name)["AuthenticationResult"]
    new_kid = jwt.get_unverified_header(after["AccessToken"])["kid"]
    assert new_kid != old_kid
    jwks = httpx.get(f"{server.url}/{pool['Id']}/.well-known/jwks.json")
    assert {old_kid, new_kid} <= {k["kid"] for k in jwks.json()["keys"]}
    assert jwks.headers["etag"] != old_etag  # a new key set is a new document
    stale = {"If-None-Match": old_etag}
    assert httpx.get(f"{server.url}/{pool['Id']}/.well-known/jwks.json", headers=stale).status_code == 200
    assert public_idp.get_user(AccessToken=before["AccessToken"])["Username"] == name
    verify(server, pool["Id"], before["IdToken"], audience=client["ClientId"])
    verify(server, pool["Id"], after["IdToken"], audience=client["ClientId"])


def test_keys_rotate_unknown_pool(server: Any) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cognate.cli",
            "keys",
            "rotate",
            "us-east-1_Missing00",
            "--data-dir",
            str(server.data_dir),
        ],
        capture_output=True,
        text=True,
        env=server.env,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "does not exist" in proc.stderr


def test_password_is_the_one_checked(idp: Any, public_idp: Any, pool: dict[str, Any]) -> None:
    client = make_client(idp, pool["Id"])
    name = make_user(idp, pool["Id"])
    idp.admin_set_user_password(
        UserPoolId=pool["Id"], Username=name, Password="An0ther-Pass!", Permanent=True
    )
    with pytest.raises(public_idp.exceptions.NotAuthorizedException):
        sign_in(public_idp, client["ClientId"], name, PASSWORD)
    assert (
        "AccessToken"
        in sign_in(public_idp, client["ClientId"], name, "An0ther-Pass!")["AuthenticationResult"]
    )
