"""User pools over the wire: Create/Describe/Update/List/DeleteUserPool, AddCustomAttributes, tags."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.helpers import POOL_ID, pool_factory, schema_attr, signed_post, unique

make_pool = pytest.fixture(name="make_pool")(pool_factory)

LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:pre-signup"

FULL_POOL: dict[str, Any] = {
    "Policies": {
        "PasswordPolicy": {
            "MinimumLength": 12,
            "RequireUppercase": False,
            "RequireLowercase": True,
            "RequireNumbers": True,
            "RequireSymbols": False,
            "TemporaryPasswordValidityDays": 3,
        }
    },
    "Schema": [
        {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True},
        {
            "Name": "foo",
            "AttributeDataType": "String",
            "Mutable": False,
            "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "64"},
        },
        {
            "Name": "level",
            "AttributeDataType": "Number",
            "NumberAttributeConstraints": {"MinValue": "1", "MaxValue": "10"},
        },
    ],
    "UsernameAttributes": ["email"],
    "UsernameConfiguration": {"CaseSensitive": False},
    "AutoVerifiedAttributes": ["email"],
    "MfaConfiguration": "OPTIONAL",
    "LambdaConfig": {"PreSignUp": LAMBDA_ARN},
    "AdminCreateUserConfig": {
        "AllowAdminCreateUserOnly": True,
        "UnusedAccountValidityDays": 5,
        "InviteMessageTemplate": {
            "EmailSubject": "Welcome aboard",
            "EmailMessage": "Hello {username}, your password is {####}",
            "SMSMessage": "User {username} password {####}",
        },
    },
    "AccountRecoverySetting": {"RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]},
    "EmailVerificationSubject": "Verify your address",
    "EmailVerificationMessage": "Your code is {####}",
    "SmsVerificationMessage": "Code: {####}",
    "VerificationMessageTemplate": {
        "DefaultEmailOption": "CONFIRM_WITH_CODE",
        "EmailSubject": "Verify your address",
        "EmailMessage": "Your code is {####}",
    },
    "SmsAuthenticationMessage": "Sign-in code {####}",
    "DeletionProtection": "INACTIVE",
    "UserPoolTags": {"team": "identity", "env": "test"},
}


# --- CreateUserPool / DescribeUserPool ------------------------------------------------


def test_create_returns_cognito_shape_and_describe_returns_what_was_set(idp: Any, make_pool: Any) -> None:
    created = make_pool(**FULL_POOL)
    assert POOL_ID.match(created["Id"])
    assert created["Arn"] == f"arn:aws:cognito-idp:us-east-1:000000000000:userpool/{created['Id']}"

    got = idp.describe_user_pool(UserPoolId=created["Id"])["UserPool"]
    assert got["Id"] == created["Id"]
    assert got["Name"] == created["Name"]
    assert got["Policies"]["PasswordPolicy"] == FULL_POOL["Policies"]["PasswordPolicy"]
    assert got["UsernameAttributes"] == ["email"]
    assert got["UsernameConfiguration"] == {"CaseSensitive": False}
    assert got["AutoVerifiedAttributes"] == ["email"]
    assert got["MfaConfiguration"] == "OPTIONAL"
    assert got["LambdaConfig"] == {"PreSignUp": LAMBDA_ARN}
    assert got["AdminCreateUserConfig"] == FULL_POOL["AdminCreateUserConfig"]
    assert got["AccountRecoverySetting"] == FULL_POOL["AccountRecoverySetting"]
    for field in (
        "EmailVerificationSubject",
        "EmailVerificationMessage",
        "SmsVerificationMessage",
        "SmsAuthenticationMessage",
    ):
        assert got[field] == FULL_POOL[field], field
    assert got["VerificationMessageTemplate"] == FULL_POOL["VerificationMessageTemplate"]
    assert got["DeletionProtection"] == "INACTIVE"
    assert got["UserPoolTags"] == {"team": "identity", "env": "test"}
    assert got["EstimatedNumberOfUsers"] == 0
    assert got["CreationDate"] == got["LastModifiedDate"]


def test_schema_standard_and_custom_attributes(idp: Any, make_pool: Any) -> None:
    created = make_pool(**FULL_POOL)
    got = idp.describe_user_pool(UserPoolId=created["Id"])["UserPool"]
    names = [a["Name"] for a in got["SchemaAttributes"]]
    for std in ("sub", "email", "email_verified", "phone_number", "name", "updated_at"):
        assert std in names
    assert "foo" not in names and "level" not in names  # custom attributes are prefixed
    foo = schema_attr(got, "custom:foo")
    assert foo is not None
    assert foo["AttributeDataType"] == "String"
    assert foo["Mutable"] is False
    assert foo["Required"] is False
    assert foo["StringAttributeConstraints"] == {"MinLength": "1", "MaxLength": "64"}
    level = schema_attr(got, "custom:level")
    assert level is not None
    assert level["AttributeDataType"] == "Number"
    assert level["NumberAttributeConstraints"] == {"MinValue": "1", "MaxValue": "10"}
    email = schema_attr(got, "email")
    assert email is not None and email["Required"] is True
    sub = schema_attr(got, "sub")
    assert sub is not None and sub["Mutable"] is False and sub["Required"] is True


def test_defaults_of_a_bare_pool(idp: Any, make_pool: Any) -> None:
    created = make_pool()
    got = idp.describe_user_pool(UserPoolId=created["Id"])["UserPool"]
    assert got["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 8,
        "RequireUppercase": True,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "TemporaryPasswordValidityDays": 7,
    }
    assert got["MfaConfiguration"] == "OFF"
    assert got["DeletionProtection"] == "INACTIVE"
    assert got["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    assert "UsernameAttributes" not in got
    assert "AliasAttributes" not in got


def test_alias_attributes_alone_accepted(idp: Any, make_pool: Any) -> None:
    created = make_pool(AliasAttributes=["email", "preferred_username"])
    got = idp.describe_user_pool(UserPoolId=created["Id"])["UserPool"]
    assert got["AliasAttributes"] == ["email", "preferred_username"]


def test_alias_and_username_attributes_together_refused(idp: Any, make_pool: Any) -> None:
    with pytest.raises(idp.exceptions.InvalidParameterException) as err:
        make_pool(AliasAttributes=["preferred_username"], UsernameAttributes=["email"])
    assert "aliasAttributes" in str(err.value) and "usernameAttributes" in str(err.value)


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"UsernameAttributes": ["preferred_username"]}, id="username-attr-not-allowed"),
        pytest.param({"AliasAttributes": ["sub"]}, id="alias-attr-not-allowed"),
        pytest.param({"AutoVerifiedAttributes": ["name"]}, id="auto-verify-name"),
        pytest.param({"MfaConfiguration": "SOMETIMES"}, id="mfa-enum"),
        pytest.param({"DeletionProtection": "MAYBE"}, id="deletion-protection-enum"),
        pytest.param({"EmailVerificationMessage": "no placeholder"}, id="verification-without-code"),
        pytest.param(
            {"AdminCreateUserConfig": {"InviteMessageTemplate": {"EmailMessage": "Hello {username}!"}}},
            id="invite-email-without-code",
        ),
        pytest.param(
            {"AdminCreateUserConfig": {"InviteMessageTemplate": {"SMSMessage": "code {####} only"}}},
            id="invite-sms-without-username",
        ),
        pytest.param({"LambdaConfig": {"PreSignUp": "x" * 25}}, id="lambda-not-an-arn"),
        pytest.param(
            {
                "Schema": [
                    {
                        "Name": "n",
                        "AttributeDataType": "Number",
                        "NumberAttributeConstraints": {"MinValue": "a"},
                    }
                ]
            },
            id="number-constraint-not-a-number",
        ),
        pytest.param(
            {"Schema": [{"Name": "n", "AttributeDataType": "String", "Required": True}]},
            id="required-custom-attribute",
        ),
        pytest.param({"Schema": [{"AttributeDataType": "String"}]}, id="schema-without-name"),
        pytest.param({"Schema": [{"Name": "email", "AttributeDataType": "Number"}]}, id="retype-standard"),
        pytest.param({"PoolName": "bad/name"}, id="pool-name-pattern"),
    ],
)
def test_create_refuses_invalid_configuration(idp: Any, make_pool: Any, fields: dict[str, Any]) -> None:
    with pytest.raises(idp.exceptions.InvalidParameterException):
        make_pool(**fields)


def test_create_ignores_read_only_fields(idp: Any, server: Any) -> None:
    """Members that are not CreateUserPool's (Id, Arn, ...) cannot steer the pool's identity."""
    name = unique()
    resp = signed_post(
        server,
        "CreateUserPool",
        {"PoolName": name, "Id": "us-east-1_Hijacked1", "Arn": "arn:evil", "EstimatedNumberOfUsers": 99},
    )
    assert resp.status_code == 200, resp.text
    created = resp.json()["UserPool"]
    try:
        assert POOL_ID.match(created["Id"]) and created["Id"] != "us-east-1_Hijacked1"
        assert created["Arn"].endswith(created["Id"])
        assert created["EstimatedNumberOfUsers"] == 0
        with pytest.raises(idp.exceptions.ResourceNotFoundException):
            idp.describe_user_pool(UserPoolId="us-east-1_Hijacked1")
    finally:
        idp.delete_user_pool(UserPoolId=created["Id"])


def test_pool_ids_are_cognito_shaped_and_distinct(make_pool: Any) -> None:
    ids = {make_pool()["Id"] for _ in range(5)}
    assert len(ids) == 5
    assert all(POOL_ID.match(i) for i in ids)


def test_describe_unknown_pool(idp: Any) -> None:
    with pytest.raises(idp.exceptions.ResourceNotFoundException) as err:
        idp.describe_user_pool(UserPoolId="us-east-1_NoSuchPoo")
    assert "us-east-1_NoSuchPoo" in err.value.response["Error"]["Message"]


# --- UpdateUserPool -----------------------------------------------------------------


def test_update_replaces_settings_and_absent_fields_return_to_defaults(idp: Any, make_pool: Any) -> None:
    created = make_pool(**FULL_POOL)
    pool_id = created["Id"]
    idp.update_user_pool(
        UserPoolId=pool_id,
        Policies={"PasswordPolicy": {"MinimumLength": 20, "RequireSymbols": True}},
        MfaConfiguration="OFF",
        DeletionProtection="ACTIVE",
        LambdaConfig={"PostConfirmation": LAMBDA_ARN},
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": False},
    )
    got = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert got["Policies"]["PasswordPolicy"]["MinimumLength"] == 20
    assert got["Policies"]["PasswordPolicy"]["RequireSymbols"] is True
    assert got["MfaConfiguration"] == "OFF"
    assert got["DeletionProtection"] == "ACTIVE"
    assert got["LambdaConfig"] == {"PostConfirmation": LAMBDA_ARN}
    assert got["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    assert "InviteMessageTemplate" not in got["AdminCreateUserConfig"]
    # Not given in the update: back to the default (absent), as Cognito does.
    assert "AutoVerifiedAttributes" not in got
    assert "AccountRecoverySetting" not in got
    assert "EmailVerificationMessage" not in got
    # Creation-only settings and the schema stay; tags are managed by the tag operations.
    assert got["UsernameAttributes"] == ["email"]
    assert got["UsernameConfiguration"] == {"CaseSensitive": False}
    assert schema_attr(got, "custom:foo") is not None
    assert got["UserPoolTags"] == {"team": "identity", "env": "test"}
    assert got["LastModifiedDate"] >= got["CreationDate"]


def test_update_can_rename(idp: Any, make_pool: Any) -> None:
    created = make_pool()
    new_name = unique("renamed")
    idp.update_user_pool(UserPoolId=created["Id"], PoolName=new_name)
    assert idp.describe_user_pool(UserPoolId=created["Id"])["UserPool"]["Name"] == new_name


def test_update_refuses_bad_values(idp: Any, make_pool: Any) -> None:
    created = make_pool()
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.update_user_pool(UserPoolId=created["Id"], MfaConfiguration="SOMETIMES")
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.update_user_pool(
            UserPoolId=created["Id"],
            AdminCreateUserConfig={"InviteMessageTemplate": {"EmailMessage": "no placeholders"}},
        )
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.update_user_pool(UserPoolId="us-east-1_NoSuchPoo")


# --- ListUserPools ------------------------------------------------------------------


def test_list_paginates_with_max_results_and_next_token(idp: Any, make_pool: Any) -> None:
    mine = {make_pool()["Id"] for _ in range(3)}
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        kwargs: dict[str, Any] = {"MaxResults": 2}
        if token:
            kwargs["NextToken"] = token
        page = idp.list_user_pools(**kwargs)
        assert len(page["UserPools"]) <= 2
        seen += [p["Id"] for p in page["UserPools"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
        assert pages < 1000
    assert mine <= set(seen)
    assert len(seen) == len(set(seen)), "no pool appears twice across pages"
    assert pages >= 2
    summary = next(p for p in idp.list_user_pools(MaxResults=60)["UserPools"] if p["Id"] in mine)
    assert set(summary) >= {"Id", "Name", "LambdaConfig", "CreationDate", "LastModifiedDate"}


def test_list_refuses_bad_input(idp: Any) -> None:
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.list_user_pools(MaxResults=2, NextToken="not-a-token-we-made")
    with pytest.raises(idp.exceptions.InvalidParameterException) as err:
        idp.list_user_pools(MaxResults=61)
    assert "maxResults" in err.value.response["Error"]["Message"]


# --- DeleteUserPool -----------------------------------------------------------------


def test_delete_removes_pool_clients_and_users(idp: Any) -> None:
    pool_id = idp.create_user_pool(PoolName=unique())["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="web")["UserPoolClient"][
        "ClientId"
    ]
    idp.admin_create_user(UserPoolId=pool_id, Username="bob", MessageAction="SUPPRESS")
    idp.delete_user_pool(UserPoolId=pool_id)
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.describe_user_pool(UserPoolId=pool_id)
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.admin_get_user(UserPoolId=pool_id, Username="bob")
    assert pool_id not in {p["Id"] for p in idp.list_user_pools(MaxResults=60)["UserPools"]}
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.delete_user_pool(UserPoolId=pool_id)


def test_deletion_protection_blocks_delete(idp: Any, make_pool: Any) -> None:
    pool_id = make_pool(DeletionProtection="ACTIVE")["Id"]
    with pytest.raises(idp.exceptions.InvalidParameterException) as err:
        idp.delete_user_pool(UserPoolId=pool_id)
    assert "deletion protection" in err.value.response["Error"]["Message"].lower()
    assert idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["DeletionProtection"] == "ACTIVE"
    idp.update_user_pool(UserPoolId=pool_id, DeletionProtection="INACTIVE")
    idp.delete_user_pool(UserPoolId=pool_id)
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.describe_user_pool(UserPoolId=pool_id)


# --- AddCustomAttributes ------------------------------------------------------------


def test_add_custom_attributes(idp: Any, make_pool: Any) -> None:
    pool_id = make_pool()["Id"]
    idp.add_custom_attributes(
        UserPoolId=pool_id,
        CustomAttributes=[
            {"Name": "tier", "AttributeDataType": "String", "Mutable": True},
            {
                "Name": "score",
                "AttributeDataType": "Number",
                "NumberAttributeConstraints": {"MinValue": "0", "MaxValue": "100"},
            },
        ],
    )
    got = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    tier = schema_attr(got, "custom:tier")
    assert tier is not None and tier["AttributeDataType"] == "String" and tier["Mutable"] is True
    score = schema_attr(got, "custom:score")
    assert score is not None and score["NumberAttributeConstraints"] == {"MinValue": "0", "MaxValue": "100"}
    # The new attribute is usable at once.
    idp.admin_create_user(
        UserPoolId=pool_id,
        Username="carol",
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "custom:tier", "Value": "gold"}, {"Name": "custom:score", "Value": "42"}],
    )
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.admin_update_user_attributes(
            UserPoolId=pool_id, Username="carol", UserAttributes=[{"Name": "custom:score", "Value": "101"}]
        )


@pytest.mark.parametrize(
    "attribute",
    [
        pytest.param({"Name": "tier", "AttributeDataType": "String"}, id="duplicate"),
        pytest.param({"Name": "email", "AttributeDataType": "String"}, id="standard-name"),
        pytest.param({"Name": "x" * 21, "AttributeDataType": "String"}, id="name-too-long"),
        pytest.param({"Name": "req", "AttributeDataType": "String", "Required": True}, id="required"),
        pytest.param(
            {
                "Name": "range",
                "AttributeDataType": "Number",
                "NumberAttributeConstraints": {"MinValue": "10", "MaxValue": "1"},
            },
            id="min-above-max",
        ),
    ],
)
def test_add_custom_attributes_refused(idp: Any, make_pool: Any, attribute: dict[str, Any]) -> None:
    pool_id = make_pool(Schema=[{"Name": "tier", "AttributeDataType": "String"}])["Id"]
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.add_custom_attributes(UserPoolId=pool_id, CustomAttributes=[attribute])


def test_add_custom_attributes_unknown_pool(idp: Any) -> None:
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.add_custom_attributes(
            UserPoolId="us-east-1_NoSuchPoo", CustomAttributes=[{"Name": "a", "AttributeDataType": "String"}]
        )


# --- Tags ---------------------------------------------------------------------------


def test_tag_untag_list_tags(idp: Any, make_pool: Any) -> None:
    created = make_pool(UserPoolTags={"a": "1"})
    arn = created["Arn"]
    assert idp.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"a": "1"}
    idp.tag_resource(ResourceArn=arn, Tags={"b": "2", "a": "one"})
    assert idp.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"a": "one", "b": "2"}
    idp.untag_resource(ResourceArn=arn, TagKeys=["a", "not-there"])
    assert idp.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"b": "2"}
    assert idp.describe_user_pool(UserPoolId=created["Id"])["UserPool"]["UserPoolTags"] == {"b": "2"}


def test_tags_on_unknown_or_malformed_arn(idp: Any) -> None:
    missing = "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_NoSuchPoo"
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.list_tags_for_resource(ResourceArn=missing)
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.tag_resource(ResourceArn=missing, Tags={"a": "b"})
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.list_tags_for_resource(ResourceArn="arn:aws:s3:::some-bucket-name-here")
