"""crypto/passwords.py: argon2id at OWASP's parameters; the low cost is for tests only."""

from __future__ import annotations

import pytest
from argon2 import extract_parameters

from cognate.crypto.passwords import OWASP, Passwords


@pytest.fixture(scope="module")
def owasp() -> Passwords:
    return Passwords()


@pytest.fixture(scope="module")
def low() -> Passwords:
    return Passwords("low")


def test_default_hashes_are_argon2id_at_owasp_parameters(owasp: Passwords) -> None:
    h = owasp.hash("Passw0rd!")
    assert h.startswith("$argon2id$")
    params = extract_parameters(h)
    assert params.memory_cost >= 19 * 1024
    assert params.time_cost >= 2
    assert params.parallelism == 1
    assert (params.memory_cost, params.time_cost) == (OWASP["memory_cost"], OWASP["time_cost"])
    assert params.salt_len >= 16
    assert "Passw0rd!" not in h


def test_unknown_cost_names_fall_back_to_owasp() -> None:
    params = extract_parameters(Passwords("cheap please").hash("x"))
    assert params.memory_cost == OWASP["memory_cost"]


def test_verify(owasp: Passwords, low: Passwords) -> None:
    for ph in (owasp, low):
        h = ph.hash("Passw0rd!")
        assert ph.verify(h, "Passw0rd!") is True
        assert ph.verify(h, "passw0rd!") is False
        assert ph.verify(h, "") is False


def test_hashes_are_salted(low: Passwords) -> None:
    assert low.hash("same") != low.hash("same")


def test_a_hash_made_at_one_cost_verifies_at_another(owasp: Passwords, low: Passwords) -> None:
    assert owasp.verify(low.hash("pw"), "pw")


def test_absent_hash_never_verifies(low: Passwords) -> None:
    assert low.verify(None, "cognate-dummy-password-for-timing") is False
    assert low.verify(None, "anything") is False
    assert low.dummy_hash.startswith("$argon2id$")


@pytest.mark.parametrize("garbage", ["", "not-a-hash", "$argon2id$v=19$m=1,t=1,p=1$$", "$2b$12$abc"])
def test_garbage_hashes_do_not_verify(low: Passwords, garbage: str) -> None:
    assert low.verify(garbage, "pw") is False


def test_unicode_passwords(low: Passwords) -> None:
    h = low.hash("pässwörd🔑")
    assert low.verify(h, "pässwörd🔑")
    assert not low.verify(h, "passwörd🔑")
