"""core/list_filter.py: ListUsers' Filter grammar (Cognito API reference, ListUsers)."""

from __future__ import annotations

import pytest

from cognate.core.list_filter import FILTERABLE, Filter, parse
from cognate.errors import InvalidParameterException


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_empty_filter_lists_everyone(empty: str | None) -> None:
    assert parse(empty) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('email = "alice@example.com"', Filter("email", "=", "alice@example.com")),
        ('email="alice@example.com"', Filter("email", "=", "alice@example.com")),
        ('  email   ^=   "ali"  ', Filter("email", "^=", "ali")),
        ('family_name ^= "O\\"Brien"', Filter("family_name", "^=", 'O"Brien')),
        ('name = "back\\\\slash"', Filter("name", "=", "back\\slash")),
        (
            'cognito:user_status = "FORCE_CHANGE_PASSWORD"',
            Filter("cognito:user_status", "=", "FORCE_CHANGE_PASSWORD"),
        ),
        ('status = "Enabled"', Filter("status", "=", "Enabled")),
        ('username = ""', Filter("username", "=", "")),
        ('phone_number ^= "+1"', Filter("phone_number", "^=", "+1")),
        ('given_name = "Zoé = ^= x"', Filter("given_name", "=", "Zoé = ^= x")),
        (
            'sub = "0b8f2b4c-1c2d-4e5f-8a9b-0c1d2e3f4a5b"',
            Filter("sub", "=", "0b8f2b4c-1c2d-4e5f-8a9b-0c1d2e3f4a5b"),
        ),
    ],
)
def test_parses(text: str, expected: Filter) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize("name", sorted(FILTERABLE))
def test_every_searchable_attribute(name: str) -> None:
    assert parse(f'{name} = "x"') == Filter(name, "=", "x")


def test_searchable_attributes_are_cognitos() -> None:
    assert {
        "username",
        "email",
        "phone_number",
        "name",
        "given_name",
        "family_name",
        "preferred_username",
        "cognito:user_status",
        "status",
        "sub",
    } == FILTERABLE


@pytest.mark.parametrize(
    "text",
    [
        "email",
        'email "x"',
        "email = x",
        "email = 'x'",
        'email != "x"',
        'email > "x"',
        'email = "x" and name = "y"',
        'email = "unterminated',
        'email = "x"y"',
        '= "x"',
        'email == "x"',
    ],
)
def test_malformed_filters(text: str) -> None:
    with pytest.raises(InvalidParameterException, match="parsing filter"):
        parse(text)


@pytest.mark.parametrize("name", ["custom:tenant", "locale", "email_verified", "address", "Email"])
def test_unsearchable_attributes(name: str) -> None:
    with pytest.raises(InvalidParameterException, match=f"Invalid search attribute: {name}"):
        parse(f'{name} = "x"')
