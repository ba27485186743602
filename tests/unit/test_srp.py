"""USER_SRP_AUTH server maths, driven by the real client: pycognito's ``AWSSRP``, in-process."""

from __future__ import annotations

import base64
import calendar
import os
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pycognito import aws_srp

from cognate.crypto import srp

# pycognito's process_challenge calls datetime.utcnow(), deprecated from Python 3.12 on.
pytestmark = pytest.mark.filterwarnings("ignore:datetime.datetime.utcnow:DeprecationWarning")

POOL_ID = "us-east-1_AbCdEf123"
POOL = "AbCdEf123"
FIXED_TS = "Wed Apr 5 22:42:34 UTC 2017"
FIXED_EPOCH = calendar.timegm((2017, 4, 5, 22, 42, 34))


class _NoNetwork:
    """Stands in for the boto3 client so AWSSRP never talks to AWS."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected AWS call: {name}")


def _client(username: str, password: str, timestamp: str | None = None) -> aws_srp.AWSSRP:
    client = aws_srp.AWSSRP(
        username=username, password=password, pool_id=POOL_ID, client_id="x", client=_NoNetwork()
    )
    if timestamp is not None:
        client.get_cognito_formatted_timestamp = lambda _dt: timestamp
    return client


@dataclass
class Exchange:
    user_id: str
    verifier_hex: str
    challenge: srp.ServerChallenge
    secret_block: str
    response: dict[str, str]

    def verify(self, **overrides: Any) -> bool:
        args: dict[str, Any] = {
            "pool_short_name": POOL,
            "user_id_for_srp": self.user_id,
            "verifier_hex": self.verifier_hex,
            "challenge": self.challenge,
            "secret_block_b64": self.secret_block,
            "timestamp": self.response["TIMESTAMP"],
            "signature_b64": self.response["PASSWORD_CLAIM_SIGNATURE"],
        }
        args.update(overrides)
        return srp.verify_claim(**args)


def _exchange(
    stored_password: str = "Corr3ct-Horse!",
    client_password: str | None = None,
    *,
    typed_username: str = "alice",
    user_id: str = "alice",
    salt: bytes | None = None,
    timestamp: str | None = None,
) -> Exchange:
    """InitiateAuth + RespondToAuthChallenge as Cognito runs them, against pycognito."""
    salt_hex, verifier_hex = srp.make_verifier(POOL, user_id, stored_password, salt)
    client = _client(
        typed_username, stored_password if client_password is None else client_password, timestamp
    )
    auth_params = client.get_auth_params()
    challenge = srp.start(verifier_hex, auth_params["SRP_A"])
    assert challenge.A_hex == auth_params["SRP_A"]
    secret_block = base64.b64encode(os.urandom(64)).decode()
    challenge_parameters = {
        "SALT": salt_hex,
        "SRP_B": challenge.B_hex,
        "SECRET_BLOCK": secret_block,
        "USER_ID_FOR_SRP": user_id,
        "USERNAME": user_id,
    }
    response = client.process_challenge(challenge_parameters, auth_params)
    assert response["PASSWORD_CLAIM_SECRET_BLOCK"] == secret_block
    assert response["USERNAME"] == user_id
    return Exchange(user_id, verifier_hex, challenge, secret_block, response)


# --- interop with the real client -------------------------------------------------------


def test_right_password_verifies() -> None:
    ex = _exchange()
    assert ex.verify() is True
    assert srp.timestamp_ok(ex.response["TIMESTAMP"], datetime.now(UTC).timestamp())


@pytest.mark.parametrize(
    "salt",
    [
        None,
        b"\x00\x00" + bytes(range(1, 15)),  # leading zero bytes: canonical hex is shorter
        b"\xff" * 16,  # top nibble >= 8: canonical hex gains "00"
        b"\x08" + b"\x00" * 15,  # odd-length unpadded hex
        bytes(16),
    ],
)
def test_interop_across_salt_shapes(salt: bytes | None) -> None:
    assert _exchange(salt=salt).verify() is True


def test_interop_many_runs() -> None:
    # Ephemeral values vary, so this exercises padHex of A, B, S and u both ways.
    for i in range(12):
        password = f"pässwörd-{i}-✓"
        assert _exchange(password, user_id=f"user{i}", typed_username=f"user{i}").verify() is True


def test_alias_sign_in_uses_user_id_for_srp() -> None:
    ex = _exchange(typed_username="alice@example.com", user_id="7b1f0c9e-alice")
    assert ex.verify() is True
    assert ex.verify(user_id_for_srp="alice@example.com") is False


def test_fixed_timestamp_signed_by_client_verifies() -> None:
    ex = _exchange(timestamp=FIXED_TS)
    assert ex.response["TIMESTAMP"] == FIXED_TS
    assert ex.verify() is True  # format only; freshness is timestamp_ok's job


def test_wrong_password_fails() -> None:
    assert _exchange("Corr3ct-Horse!", "corr3ct-Horse!").verify() is False
    assert _exchange("Corr3ct-Horse!", "").verify() is False


def test_tampered_signature_fails() -> None:
    ex = _exchange()
    sig = bytearray(base64.b64decode(ex.response["PASSWORD_CLAIM_SIGNATURE"]))
    sig[7] ^= 0x01
    assert ex.verify(signature_b64=base64.b64encode(bytes(sig)).decode()) is False
    assert ex.verify(signature_b64=base64.b64encode(bytes(sig[:-1])).decode()) is False
    assert ex.verify(signature_b64="") is False


def test_different_secret_block_fails() -> None:
    ex = _exchange()
    other = base64.b64encode(os.urandom(64)).decode()
    assert ex.verify(secret_block_b64=other) is False


def test_zero_padded_timestamp_fails_even_if_signed() -> None:
    padded = "Wed Apr 05 22:42:34 UTC 2017"
    ex = _exchange(timestamp=padded)
    assert ex.response["TIMESTAMP"] == padded
    assert ex.verify() is False


def test_wrong_weekday_timestamp_fails_even_if_signed() -> None:
    assert _exchange(timestamp="Thu Apr 5 22:42:34 UTC 2017").verify() is False


def test_timestamp_other_than_signed_fails() -> None:
    ex = _exchange(timestamp=FIXED_TS)
    assert ex.verify(timestamp="Wed Apr 5 22:42:35 UTC 2017") is False


def test_other_pool_user_or_challenge_fails() -> None:
    ex = _exchange()
    assert ex.verify(pool_short_name="Other123") is False
    assert ex.verify(user_id_for_srp="bob") is False
    fresh = srp.start(ex.verifier_hex, ex.challenge.A_hex)
    assert ex.verify(challenge=fresh) is False
    _, other_verifier = srp.make_verifier(POOL, "alice", "something else")
    assert ex.verify(verifier_hex=other_verifier) is False


@pytest.mark.parametrize(
    "overrides",
    [
        {"signature_b64": "not base64!!"},
        {"signature_b64": "äöü"},
        {"signature_b64": "QUJD"},  # valid base64, wrong length
        {"signature_b64": None},
        {"secret_block_b64": "%%%"},
        {"secret_block_b64": "QUJDRA"},  # bad padding
        {"timestamp": ""},
        {"timestamp": "Wed Apr 5 22:42:34 UTC 2017\ud800"},
        {"pool_short_name": "\ud800"},
        {"user_id_for_srp": None},
        {"verifier_hex": "xyz"},
        {"verifier_hex": "-1f"},
        {"challenge": srp.ServerChallenge(b_hex="0x12", B_hex="12", A_hex="12")},
        {"challenge": srp.ServerChallenge(b_hex="12", B_hex="12", A_hex="0")},
        {"challenge": srp.ServerChallenge(b_hex="12", B_hex="12", A_hex=srp.N_HEX)},
        {"challenge": srp.ServerChallenge(b_hex="12", B_hex="12", A_hex="f" * 5000)},
        {"challenge": None},
    ],
)
def test_malformed_input_is_false_not_an_exception(overrides: dict[str, Any]) -> None:
    ex = _exchange(timestamp=FIXED_TS)
    assert ex.verify(**overrides) is False


def test_u_zero_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    ex = _exchange()
    monkeypatch.setattr(srp, "_compute_u", lambda _a, _b: 0)
    assert ex.verify() is False


# --- start --------------------------------------------------------------------------------


@pytest.mark.parametrize("a_hex", ["0", "00", srp.N_HEX, f"{2 * srp.N:x}"])
def test_start_rejects_a_zero_mod_n(a_hex: str) -> None:
    _, verifier = srp.make_verifier(POOL, "alice", "pw")
    with pytest.raises(ValueError):
        srp.start(verifier, a_hex)


@pytest.mark.parametrize("a_hex", ["", "xyz", "-1", "0x10", " 10", "1_0", "f" * 5000])
def test_start_rejects_non_hex_a(a_hex: str) -> None:
    _, verifier = srp.make_verifier(POOL, "alice", "pw")
    with pytest.raises(ValueError):
        srp.start(verifier, a_hex)


def test_start_values_and_secrecy() -> None:
    _, verifier = srp.make_verifier(POOL, "alice", "pw")
    a_hex = _client("alice", "pw").get_auth_params()["SRP_A"]
    one, two = srp.start(verifier, a_hex), srp.start(verifier, a_hex)
    assert one.b_hex != two.b_hex and one.B_hex != two.B_hex
    big_b = int(one.B_hex, 16)
    assert 0 < big_b < srp.N
    assert big_b == (srp.K * int(verifier, 16) + pow(srp.G, int(one.b_hex, 16), srp.N)) % srp.N
    assert one.b_hex not in repr(one)
    with pytest.raises(AttributeError):
        one.b_hex = "1"  # type: ignore[misc]


def test_private_exponent_has_256_bits() -> None:
    """RFC 3526 s.8 / NIST SP 800-56A: twice the group's 128-bit strength, drawn afresh."""
    _, verifier = srp.make_verifier(POOL, "alice", "pw")
    a_hex = _client("alice", "pw").get_auth_params()["SRP_A"]
    lengths = [int(srp.start(verifier, a_hex).b_hex, 16).bit_length() for _ in range(64)]
    assert srp.EPHEMERAL_BITS >= 256
    assert max(lengths) == srp.EPHEMERAL_BITS
    assert min(lengths) > srp.EPHEMERAL_BITS - 16  # not a short exponent now and then


@pytest.mark.parametrize("bits", [0, 1, 5, 6, 7, 64, 255, 256, 257, 258, 259, 512, 3072])
def test_fixed_base_table_powers_match_pow(bits: int) -> None:
    """g^e from the window table (or powmod past its 258 bits) is exactly pow(g, e, N)."""
    rng = random.Random(bits)
    for exponent in {0, 1, (1 << bits) - 1, rng.getrandbits(bits) if bits else 0}:
        assert srp._g_pow(exponent) == pow(srp.G, exponent, srp.N)


def test_exchanges_in_worker_threads_agree_with_the_client() -> None:
    """The GMP work runs in executor threads with the GIL released: results stay exact."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        oks = list(
            pool.map(
                lambda i: _exchange("pw", "pw", typed_username=f"user{i}", user_id=f"user{i}").verify(),
                range(8),
            )
        )
        bads = list(
            pool.map(
                lambda i: _exchange("pw", "wrong", typed_username=f"user{i}", user_id=f"user{i}").verify(),
                range(8),
            )
        )
    assert oks == [True] * 8
    assert bads == [False] * 8


# --- constants and verifier ---------------------------------------------------------------


def test_constants_match_client() -> None:
    client = _client("alice", "pw")
    assert srp.N == client.big_n
    assert srp.G == client.val_g
    assert srp.K == client.val_k
    assert srp.N.bit_length() == 3072


def test_pad_hex_matches_client() -> None:
    rng = random.Random(1234)
    values = [1, 0x7F, 0x80, 0xFF, 0x100, 0x8000, srp.N] + [
        rng.getrandbits(rng.randint(1, 3072)) for _ in range(200)
    ]
    for value in values:
        assert srp.pad_hex(value) == aws_srp.pad_hex(value)
    assert srp.pad_hex(0x80) == "0080"
    assert srp.pad_hex(0xABC) == "0abc"
    with pytest.raises(ValueError):
        srp.pad_hex(-1)


def test_pool_short_name() -> None:
    assert srp.pool_short_name(POOL_ID) == POOL
    with pytest.raises(ValueError):
        srp.pool_short_name("nounderscore")


def test_make_verifier_matches_client_formula() -> None:
    salt = bytes.fromhex("9a" * 16)
    salt_hex, verifier_hex = srp.make_verifier(POOL, "alice", "pw", salt)
    assert salt_hex == "00" + "9a" * 16
    x = aws_srp.hex_to_long(
        aws_srp.hex_hash(aws_srp.pad_hex(salt_hex) + aws_srp.hash_sha256(f"{POOL}alice:pw".encode()))
    )
    assert int(verifier_hex, 16) == pow(2, x, srp.N)
    assert verifier_hex == srp.pad_hex(int(verifier_hex, 16))


def test_make_verifier_deterministic_for_salt() -> None:
    salt = os.urandom(16)
    assert srp.make_verifier(POOL, "alice", "pw", salt) == srp.make_verifier(POOL, "alice", "pw", salt)
    base = srp.make_verifier(POOL, "alice", "pw", salt)[1]
    assert srp.make_verifier(POOL, "alice", "pw2", salt)[1] != base
    assert srp.make_verifier(POOL, "bob", "pw", salt)[1] != base
    assert srp.make_verifier("Other123", "alice", "pw", salt)[1] != base
    assert srp.make_verifier(POOL, "alice", "pw", os.urandom(16))[1] != base


def test_make_verifier_random_salt_by_default() -> None:
    (s1, v1), (s2, v2) = srp.make_verifier(POOL, "alice", "pw"), srp.make_verifier(POOL, "alice", "pw")
    assert s1 != s2 and v1 != v2
    assert len(bytes.fromhex(s1).lstrip(b"\x00")) <= 16


# --- fake users ---------------------------------------------------------------------------


def test_fake_salt_and_verifier_stable_and_distinct() -> None:
    key = b"k" * 32
    first = srp.fake_salt_and_verifier(key, POOL_ID, "ghost")
    assert srp.fake_salt_and_verifier(key, POOL_ID, "ghost") == first
    assert srp.fake_salt_and_verifier(key, POOL_ID, "ghost2") != first
    assert srp.fake_salt_and_verifier(key, POOL_ID, "ghost2")[0] != first[0]
    assert srp.fake_salt_and_verifier(key, "us-east-1_Zz9", "ghost") != first
    assert srp.fake_salt_and_verifier(b"j" * 32, POOL_ID, "ghost") != first
    salt_hex, verifier_hex = first
    assert salt_hex == srp.pad_hex(int(salt_hex, 16))
    assert verifier_hex == srp.pad_hex(int(verifier_hex, 16))
    assert 0 < int(verifier_hex, 16) < srp.N


def test_fake_verifier_runs_the_protocol_but_never_verifies() -> None:
    salt_hex, verifier_hex = srp.fake_salt_and_verifier(b"k" * 32, POOL_ID, "ghost")
    client = _client("ghost", "anything")
    auth_params = client.get_auth_params()
    challenge = srp.start(verifier_hex, auth_params["SRP_A"])
    secret_block = base64.b64encode(os.urandom(48)).decode()
    response = client.process_challenge(
        {
            "SALT": salt_hex,
            "SRP_B": challenge.B_hex,
            "SECRET_BLOCK": secret_block,
            "USER_ID_FOR_SRP": "ghost",
            "USERNAME": "ghost",
        },
        auth_params,
    )
    ok = srp.verify_claim(
        POOL,
        "ghost",
        verifier_hex,
        challenge,
        secret_block,
        response["TIMESTAMP"],
        response["PASSWORD_CLAIM_SIGNATURE"],
    )
    assert ok is False


# --- timestamps ---------------------------------------------------------------------------


def test_timestamp_ok_window() -> None:
    assert srp.timestamp_ok(FIXED_TS, FIXED_EPOCH) is True
    assert srp.timestamp_ok(FIXED_TS, FIXED_EPOCH + 300) is True
    assert srp.timestamp_ok(FIXED_TS, FIXED_EPOCH - 300) is True
    assert srp.timestamp_ok(FIXED_TS, FIXED_EPOCH + 301) is False
    assert srp.timestamp_ok(FIXED_TS, FIXED_EPOCH - 301) is False
    assert srp.timestamp_ok(FIXED_TS, FIXED_EPOCH + 30, max_skew_s=10) is False


@pytest.mark.parametrize(
    ("timestamp", "epoch"),
    [
        ("Sat Apr 15 01:02:03 UTC 2017", calendar.timegm((2017, 4, 15, 1, 2, 3))),
        ("Thu Feb 29 23:59:59 UTC 2024", calendar.timegm((2024, 2, 29, 23, 59, 59))),
        ("Mon Jan 1 00:00:00 UTC 2024", calendar.timegm((2024, 1, 1, 0, 0, 0))),
    ],
)
def test_timestamp_ok_accepts(timestamp: str, epoch: int) -> None:
    assert srp.timestamp_ok(timestamp, epoch) is True


@pytest.mark.parametrize(
    "timestamp",
    [
        "Wed Apr 05 22:42:34 UTC 2017",  # zero-padded day
        "Thu Apr 5 22:42:34 UTC 2017",  # wrong weekday
        "Wed Apr  5 22:42:34 UTC 2017",  # double space
        "wed apr 5 22:42:34 UTC 2017",
        "WED APR 5 22:42:34 UTC 2017",
        "Wednesday April 5 22:42:34 UTC 2017",
        "Wed Apr 5 22:42:34 GMT 2017",
        "Wed Apr 5 22:42:34 utc 2017",
        "Wed Apr 5 22:42:34 2017",
        "Wed Apr 5 2:42:34 UTC 2017",
        "Wed Apr 5 22:42:60 UTC 2017",
        "Wed Apr 5 24:42:34 UTC 2017",
        "Wed Apr 5 22:42:34 UTC 17",
        "Wed Apr 5 22:42:34 UTC 2017 ",
        " Wed Apr 5 22:42:34 UTC 2017",
        "Wed Apr 5 22:42:34 UTC 2017\n",
        "Wed Apr 5 22:42:34.000 UTC 2017",
        "Thu Feb 30 22:42:34 UTC 2017",
        "Wed Apr 5 ２２:42:34 UTC 2017",  # fullwidth digits
        "2017-04-05T22:42:34Z",
        "",
    ],
)
def test_timestamp_ok_rejects(timestamp: str) -> None:
    assert srp.timestamp_ok(timestamp, FIXED_EPOCH) is False


def test_timestamp_ok_accepts_every_day_the_client_formats() -> None:
    rng = random.Random(5)
    day = datetime(2023, 1, 1, tzinfo=UTC)
    for _ in range(2 * 366):
        moment = day + timedelta(seconds=rng.randrange(86400))
        formatted = aws_srp.AWSSRP.get_cognito_formatted_timestamp(moment.replace(tzinfo=None))
        assert srp.timestamp_ok(formatted, moment.timestamp(), max_skew_s=0), formatted
        day += timedelta(days=1)
