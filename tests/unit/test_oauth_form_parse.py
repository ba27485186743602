"""The back-channel form parser reads exactly what ``urllib.parse.parse_qsl`` reads."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cognate.errors import InvalidRequestError
from cognate.oauth.form import MAX_FIELDS, _pairs, parse

FORM = "application/x-www-form-urlencoded"


@settings(max_examples=500)
@given(st.text(alphabet="ab=&%+2F0\u00e9;\x00 ", max_size=40))
def test_pairs_are_parse_qsl_with_blank_values(text: str) -> None:
    assert _pairs(text) == parse_qsl(text, keep_blank_values=True)


def test_parse_decodes_drops_blank_values_and_refuses_repeats_and_excess() -> None:
    fields = parse(f"{FORM}; charset=UTF-8", b"grant_type=client_credentials&scope=https%3A%2F%2Fa%2Fr+w&x=")
    assert fields == {"grant_type": "client_credentials", "scope": "https://a/r w"}
    with pytest.raises(InvalidRequestError, match="repeated"):
        parse(FORM, b"a=1&a=2")
    with pytest.raises(InvalidRequestError, match="not a valid form"):
        parse(FORM, "&".join(f"f{i}=1" for i in range(MAX_FIELDS + 1)).encode())
    with pytest.raises(InvalidRequestError, match="not a valid form"):
        parse(FORM, b"a=\xff")
    with pytest.raises(InvalidRequestError, match="x-www-form-urlencoded"):
        parse("application/json", b"{}")
