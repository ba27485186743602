"""Challenge findings (issue 7, items 3, 4 and 7), as the attacker made them with boto3.

3: MFA_SETUP completed with no second factor when the user already had a verified but
disabled authenticator; 4: a challenge started before AdminDisableUser still gave tokens
afterwards; 7: one TOTP code signed a user in twice.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyotp
import pytest

from tests.conformance.test_mfa import next_code
from tests.conformance.test_signin import make_client, make_user, sign_in
from tests.support.server import Server, running_server

FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


@pytest.fixture
def totp_pool(idp: Any) -> Iterator[dict[str, Any]]:
    pool = idp.create_user_pool(PoolName=f"ch{uuid.uuid4().hex[:8]}")["UserPool"]
    idp.set_user_pool_mfa_config(
        UserPoolId=pool["Id"], SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="OPTIONAL"
    )
    yield pool
    idp.delete_user_pool(UserPoolId=pool["Id"])


def _authenticator(public_idp: Any, client_id: str, name: str, *, enable: bool) -> pyotp.TOTP:
    access = sign_in(public_idp, client_id, name)["AuthenticationResult"]["AccessToken"]
    totp = pyotp.TOTP(public_idp.associate_software_token(AccessToken=access)["SecretCode"])
    totp.verified_with = totp.now()  # type: ignore[attr-defined]
    public_idp.verify_software_token(AccessToken=access, UserCode=totp.verified_with)  # type: ignore[attr-defined]
    if enable:
        public_idp.set_user_mfa_preference(
            AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
        )
    return totp


# --- 3: MFA_SETUP needs a factor set up in this session ------------------------------------------


def test_mfa_setup_cannot_be_answered_with_an_authenticator_verified_before(
    idp: Any, public_idp: Any, totp_pool: dict[str, Any]
) -> None:
    pool_id = totp_pool["Id"]
    cid = make_client(idp, pool_id, ExplicitAuthFlows=FLOWS)["ClientId"]
    name = make_user(idp, pool_id)
    _authenticator(public_idp, cid, name, enable=False)  # verified, never enabled
    idp.set_user_pool_mfa_config(
        UserPoolId=pool_id, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="ON"
    )
    # The attacker knows the password only.
    first = sign_in(public_idp, cid, name)
    assert first["ChallengeName"] == "MFA_SETUP"
    with pytest.raises(
        (public_idp.exceptions.InvalidParameterException, public_idp.exceptions.NotAuthorizedException)
    ):
        public_idp.respond_to_auth_challenge(
            ClientId=cid,
            ChallengeName="MFA_SETUP",
            Session=first["Session"],
            ChallengeResponses={"USERNAME": name},
        )
    # Setting an authenticator up in this session is the way through.
    assoc = public_idp.associate_software_token(Session=first["Session"])
    totp = pyotp.TOTP(assoc["SecretCode"])
    verified = public_idp.verify_software_token(Session=assoc["Session"], UserCode=totp.now())
    done = public_idp.respond_to_auth_challenge(
        ClientId=cid,
        ChallengeName="MFA_SETUP",
        Session=verified["Session"],
        ChallengeResponses={"USERNAME": name},
    )
    assert "AccessToken" in done["AuthenticationResult"]


# --- 4: every step re-checks the user ------------------------------------------------------------


def test_a_challenge_started_before_admin_disable_user_gives_nothing(
    idp: Any, public_idp: Any, totp_pool: dict[str, Any]
) -> None:
    pool_id = totp_pool["Id"]
    cid = make_client(idp, pool_id, ExplicitAuthFlows=FLOWS)["ClientId"]
    # NEW_PASSWORD_REQUIRED
    invited = f"i{uuid.uuid4().hex[:8]}"
    idp.admin_create_user(
        UserPoolId=pool_id, Username=invited, TemporaryPassword="Temp-Passw0rd!", MessageAction="SUPPRESS"
    )
    pending = sign_in(public_idp, cid, invited, "Temp-Passw0rd!")
    assert pending["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    idp.admin_disable_user(UserPoolId=pool_id, Username=invited)
    with pytest.raises(public_idp.exceptions.NotAuthorizedException) as info:
        public_idp.respond_to_auth_challenge(
            ClientId=cid,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=pending["Session"],
            ChallengeResponses={"USERNAME": invited, "NEW_PASSWORD": "N3w-Passw0rd!"},
        )
    assert info.value.response["Error"]["Message"] == "User is disabled."
    assert idp.admin_get_user(UserPoolId=pool_id, Username=invited)["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    # SOFTWARE_TOKEN_MFA, then disabled; and one deleted
    for then in ("disable", "delete"):
        name = make_user(idp, pool_id)
        totp = _authenticator(public_idp, cid, name, enable=True)
        first = sign_in(public_idp, cid, name)
        assert first["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
        if then == "disable":
            idp.admin_disable_user(UserPoolId=pool_id, Username=name)
        else:
            idp.admin_delete_user(UserPoolId=pool_id, Username=name)
        with pytest.raises(public_idp.exceptions.NotAuthorizedException):
            public_idp.respond_to_auth_challenge(
                ClientId=cid,
                ChallengeName="SOFTWARE_TOKEN_MFA",
                Session=first["Session"],
                ChallengeResponses={"USERNAME": name, "SOFTWARE_TOKEN_MFA_CODE": next_code(totp)},
            )


# --- 7: a TOTP code (its time step) signs in once ----------------------------------------------------


def _answer(server: Server, cid: str, name: str, code: str) -> str:
    idp = server.boto(signed=False)
    first = sign_in(idp, cid, name)
    try:
        out = idp.respond_to_auth_challenge(
            ClientId=cid,
            ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=first["Session"],
            ChallengeResponses={"USERNAME": name, "SOFTWARE_TOKEN_MFA_CODE": code},
        )
    except idp.exceptions.CodeMismatchException:
        return "refused"
    return "signed in" if "AccessToken" in out["AuthenticationResult"] else "?"


def test_one_totp_code_signs_in_once(
    server: Server, idp: Any, public_idp: Any, totp_pool: dict[str, Any]
) -> None:
    pool_id = totp_pool["Id"]
    cid = make_client(idp, pool_id, ExplicitAuthFlows=FLOWS)["ClientId"]
    name = make_user(idp, pool_id)
    totp = _authenticator(public_idp, cid, name, enable=True)
    code = next_code(totp)
    assert _answer(server, cid, name, code) == "signed in"
    assert _answer(server, cid, name, code) == "refused"
    # The verification code's own step was used up by VerifySoftwareToken.
    assert _answer(server, cid, name, totp.verified_with) == "refused"  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def two_workers() -> Iterator[Server]:
    with running_server("--workers", "2") as srv:
        yield srv


def test_one_totp_code_signs_in_once_across_workers(two_workers: Server) -> None:
    idp, public_idp = two_workers.boto(), two_workers.boto(signed=False)
    pool_id = idp.create_user_pool(PoolName=f"cw{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    idp.set_user_pool_mfa_config(
        UserPoolId=pool_id, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="OPTIONAL"
    )
    cid = make_client(idp, pool_id, ExplicitAuthFlows=FLOWS)["ClientId"]
    name = make_user(idp, pool_id)
    totp = _authenticator(public_idp, cid, name, enable=True)
    code = next_code(totp)
    sessions = [sign_in(public_idp, cid, name)["Session"] for _ in range(6)]
    barrier = threading.Barrier(len(sessions))

    def answer(session: str) -> str:
        client = two_workers.boto(signed=False)
        barrier.wait()
        try:
            client.respond_to_auth_challenge(
                ClientId=cid,
                ChallengeName="SOFTWARE_TOKEN_MFA",
                Session=session,
                ChallengeResponses={"USERNAME": name, "SOFTWARE_TOKEN_MFA_CODE": code},
            )
            return "signed in"
        except client.exceptions.CodeMismatchException:
            return "refused"

    with ThreadPoolExecutor(len(sessions)) as pool:
        results = list(pool.map(answer, sessions))
    assert sorted(results) == ["refused"] * 5 + ["signed in"], results
