"""crypto/sealing.py: AES-256-GCM under the master key, bound to a purpose."""

from __future__ import annotations

import base64

import pytest

from cognate.crypto.sealing import Sealer, SealError, key_id, looks_sealed, new_master_key


def test_round_trip() -> None:
    sealer = Sealer(new_master_key())
    for text in ("", "client-secret", "é" * 1000, "-----BEGIN PRIVATE KEY-----\nabc\n"):
        sealed = sealer.seal(text, "client-secret")
        assert sealed.startswith("v1.")
        assert text not in sealed or text == ""
        assert sealer.unseal(sealed, "client-secret") == text


def test_master_key_is_32_random_bytes() -> None:
    keys = {new_master_key() for _ in range(20)}
    assert len(keys) == 20
    for key in keys:
        assert len(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))) == 32
        assert "=" not in key


def test_every_seal_uses_a_fresh_nonce() -> None:
    sealer = Sealer(new_master_key())
    assert len({sealer.seal("same", "p") for _ in range(50)}) == 50


def test_the_purpose_is_bound() -> None:
    sealer = Sealer(new_master_key())
    sealed = sealer.seal("secret", "client-secret")
    with pytest.raises(SealError):
        sealer.unseal(sealed, "signing-key")


def test_another_master_key_cannot_unseal() -> None:
    sealed = Sealer(new_master_key()).seal("secret", "p")
    with pytest.raises(SealError):
        Sealer(new_master_key()).unseal(sealed, "p")


def test_the_same_master_key_in_two_processes_can() -> None:
    key = new_master_key()
    assert Sealer(key).unseal(Sealer(key).seal("shared", "p"), "p") == "shared"


@pytest.mark.parametrize(
    "damage",
    [
        lambda s: s[:-2] + ("A" if s[-2] != "A" else "B") + s[-1],  # flipped ciphertext/tag
        lambda s: s[:10],  # truncated
        lambda s: "v2." + s[3:],  # unknown version
        lambda s: s[3:],  # no version
        lambda s: "v1.%%%not-base64%%%",
        lambda s: "v1.",
        lambda s: "",
    ],
)
def test_damaged_values_raise_seal_error(damage: object) -> None:
    sealer = Sealer(new_master_key())
    sealed = sealer.seal("secret", "p")
    with pytest.raises(SealError):
        sealer.unseal(damage(sealed), "p")  # type: ignore[operator]


@pytest.mark.parametrize("bad", ["", "c2hvcnQ", base64.urlsafe_b64encode(b"x" * 31).decode(), "A" * 64])
def test_bad_master_keys_are_refused(bad: str) -> None:
    with pytest.raises(SealError, match="32 bytes"):
        Sealer(bad)


def test_seal_error_is_a_value_error() -> None:
    assert issubclass(SealError, ValueError)


def test_a_key_ring_seals_with_the_master_key_and_opens_with_every_key() -> None:
    old, new = new_master_key(), new_master_key()
    before = Sealer(old).seal("secret", "p")
    ring = Sealer(new, [old])
    assert ring.unseal(before, "p") == "secret"
    after = ring.seal("secret", "p")
    assert Sealer(new).unseal(after, "p") == "secret"
    with pytest.raises(SealError):
        Sealer(old).unseal(after, "p")  # the accepted key never seals
    assert ring.key_ids == (key_id(new), key_id(old))
    assert key_id(new) == key_id(new) and key_id(new) != key_id(old) and new not in key_id(new)


def test_reseal_moves_only_what_an_accepted_key_sealed() -> None:
    old, new = new_master_key(), new_master_key()
    ring = Sealer(new, [old])
    stale = Sealer(old).seal("totp-key", "totp-secret")
    moved = ring.reseal(stale, ["client-secret", "totp-secret"])
    assert moved is not None and Sealer(new).unseal(moved, "totp-secret") == "totp-key"
    assert ring.reseal(moved, ["totp-secret"]) is None  # already under the master key
    assert ring.reseal(stale, ["client-secret"]) is None  # a purpose not asked for: left alone
    assert ring.reseal("$argon2id$v=19$...", ["p"]) is None and ring.reseal("v1.short", ["p"]) is None
    foreign = Sealer(new_master_key()).seal("x", "p")
    assert ring.reseal(foreign, ["p"]) is None  # opens under no key of the ring: left alone
    assert looks_sealed(stale) and not looks_sealed("v1.not sealed")


def test_digests_of_every_key_verify() -> None:
    old, new = new_master_key(), new_master_key()
    made_before = Sealer(old).digest("code", "one-time-code")
    ring = Sealer(new, [old])
    assert ring.digest("code", "one-time-code") == Sealer(new).digest("code", "one-time-code")
    assert ring.digest_matches("code", "one-time-code", made_before)
    assert not Sealer(new).digest_matches("code", "one-time-code", made_before)
    assert not ring.digest_matches("other", "one-time-code", made_before)
