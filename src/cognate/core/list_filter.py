"""ListUsers' ``Filter`` grammar: ``AttributeName Operator "Value"``.

Source: Amazon Cognito API reference, ListUsers. Operators are ``=`` (exact) and
``^=`` (starts with); the value is double-quoted (backslash escapes a quote); the
searchable attributes are listed in FILTERABLE. An empty filter lists everyone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cognate.errors import InvalidParameterException

FILTERABLE = {
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
}

_GRAMMAR = re.compile(r'^\s*([\w:]+)\s*(\^=|=)\s*"((?:[^"\\]|\\.)*)"\s*$')


@dataclass(frozen=True)
class Filter:
    attribute: str
    op: str  # "=" or "^="
    value: str


def parse(text: str | None) -> Filter | None:
    if text is None or not text.strip():
        return None
    m = _GRAMMAR.match(text)
    if not m:
        raise InvalidParameterException("Error while parsing filter.")
    name, op, raw = m.groups()
    if name not in FILTERABLE:
        raise InvalidParameterException(f"Invalid search attribute: {name}")
    value = re.sub(r"\\(.)", r"\1", raw)
    return Filter(name, op, value)
