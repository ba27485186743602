"""core/attributes.py: the standard schema, custom attributes and checks of attribute writes."""

from __future__ import annotations

from typing import Any

import pytest

from cognate.core import attributes as a
from cognate.errors import InvalidParameterException


def by_name(schema: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {x["Name"]: x for x in schema}


def test_default_schema_is_cognitos_standard_attributes() -> None:
    schema = by_name(a.default_schema())
    assert list(schema) == a.STANDARD_NAMES
    assert len(schema) == 21
    assert schema["sub"]["Mutable"] is False and schema["sub"]["Required"] is True
    assert schema["email_verified"]["AttributeDataType"] == "Boolean"
    assert schema["phone_number_verified"]["AttributeDataType"] == "Boolean"
    assert schema["updated_at"]["AttributeDataType"] == "Number"
    assert schema["email"]["StringAttributeConstraints"] == {"MinLength": "0", "MaxLength": "2048"}
    assert all(x["DeveloperOnlyAttribute"] is False for x in schema.values())
    for name, x in schema.items():
        assert x["AttributeDataType"] in ("String", "Number", "Boolean", "DateTime"), name


def test_default_schema_is_a_fresh_copy() -> None:
    first = a.default_schema()
    first[0]["Mutable"] = True
    assert a.default_schema()[0]["Mutable"] is False


def test_build_schema_without_request_is_the_default() -> None:
    assert a.build_schema(None) == a.default_schema()
    assert a.build_schema([]) == a.default_schema()


def test_build_schema_adjusts_standard_attributes() -> None:
    schema = by_name(
        a.build_schema(
            [
                {"Name": "email", "Required": True, "Mutable": True},
                {"Name": "name", "StringAttributeConstraints": {"MaxLength": "100"}},
                {"Name": "sub", "Mutable": True},  # sub cannot be changed: ignored
            ]
        )
    )
    assert schema["email"]["Required"] is True
    assert schema["name"]["StringAttributeConstraints"]["MaxLength"] == "100"
    assert schema["sub"]["Mutable"] is False


def test_standard_attribute_type_cannot_change() -> None:
    with pytest.raises(InvalidParameterException, match="email"):
        a.build_schema([{"Name": "email", "AttributeDataType": "Number"}])


def test_custom_attributes() -> None:
    schema = by_name(
        a.build_schema(
            [
                {
                    "Name": "tenant",
                    "AttributeDataType": "String",
                    "StringAttributeConstraints": {"MaxLength": "5"},
                },
                {
                    "Name": "custom:age",
                    "AttributeDataType": "Number",
                    "NumberAttributeConstraints": {"MinValue": "0"},
                },
                {"Name": "secret", "DeveloperOnlyAttribute": True},
                {"Name": "fixed", "Mutable": False},
            ]
        )
    )
    assert schema["custom:tenant"]["StringAttributeConstraints"] == {"MaxLength": "5"}
    assert schema["custom:age"]["AttributeDataType"] == "Number"
    assert schema["custom:age"]["NumberAttributeConstraints"] == {"MinValue": "0"}
    assert schema["dev:custom:secret"]["DeveloperOnlyAttribute"] is True
    assert schema["custom:fixed"]["Mutable"] is False
    assert schema["custom:tenant"]["AttributeDataType"] == "String"
    assert all(schema[n]["Required"] is False for n in schema if a.is_custom(n))


@pytest.mark.parametrize(
    "item",
    [
        {"Name": ""},
        {"Name": "custom:"},
        {"Name": "x" * 21},
        {"Name": "req", "Required": True},
    ],
)
def test_bad_custom_attributes(item: dict[str, Any]) -> None:
    with pytest.raises(InvalidParameterException):
        a.build_schema([item])


def test_custom_attribute_names_are_unique() -> None:
    with pytest.raises(InvalidParameterException, match="already"):
        a.build_schema([{"Name": "tenant"}, {"Name": "tenant", "DeveloperOnlyAttribute": True}])
    existing = by_name(a.build_schema([{"Name": "tenant"}]))
    with pytest.raises(InvalidParameterException, match="already"):
        a.custom_attribute({"Name": "tenant"}, existing)


def test_a_repeated_custom_attribute_is_refused() -> None:
    with pytest.raises(InvalidParameterException):
        a.build_schema([{"Name": "tenant"}, {"Name": "custom:tenant", "Mutable": False}])


def test_at_most_fifty_custom_attributes() -> None:
    a.build_schema([{"Name": f"a{i}"} for i in range(50)])
    with pytest.raises(InvalidParameterException, match="50"):
        a.build_schema([{"Name": f"a{i}"} for i in range(51)])


def test_is_custom_and_names() -> None:
    assert a.is_custom("custom:x") and a.is_custom("dev:custom:x")
    assert not a.is_custom("email") and not a.is_custom("customer")
    schema = a.build_schema([{"Name": "t"}])
    assert {attr["Name"] for attr in schema} == set(a.STANDARD_NAMES) | {"custom:t"}


@pytest.fixture
def schema() -> list[dict[str, Any]]:
    return a.build_schema(
        [
            {"Name": "email", "Required": True},
            {"Name": "tenant", "StringAttributeConstraints": {"MinLength": "2", "MaxLength": "5"}},
            {
                "Name": "age",
                "AttributeDataType": "Number",
                "NumberAttributeConstraints": {"MinValue": "0", "MaxValue": "150"},
            },
            {"Name": "secret", "DeveloperOnlyAttribute": True},
            {"Name": "fixed", "Mutable": False},
            {"Name": "given_name", "Mutable": False},
            {"Name": "vip", "AttributeDataType": "Boolean"},
        ]
    )


def test_good_writes(schema: list[dict[str, Any]]) -> None:
    a.check_writes(
        schema,
        {
            "email": "a@example.com",
            "email_verified": "true",
            "custom:tenant": "acme",
            "custom:age": "42",
            "custom:fixed": "set once",
            "given_name": "Alice",
            "custom:vip": "false",
            "updated_at": "1700000000",
        },
        creating=True,
    )
    a.check_writes(schema, {"email": "b@example.com", "custom:tenant": "ab"}, creating=False)


@pytest.mark.parametrize(
    ("attrs", "match"),
    [
        ({"favourite_colour": "red"}, "does not exist"),
        ({"custom:unknown": "x"}, "does not exist"),
        ({"sub": "x"}, "sub"),
        ({"identities": "[]"}, "identities"),
        ({"email_verified": "yes"}, "true or false"),
        ({"custom:vip": "1"}, "true or false"),
        ({"custom:age": "old"}, "number"),
        ({"custom:age": "-1"}, "no less than 0"),
        ({"custom:age": "151"}, "no greater than 150"),
        ({"updated_at": "-5"}, "no less than 0"),
        ({"custom:tenant": "a"}, "no shorter than 2"),
        ({"custom:tenant": "abcdef"}, "no longer than 5"),
        ({"email": "x" * 2049}, "2048"),
        ({"name": "é" * 1025}, "2048"),  # 2,048 bytes, not characters
    ],
)
def test_bad_writes(schema: list[dict[str, Any]], attrs: dict[str, str], match: str) -> None:
    with pytest.raises(InvalidParameterException, match=match):
        a.check_writes(schema, attrs, creating=True)


def test_immutable_attributes_are_set_only_at_creation(schema: list[dict[str, Any]]) -> None:
    a.check_writes(schema, {"custom:fixed": "x", "given_name": "A"}, creating=True)
    with pytest.raises(InvalidParameterException, match="immutable attribute: custom:fixed"):
        a.check_writes(schema, {"custom:fixed": "y"}, creating=False)
    with pytest.raises(InvalidParameterException, match="immutable attribute: given_name"):
        a.check_writes(schema, {"given_name": "B"}, creating=False)


def test_developer_only_attributes(schema: list[dict[str, Any]]) -> None:
    a.check_writes(schema, {"dev:custom:secret": "x"}, creating=True, admin=True)
    a.check_writes(schema, {"custom:secret": "x"}, creating=True, admin=True)
    with pytest.raises(InvalidParameterException):
        a.check_writes(schema, {"dev:custom:secret": "x"}, creating=False, admin=False)
    with pytest.raises(InvalidParameterException):
        a.check_writes(schema, {"custom:secret": "x"}, creating=False, admin=False)


def test_required_attributes(schema: list[dict[str, Any]]) -> None:
    a.check_required(schema, {"email": "a@example.com"})
    with pytest.raises(InvalidParameterException, match="email"):
        a.check_required(schema, {})
    with pytest.raises(InvalidParameterException, match="email"):
        a.check_required(schema, {"email": ""})
    a.check_required(a.default_schema(), {})  # sub is required but never given by callers


def test_number_attribute_refuses_nan_and_infinity() -> None:
    schema = a.build_schema([{"Name": "age", "AttributeDataType": "Number"}])
    for bad in ("nan", "inf", "-Infinity"):
        with pytest.raises(InvalidParameterException):
            a.check_writes(schema, {"custom:age": bad}, creating=True)
    a.check_writes(schema, {"custom:age": "42"}, creating=True)
