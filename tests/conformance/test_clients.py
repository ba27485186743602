"""App clients over the wire: Create/Describe/Update/List/DeleteUserPoolClient and their validation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.helpers import CLIENT_ID, pool_factory, unique

make_pool = pytest.fixture(name="make_pool")(pool_factory)


@pytest.fixture
def pool_id(make_pool: Any, idp: Any) -> str:
    created = make_pool(Schema=[{"Name": "tier", "AttributeDataType": "String"}])
    idp.create_resource_server(
        UserPoolId=created["Id"],
        Identifier="https://api.example",
        Name="api",
        Scopes=[{"ScopeName": "read", "ScopeDescription": "read things"}],
    )
    return str(created["Id"])


def create(idp: Any, pool_id: str, **fields: Any) -> dict[str, Any]:
    fields.setdefault("ClientName", unique("c"))
    client: dict[str, Any] = idp.create_user_pool_client(UserPoolId=pool_id, **fields)["UserPoolClient"]
    return client


# --- CreateUserPoolClient -----------------------------------------------------------


def test_create_without_secret_has_cognito_defaults(idp: Any, pool_id: str) -> None:
    client = create(idp, pool_id, ClientName="web")
    assert CLIENT_ID.match(client["ClientId"])
    assert client["UserPoolId"] == pool_id
    assert client["ClientName"] == "web"
    assert "ClientSecret" not in client
    assert client["RefreshTokenValidity"] == 30
    assert client["TokenValidityUnits"] == {
        "AccessToken": "hours",
        "IdToken": "hours",
        "RefreshToken": "days",
    }
    assert sorted(client["ExplicitAuthFlows"]) == [
        "ALLOW_CUSTOM_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_SRP_AUTH",
    ]
    assert client["AllowedOAuthFlowsUserPoolClient"] is False
    assert client["PreventUserExistenceErrors"] == "LEGACY"
    assert client["EnableTokenRevocation"] is True
    assert client["AuthSessionValidity"] == 3
    assert "CreationDate" in client and "LastModifiedDate" in client
    got = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client["ClientId"])["UserPoolClient"]
    assert "ClientSecret" not in got


def test_create_with_secret_and_describe_returns_it(idp: Any, pool_id: str) -> None:
    client = create(idp, pool_id, GenerateSecret=True)
    assert CLIENT_ID.match(client["ClientId"])
    secret = client["ClientSecret"]
    assert len(secret) >= 40 and secret.isalnum()
    got = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client["ClientId"])["UserPoolClient"]
    assert got["ClientSecret"] == secret
    other = create(idp, pool_id, GenerateSecret=True)
    assert other["ClientSecret"] != secret and other["ClientId"] != client["ClientId"]


def test_create_in_unknown_pool(idp: Any) -> None:
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.create_user_pool_client(UserPoolId="us-east-1_NoSuchPoo", ClientName="x")


# --- ExplicitAuthFlows ----------------------------------------------------------------


def test_explicit_auth_flows_stored(idp: Any, pool_id: str) -> None:
    flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert create(idp, pool_id, ExplicitAuthFlows=flows)["ExplicitAuthFlows"] == flows
    legacy = ["USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"]
    assert create(idp, pool_id, ExplicitAuthFlows=legacy)["ExplicitAuthFlows"] == legacy


def test_explicit_auth_flows_allow_and_legacy_mixed_refused(idp: Any, pool_id: str) -> None:
    with pytest.raises(idp.exceptions.InvalidParameterException):
        create(idp, pool_id, ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "USER_PASSWORD_AUTH"])
    with pytest.raises(idp.exceptions.InvalidParameterException):
        create(idp, pool_id, ExplicitAuthFlows=["ALLOW_NOTHING_AUTH"])


# --- Token validities -------------------------------------------------------------------


def test_token_validities_with_units(idp: Any, pool_id: str) -> None:
    client = create(
        idp,
        pool_id,
        AccessTokenValidity=5,
        IdTokenValidity=1440,
        RefreshTokenValidity=3650,
        TokenValidityUnits={"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"},
    )
    assert client["AccessTokenValidity"] == 5
    assert client["IdTokenValidity"] == 1440
    assert client["RefreshTokenValidity"] == 3650
    assert client["TokenValidityUnits"] == {
        "AccessToken": "minutes",
        "IdToken": "minutes",
        "RefreshToken": "days",
    }
    # RefreshTokenValidity 0 means the default, 30 days (as Cognito).
    assert create(idp, pool_id, RefreshTokenValidity=0)["RefreshTokenValidity"] == 30


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param(
            {"AccessTokenValidity": 4, "TokenValidityUnits": {"AccessToken": "minutes"}}, id="access<5min"
        ),
        pytest.param(
            {"AccessTokenValidity": 2, "TokenValidityUnits": {"AccessToken": "days"}}, id="access>1day"
        ),
        pytest.param({"IdTokenValidity": 25}, id="id>24h"),
        pytest.param({"IdTokenValidity": 299, "TokenValidityUnits": {"IdToken": "seconds"}}, id="id<300s"),
        pytest.param({"RefreshTokenValidity": 3651}, id="refresh>10y"),
        pytest.param(
            {"RefreshTokenValidity": 59, "TokenValidityUnits": {"RefreshToken": "minutes"}},
            id="refresh<60min",
        ),
        pytest.param({"AccessTokenValidity": 86401}, id="access-over-model-max"),
    ],
)
def test_token_validity_out_of_range_refused(idp: Any, pool_id: str, fields: dict[str, Any]) -> None:
    with pytest.raises(idp.exceptions.InvalidParameterException):
        create(idp, pool_id, **fields)


def test_token_validity_unit_must_be_known(idp: Any, pool_id: str) -> None:
    with pytest.raises(idp.exceptions.InvalidParameterException):
        create(idp, pool_id, TokenValidityUnits={"AccessToken": "weeks"})


# --- OAuth flows and scopes -------------------------------------------------------------


def test_oauth_code_flow_with_system_and_custom_scopes(idp: Any, pool_id: str) -> None:
    client = create(
        idp,
        pool_id,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email", "https://api.example/read"],
        AllowedOAuthFlowsUserPoolClient=True,
        CallbackURLs=["https://app.example/cb"],
        SupportedIdentityProviders=["COGNITO"],
    )
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthScopes"] == ["openid", "email", "https://api.example/read"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["SupportedIdentityProviders"] == ["COGNITO"]


def test_client_credentials_needs_a_secret(idp: Any, pool_id: str) -> None:
    fields = {
        "AllowedOAuthFlows": ["client_credentials"],
        "AllowedOAuthScopes": ["https://api.example/read"],
        "AllowedOAuthFlowsUserPoolClient": True,
    }
    with pytest.raises(idp.exceptions.InvalidOAuthFlowException):
        create(idp, pool_id, **fields)
    client = create(idp, pool_id, GenerateSecret=True, **fields)
    assert client["AllowedOAuthFlows"] == ["client_credentials"]
    assert client["ClientSecret"]


def test_client_credentials_with_code_flow_refused(idp: Any, pool_id: str) -> None:
    with pytest.raises(idp.exceptions.InvalidOAuthFlowException):
        create(
            idp,
            pool_id,
            GenerateSecret=True,
            AllowedOAuthFlows=["client_credentials", "code"],
            AllowedOAuthScopes=["https://api.example/read"],
            AllowedOAuthFlowsUserPoolClient=True,
            CallbackURLs=["https://app.example/cb"],
        )


@pytest.mark.parametrize("scope", ["bogus", "https://api.example/write", "https://other.example/read"])
def test_unknown_scope_refused(idp: Any, pool_id: str, scope: str) -> None:
    with pytest.raises(idp.exceptions.ScopeDoesNotExistException):
        create(
            idp,
            pool_id,
            AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=["openid", scope],
            AllowedOAuthFlowsUserPoolClient=True,
            CallbackURLs=["https://app.example/cb"],
        )


def test_oauth_enabled_needs_flows_and_callbacks(idp: Any, pool_id: str) -> None:
    with pytest.raises(idp.exceptions.InvalidOAuthFlowException):
        create(idp, pool_id, AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthScopes=["openid"])
    with pytest.raises(idp.exceptions.InvalidParameterException):
        create(
            idp,
            pool_id,
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=["openid"],
        )


# --- Callback, logout and default redirect URLs --------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://app.example/cb",
        "https://app.example:8443/cb?x=1",
        "http://localhost:3000/cb",
        "http://localhost/cb",
        "myapp://cb",
    ],
)
def test_callback_url_accepted(idp: Any, pool_id: str, url: str) -> None:
    client = create(idp, pool_id, CallbackURLs=[url], LogoutURLs=[url], DefaultRedirectURI=url)
    assert client["CallbackURLs"] == [url]
    assert client["LogoutURLs"] == [url]
    assert client["DefaultRedirectURI"] == url


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://app.example/cb", id="http-not-localhost"),
        pytest.param("http://localhost.evil.example/cb", id="http-localhost-lookalike"),
        pytest.param("https://app.example/cb#frag", id="fragment"),
        pytest.param("javascript:alert(1)", id="javascript"),
        pytest.param("JavaScript://%0aalert(1)", id="javascript-authority"),
        pytest.param("data:text/html,hi", id="data"),
        pytest.param("https://user@evil.example/cb", id="userinfo"),
        pytest.param("https://app.example@evil.example/cb", id="userinfo-lookalike"),
        pytest.param("/relative/cb", id="relative"),
        pytest.param("https://app.example/a/../cb", id="dot-segments"),
        pytest.param("https://app.example/a/%2e%2E/cb", id="encoded-dot-segments"),
        pytest.param("https://app.example%40evil.example/cb", id="encoded-at-in-host"),
        pytest.param("https://app.example\\@evil.example/cb", id="backslash"),
    ],
)
def test_callback_url_refused(idp: Any, pool_id: str, url: str) -> None:
    with pytest.raises(idp.exceptions.InvalidParameterException):
        create(idp, pool_id, CallbackURLs=[url])
    with pytest.raises(idp.exceptions.InvalidParameterException):
        create(idp, pool_id, LogoutURLs=[url])


def test_javascript_scheme_message_is_clear(idp: Any, pool_id: str) -> None:
    with pytest.raises(idp.exceptions.InvalidParameterException) as err:
        create(idp, pool_id, CallbackURLs=["javascript:alert(1)"])
    assert "javascript scheme" in err.value.response["Error"]["Message"]


def test_default_redirect_uri_must_be_a_callback(idp: Any, pool_id: str) -> None:
    with pytest.raises(idp.exceptions.InvalidParameterException) as err:
        create(
            idp,
            pool_id,
            CallbackURLs=["https://app.example/cb"],
            DefaultRedirectURI="https://app.example/other",
        )
    assert "DefaultRedirectURI" in err.value.response["Error"]["Message"]


# --- Other settings ---------------------------------------------------------------------


def test_prevent_user_existence_errors(idp: Any, pool_id: str) -> None:
    assert (
        create(idp, pool_id, PreventUserExistenceErrors="ENABLED")["PreventUserExistenceErrors"] == "ENABLED"
    )
    assert create(idp, pool_id, PreventUserExistenceErrors="LEGACY")["PreventUserExistenceErrors"] == "LEGACY"
    with pytest.raises(idp.exceptions.InvalidParameterException):
        create(idp, pool_id, PreventUserExistenceErrors="SOMETIMES")


def test_read_and_write_attributes(idp: Any, pool_id: str) -> None:
    client = create(
        idp,
        pool_id,
        ReadAttributes=["email", "email_verified", "custom:tier"],
        WriteAttributes=["email", "custom:tier"],
    )
    assert client["ReadAttributes"] == ["email", "email_verified", "custom:tier"]
    assert client["WriteAttributes"] == ["email", "custom:tier"]


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"ReadAttributes": ["email", "custom:nope"]}, id="unknown-read"),
        pytest.param({"WriteAttributes": ["favourite_colour"]}, id="unknown-write"),
        pytest.param({"WriteAttributes": ["sub"]}, id="write-sub"),
    ],
)
def test_unknown_or_unwritable_attributes_refused(idp: Any, pool_id: str, fields: dict[str, Any]) -> None:
    with pytest.raises(idp.exceptions.InvalidParameterException):
        create(idp, pool_id, **fields)


def test_token_revocation_session_validity_and_rotation(idp: Any, pool_id: str) -> None:
    client = create(
        idp,
        pool_id,
        EnableTokenRevocation=False,
        AuthSessionValidity=15,
        RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 30},
    )
    assert client["EnableTokenRevocation"] is False
    assert client["AuthSessionValidity"] == 15
    assert client["RefreshTokenRotation"] == {"Feature": "ENABLED", "RetryGracePeriodSeconds": 30}
    got = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client["ClientId"])["UserPoolClient"]
    assert got["RefreshTokenRotation"] == {"Feature": "ENABLED", "RetryGracePeriodSeconds": 30}


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"AuthSessionValidity": 16}, id="session>15"),
        pytest.param(
            {"RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 61}}, id="grace>60"
        ),
        pytest.param({"RefreshTokenRotation": {"Feature": "MAYBE"}}, id="rotation-enum"),
    ],
)
def test_session_and_rotation_out_of_range_refused(idp: Any, pool_id: str, fields: dict[str, Any]) -> None:
    with pytest.raises(idp.exceptions.InvalidParameterException):
        create(idp, pool_id, **fields)


# --- UpdateUserPoolClient -----------------------------------------------------------------


def test_update_fields_not_given_return_to_defaults(idp: Any, pool_id: str) -> None:
    client = create(
        idp,
        pool_id,
        ClientName="before",
        GenerateSecret=True,
        AccessTokenValidity=2,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        CallbackURLs=["https://app.example/cb"],
        PreventUserExistenceErrors="ENABLED",
        EnableTokenRevocation=False,
        ReadAttributes=["email"],
    )
    updated = idp.update_user_pool_client(
        UserPoolId=pool_id, ClientId=client["ClientId"], ClientName="after", IdTokenValidity=5
    )["UserPoolClient"]
    assert updated["ClientName"] == "after"
    assert updated["IdTokenValidity"] == 5
    assert updated["ClientSecret"] == client["ClientSecret"], "the secret survives an update"
    got = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client["ClientId"])["UserPoolClient"]
    assert got["ClientName"] == "after"
    assert "AccessTokenValidity" not in got
    assert "CallbackURLs" not in got
    assert "ReadAttributes" not in got
    assert sorted(got["ExplicitAuthFlows"]) == [
        "ALLOW_CUSTOM_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_SRP_AUTH",
    ]
    assert got["PreventUserExistenceErrors"] == "LEGACY"
    assert got["EnableTokenRevocation"] is True
    assert got["CreationDate"] == client["CreationDate"]
    assert got["LastModifiedDate"] >= client["LastModifiedDate"]


def test_update_validates_like_create(idp: Any, pool_id: str) -> None:
    client = create(idp, pool_id)
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.update_user_pool_client(
            UserPoolId=pool_id, ClientId=client["ClientId"], CallbackURLs=["http://x.example"]
        )
    with pytest.raises(idp.exceptions.InvalidOAuthFlowException):
        idp.update_user_pool_client(
            UserPoolId=pool_id,
            ClientId=client["ClientId"],
            AllowedOAuthFlows=["client_credentials"],
            AllowedOAuthScopes=["https://api.example/read"],
            AllowedOAuthFlowsUserPoolClient=True,
        )
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.update_user_pool_client(UserPoolId=pool_id, ClientId="a" * 26)


# --- ListUserPoolClients / DeleteUserPoolClient ---------------------------------------------


def test_list_paginates(idp: Any, pool_id: str) -> None:
    made = {create(idp, pool_id)["ClientId"] for _ in range(5)}
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        kwargs: dict[str, Any] = {"UserPoolId": pool_id, "MaxResults": 2}
        if token:
            kwargs["NextToken"] = token
        page = idp.list_user_pool_clients(**kwargs)
        assert len(page["UserPoolClients"]) <= 2
        for summary in page["UserPoolClients"]:
            assert set(summary) == {"ClientId", "UserPoolId", "ClientName"}
            assert summary["UserPoolId"] == pool_id
        seen += [c["ClientId"] for c in page["UserPoolClients"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(seen) == sorted(made)
    assert pages == 3
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=2, NextToken="made-up")


def test_delete(idp: Any, pool_id: str, make_pool: Any) -> None:
    client = create(idp, pool_id)
    other_pool = make_pool()["Id"]
    # A client is found only through its own pool.
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.describe_user_pool_client(UserPoolId=other_pool, ClientId=client["ClientId"])
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.delete_user_pool_client(UserPoolId=other_pool, ClientId=client["ClientId"])
    idp.delete_user_pool_client(UserPoolId=pool_id, ClientId=client["ClientId"])
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client["ClientId"])
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.delete_user_pool_client(UserPoolId=pool_id, ClientId=client["ClientId"])
    assert client["ClientId"] not in {
        c["ClientId"]
        for c in idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    }
