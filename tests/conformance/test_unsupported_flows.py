"""A flow Cognito has and Cognate does not serve says it is unsupported, in Cognito's shape,
whatever the client allows (rather than "not enabled for this client")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.helpers import raw_post


@pytest.mark.parametrize("allowed", [True, False])
def test_user_auth_is_answered_as_unsupported(
    server: Any, idp: Any, public_idp: Any, pool: dict[str, Any], allowed: bool
) -> None:
    flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"] + (["ALLOW_USER_AUTH"] if allowed else [])
    client = idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName="c", ExplicitAuthFlows=flows)
    client_id = client["UserPoolClient"]["ClientId"]
    params = {"USERNAME": "alice", "PREFERRED_CHALLENGE": "PASSWORD_SRP"}
    with pytest.raises(public_idp.exceptions.UnsupportedOperationException) as err:
        public_idp.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH", AuthParameters=params)
    message = err.value.response["Error"]["Message"]
    assert "USER_AUTH" in message and "not supported" in message and "USER_SRP_AUTH" in message
    assert "not enabled" not in message
    with pytest.raises(idp.exceptions.UnsupportedOperationException):
        idp.admin_initiate_auth(
            UserPoolId=pool["Id"], ClientId=client_id, AuthFlow="USER_AUTH", AuthParameters=params
        )
    wire = raw_post(
        server, "InitiateAuth", {"ClientId": client_id, "AuthFlow": "USER_AUTH", "AuthParameters": params}
    )
    assert wire.status_code == 400
    assert wire.json()["__type"] == "UnsupportedOperationException"
    assert wire.headers["x-amzn-errortype"].startswith("UnsupportedOperationException")
