"""core/password_policy.py: Cognito's default policy, its checks and messages, generated passwords."""

from __future__ import annotations

from typing import Any

import pytest

from cognate.core.password_policy import DEFAULT_POLICY, SYMBOLS, check, generate, policy_of, problems
from cognate.errors import InvalidPasswordException

DEFAULT = dict(DEFAULT_POLICY)
NOTHING = {
    "MinimumLength": 6,
    "RequireUppercase": False,
    "RequireLowercase": False,
    "RequireNumbers": False,
    "RequireSymbols": False,
    "TemporaryPasswordValidityDays": 7,
}


def test_cognitos_defaults() -> None:
    assert DEFAULT_POLICY == {
        "MinimumLength": 8,
        "RequireUppercase": True,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "TemporaryPasswordValidityDays": 7,
    }


def test_policy_of_merges_the_pools_policy_over_the_defaults() -> None:
    assert policy_of({}) == DEFAULT_POLICY
    assert policy_of({"Policies": {}}) == DEFAULT_POLICY
    got = policy_of({"Policies": {"PasswordPolicy": {"MinimumLength": 12, "RequireSymbols": False}}})
    assert got == {**DEFAULT_POLICY, "MinimumLength": 12, "RequireSymbols": False}


def test_policy_of_does_not_share_the_defaults() -> None:
    policy_of({})["MinimumLength"] = 99
    assert DEFAULT_POLICY["MinimumLength"] == 8


@pytest.mark.parametrize("good", ["Passw0rd!", "Aa1^aaaa", "Zz9 zz z~", "ÄäÖöAa12$%"])
def test_good_passwords(good: str) -> None:
    assert problems(DEFAULT, good) == []
    check(DEFAULT, good)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Pa0!", "Password not long enough"),
        ("passw0rd!", "Password must have uppercase characters"),
        ("PASSW0RD!", "Password must have lowercase characters"),
        ("Password!", "Password must have numeric characters"),
        ("Passw0rdd", "Password must have symbol characters"),
        ("Passw0rd d", "Password must have symbol characters"),  # an inner space is not a symbol
    ],
)
def test_each_rule_with_cognitos_message(password: str, message: str) -> None:
    assert problems(DEFAULT, password) == [message]
    with pytest.raises(InvalidPasswordException) as exc:
        check(DEFAULT, password)
    assert exc.value.message == f"Password did not conform with policy: {message}"


def test_the_first_broken_rule_is_named() -> None:
    assert problems(DEFAULT, "abc") == [
        "Password not long enough",
        "Password must have uppercase characters",
        "Password must have numeric characters",
        "Password must have symbol characters",
    ]
    with pytest.raises(InvalidPasswordException, match="not long enough"):
        check(DEFAULT, "abc")


@pytest.mark.parametrize("symbol", sorted(set(SYMBOLS) - {" "}))
def test_every_documented_symbol_counts(symbol: str) -> None:
    assert problems(DEFAULT, f"Passw0rd{symbol}") == []


def test_documented_symbol_set() -> None:
    # Cognito developer guide, "Password requirements": the special characters.
    assert set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-") <= set(SYMBOLS)


def test_lenient_policy() -> None:
    check(NOTHING, "aaaaaa")
    with pytest.raises(InvalidPasswordException, match="not long enough"):
        check(NOTHING, "aaaaa")


@pytest.mark.parametrize("password", [" Passw0rd!", "Passw0rd! "])
def test_leading_or_trailing_spaces_are_refused(password: str) -> None:
    with pytest.raises(InvalidPasswordException, match="space"):
        check(DEFAULT, password)


def test_too_long() -> None:
    check(NOTHING, "a" * 256)
    with pytest.raises(InvalidPasswordException, match="too long"):
        check(NOTHING, "a" * 257)


@pytest.mark.parametrize(
    "policy",
    [DEFAULT, NOTHING, {**DEFAULT, "MinimumLength": 6}, {**DEFAULT, "MinimumLength": 99}],
)
def test_generated_passwords_satisfy_their_policy(policy: dict[str, Any]) -> None:
    seen = set()
    for _ in range(200):
        pw = generate(policy)
        check(policy, pw)
        check(DEFAULT, pw)  # always strong, whatever the pool asks
        assert len(pw) >= max(12, policy["MinimumLength"])
        seen.add(pw)
    assert len(seen) == 200


def test_only_ascii_letters_and_digits_count() -> None:
    """Cognito's classes are A-Z, a-z and 0-9: other Unicode letters and digits don't count."""
    from cognate.core import password_policy as pp

    policy = dict(pp.DEFAULT_POLICY)
    assert "Password must have numeric characters" in pp.problems(policy, "Abcdefg²!")
    assert "Password must have uppercase characters" in pp.problems(policy, "Ébcdefg1!")
    assert "Password must have lowercase characters" in pp.problems(policy, "ABCDEFGß1!")
