"""USER_SRP_AUTH over a real socket, driven by pycognito's SRP client (the proof really
checked); amazon-cognito-identity-js does the same in test_cognito_identity_js.py."""

from __future__ import annotations

import base64
import datetime
import uuid
from typing import Any

import jwt
import pytest
from pycognito.aws_srp import AWSSRP
from pycognito.exceptions import ForceChangePasswordException

from tests.conformance.test_signin import PASSWORD, make_client, make_user, secret_hash
from tests.support.server import Server

SRP_FLOWS = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


def srp(
    server: Server, pool_id: str, client_id: str, username: str, password: str = PASSWORD, **kw: Any
) -> AWSSRP:
    return AWSSRP(
        username=username,
        password=password,
        pool_id=pool_id,
        client_id=client_id,
        client=server.boto(signed=False),
        **kw,
    )


def test_srp_sign_in_returns_verified_tokens(server: Server, idp: Any, pool: dict[str, Any]) -> None:
    client = make_client(idp, pool["Id"], ExplicitAuthFlows=SRP_FLOWS)
    name = make_user(idp, pool["Id"])
    result = srp(server, pool["Id"], client["ClientId"], name).authenticate_user()
    assert "Session" not in result
    tokens = result["AuthenticationResult"]
    key = jwt.PyJWKClient(f"{server.url}/{pool['Id']}/.well-known/jwks.json").get_signing_key_from_jwt(
        tokens["IdToken"]
    )
    claims = jwt.decode(
        tokens["IdToken"],
        key.key,
        algorithms=["RS256"],
        audience=client["ClientId"],
        issuer=f"{server.url}/{pool['Id']}",
    )
    assert claims["cognito:username"] == name
    assert server.boto(signed=False).get_user(AccessToken=tokens["AccessToken"])["Username"] == name


def test_srp_wrong_password_and_replay(server: Server, idp: Any, pool: dict[str, Any]) -> None:
    client = make_client(idp, pool["Id"], ExplicitAuthFlows=SRP_FLOWS)
    name = make_user(idp, pool["Id"])
    public = server.boto(signed=False)
    with pytest.raises(public.exceptions.NotAuthorizedException) as err:
        srp(server, pool["Id"], client["ClientId"], name, "Wr0ng-password!").authenticate_user()
    assert err.value.response["Error"]["Message"] == "Incorrect username or password."
    # A claim answers one challenge once.
    helper = srp(server, pool["Id"], client["ClientId"], name)
    first = public.initiate_auth(
        ClientId=client["ClientId"], AuthFlow="USER_SRP_AUTH", AuthParameters=helper.get_auth_params()
    )
    assert first["ChallengeName"] == "PASSWORD_VERIFIER"
    params = first["ChallengeParameters"]
    assert set(params) == {"SALT", "SRP_B", "SECRET_BLOCK", "USERNAME", "USER_ID_FOR_SRP"}
    assert params["USER_ID_FOR_SRP"] == name
    responses = helper.process_challenge(params, {"USERNAME": params["USERNAME"]})
    ok = public.respond_to_auth_challenge(
        ClientId=client["ClientId"], ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=responses
    )
    assert "AccessToken" in ok["AuthenticationResult"]
    with pytest.raises(public.exceptions.NotAuthorizedException):
        public.respond_to_auth_challenge(
            ClientId=client["ClientId"], ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=responses
        )


def test_srp_refuses_a_forged_signature_and_a_padded_timestamp(
    server: Server, idp: Any, pool: dict[str, Any]
) -> None:
    client = make_client(idp, pool["Id"], ExplicitAuthFlows=SRP_FLOWS)
    name = make_user(idp, pool["Id"])
    public = server.boto(signed=False)
    for tamper in ("signature", "timestamp"):
        helper = srp(server, pool["Id"], client["ClientId"], name)
        params = public.initiate_auth(
            ClientId=client["ClientId"], AuthFlow="USER_SRP_AUTH", AuthParameters=helper.get_auth_params()
        )["ChallengeParameters"]
        responses = helper.process_challenge(params, {"USERNAME": params["USERNAME"]})
        if tamper == "signature":
            sig = bytearray(base64.b64decode(responses["PASSWORD_CLAIM_SIGNATURE"]))
            sig[0] ^= 1
            responses["PASSWORD_CLAIM_SIGNATURE"] = base64.b64encode(bytes(sig)).decode()
        else:
            now = datetime.datetime.now(datetime.UTC)
            responses["TIMESTAMP"] = now.strftime("%a %b %d %H:%M:%S UTC %Y")  # zero-padded day
            if now.day >= 10:
                responses["TIMESTAMP"] = (now - datetime.timedelta(days=400)).strftime(
                    "%a %b %-d %H:%M:%S UTC %Y"
                )
        with pytest.raises(public.exceptions.NotAuthorizedException):
            public.respond_to_auth_challenge(
                ClientId=client["ClientId"], ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=responses
            )


def test_srp_with_a_client_secret(server: Server, idp: Any, pool: dict[str, Any]) -> None:
    client = make_client(idp, pool["Id"], ExplicitAuthFlows=SRP_FLOWS, GenerateSecret=True)
    name = make_user(idp, pool["Id"])
    tokens = srp(
        server, pool["Id"], client["ClientId"], name, client_secret=client["ClientSecret"]
    ).authenticate_user()
    assert "IdToken" in tokens["AuthenticationResult"]
    public = server.boto(signed=False)
    with pytest.raises(public.exceptions.NotAuthorizedException):
        srp(server, pool["Id"], client["ClientId"], name).authenticate_user()


def test_srp_unknown_user(server: Server, idp: Any, pool: dict[str, Any]) -> None:
    legacy = make_client(idp, pool["Id"], ExplicitAuthFlows=SRP_FLOWS)
    enabled = make_client(idp, pool["Id"], ExplicitAuthFlows=SRP_FLOWS, PreventUserExistenceErrors="ENABLED")
    public = server.boto(signed=False)
    with pytest.raises(public.exceptions.UserNotFoundException):
        srp(server, pool["Id"], legacy["ClientId"], "ghost").authenticate_user()

    def challenge(name: str) -> dict[str, str]:
        helper = srp(server, pool["Id"], enabled["ClientId"], name)
        out = public.initiate_auth(
            ClientId=enabled["ClientId"], AuthFlow="USER_SRP_AUTH", AuthParameters=helper.get_auth_params()
        )
        return dict(out["ChallengeParameters"])

    a, b, other = challenge("ghost"), challenge("ghost"), challenge("phantom")
    assert a["SALT"] == b["SALT"] and a["USER_ID_FOR_SRP"] == b["USER_ID_FOR_SRP"]  # stable, as Cognito's
    assert a["SALT"] != other["SALT"]
    uuid.UUID(a["USER_ID_FOR_SRP"])
    with pytest.raises(public.exceptions.NotAuthorizedException) as err:
        srp(server, pool["Id"], enabled["ClientId"], "ghost").authenticate_user()
    assert err.value.response["Error"]["Message"] == "Incorrect username or password."


def test_srp_new_password_required(server: Server, idp: Any, pool: dict[str, Any]) -> None:
    client = make_client(idp, pool["Id"], ExplicitAuthFlows=SRP_FLOWS)
    idp.admin_create_user(
        UserPoolId=pool["Id"], Username="newbie", TemporaryPassword="Temp0rary!", MessageAction="SUPPRESS"
    )
    with pytest.raises(ForceChangePasswordException):
        srp(server, pool["Id"], client["ClientId"], "newbie", "Temp0rary!").authenticate_user()
    done = srp(server, pool["Id"], client["ClientId"], "newbie", "Temp0rary!").set_new_password_challenge(
        "N3w-Passw0rd!"
    )
    assert "AccessToken" in done["AuthenticationResult"]
    again = srp(server, pool["Id"], client["ClientId"], "newbie", "N3w-Passw0rd!").authenticate_user()
    assert "AccessToken" in again["AuthenticationResult"]


def test_srp_through_the_admin_door(server: Server, idp: Any, pool: dict[str, Any]) -> None:
    client = make_client(idp, pool["Id"], ExplicitAuthFlows=SRP_FLOWS)
    name = make_user(idp, pool["Id"])
    helper = srp(server, pool["Id"], client["ClientId"], name)
    first = idp.admin_initiate_auth(
        UserPoolId=pool["Id"],
        ClientId=client["ClientId"],
        AuthFlow="USER_SRP_AUTH",
        AuthParameters=helper.get_auth_params(),
    )
    assert first["ChallengeName"] == "PASSWORD_VERIFIER"
    done = idp.admin_respond_to_auth_challenge(
        UserPoolId=pool["Id"],
        ClientId=client["ClientId"],
        ChallengeName="PASSWORD_VERIFIER",
        ChallengeResponses=helper.process_challenge(first["ChallengeParameters"], {"USERNAME": name}),
    )
    assert "AccessToken" in done["AuthenticationResult"]


def test_srp_by_email_in_an_email_username_pool(server: Server, idp: Any) -> None:
    pool = idp.create_user_pool(PoolName="srpmail", UsernameAttributes=["email"])["UserPool"]
    try:
        client = make_client(idp, pool["Id"], ExplicitAuthFlows=SRP_FLOWS)
        idp.admin_create_user(UserPoolId=pool["Id"], Username="erin@example.com", MessageAction="SUPPRESS")
        idp.admin_set_user_password(
            UserPoolId=pool["Id"], Username="erin@example.com", Password=PASSWORD, Permanent=True
        )
        public = server.boto(signed=False)
        helper = srp(server, pool["Id"], client["ClientId"], "erin@example.com")
        params = public.initiate_auth(
            ClientId=client["ClientId"], AuthFlow="USER_SRP_AUTH", AuthParameters=helper.get_auth_params()
        )["ChallengeParameters"]
        uuid.UUID(params["USER_ID_FOR_SRP"])  # the internal username, not the email typed
        done = public.respond_to_auth_challenge(
            ClientId=client["ClientId"],
            ChallengeName="PASSWORD_VERIFIER",
            ChallengeResponses=helper.process_challenge(params, {"USERNAME": params["USERNAME"]}),
        )
        assert "IdToken" in done["AuthenticationResult"]
    finally:
        idp.delete_user_pool(UserPoolId=pool["Id"])


def test_srp_flow_must_be_enabled(server: Server, idp: Any, pool: dict[str, Any]) -> None:
    client = make_client(idp, pool["Id"], ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])
    public = server.boto(signed=False)
    with pytest.raises(public.exceptions.InvalidParameterException):
        srp(server, pool["Id"], client["ClientId"], "anyone").authenticate_user()


def test_srp_secret_hash_uses_the_internal_username(server: Server, idp: Any) -> None:
    pool = idp.create_user_pool(PoolName="srphash", UsernameAttributes=["email"])["UserPool"]
    try:
        client = make_client(idp, pool["Id"], ExplicitAuthFlows=SRP_FLOWS, GenerateSecret=True)
        cid, secret = client["ClientId"], client["ClientSecret"]
        idp.admin_create_user(UserPoolId=pool["Id"], Username="fay@example.com", MessageAction="SUPPRESS")
        idp.admin_set_user_password(
            UserPoolId=pool["Id"], Username="fay@example.com", Password=PASSWORD, Permanent=True
        )
        public = server.boto(signed=False)
        helper = srp(server, pool["Id"], cid, "fay@example.com", client_secret=secret)
        params = public.initiate_auth(
            ClientId=cid, AuthFlow="USER_SRP_AUTH", AuthParameters=helper.get_auth_params()
        )["ChallengeParameters"]
        responses = helper.process_challenge(params, {"USERNAME": params["USERNAME"]})
        internal = params["USER_ID_FOR_SRP"]
        responses["USERNAME"] = internal
        responses["SECRET_HASH"] = secret_hash(secret, internal, cid)
        done = public.respond_to_auth_challenge(
            ClientId=cid, ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=responses
        )
        assert "AccessToken" in done["AuthenticationResult"]
    finally:
        idp.delete_user_pool(UserPoolId=pool["Id"])
