"""The server side of Cognito's ``USER_SRP_AUTH`` (SRP-6a, RFC 2945 / RFC 5054).

Cognito's flavour of SRP-6a is defined by its clients, which this module must match
byte for byte:

* aws-amplify/amplify-js ``packages/amazon-cognito-identity-js/src/AuthenticationHelper.js``
  and ``DateHelper.js``;
* NabuCasa/pycognito ``pycognito/aws_srp.py``.

Parameters (all hashes are SHA-256 over the *bytes* of an even-length hex string):

* ``N``: the RFC 5054 appendix A 3072-bit group prime, ``g = 2``;
* ``padHex(n)``: lowercase hex of ``n``, made even length, with ``00`` prepended when the
  top nibble is >= 8 (so the value reads as positive in two's complement);
* ``k = H(padHex(N) || padHex(g))``;
* ``x = H(padHex(salt) || SHA256_hex(poolName || userIdForSrp || ":" || password))`` where
  ``poolName`` is the part of the pool id after the underscore;
* ``v = g^x mod N`` (stored), ``B = (k*v + g^b) mod N`` (sent as ``SRP_B``);
* ``u = H(padHex(A) || padHex(B))``, which must not be zero;
* ``S = (A * v^u)^b mod N`` (the client computes ``(B - k*g^x)^(a + u*x) mod N``);
* ``key = HKDF-SHA256(ikm=padHex(S), salt=padHex(u), info="Caldera Derived Key")[:16]``;
* ``PASSWORD_CLAIM_SIGNATURE = base64(HMAC-SHA256(key, poolName || userIdForSrp ||
  base64decode(SECRET_BLOCK) || TIMESTAMP))``, ``TIMESTAMP`` being
  ``"ddd MMM D HH:mm:ss UTC YYYY"`` in English with the day of month not zero-padded.

Salts are always handed out in canonical ``padHex`` form: the JavaScript client parses
``SALT`` into a big integer before padding it while pycognito pads the string as given,
and the two only agree when the string is already canonical.

The server's ephemeral secret ``b`` has 256 bits: RFC 3526 section 8 and NIST SP 800-56A
size a private exponent at twice the group's security strength (128 bits for this
3072-bit group). All arithmetic is GMP's, through gmpy2:

* powers of the fixed base ``g`` (``g^b`` in :func:`start`, ``g^x`` for verifiers) use a
  table of ``g^(d * 2^(6i))`` built once per process (about 1 MB): 43 multiplications
  modulo ``N`` instead of a full exponentiation, about a sixth of its time. Being many
  short GMP calls, they hold the GIL like any Python code, so a worker thread would gain
  nothing: :func:`start` is for the caller's own thread;
* the two exponentiations of :func:`verify_claim` (variable bases) are GMP's ``powmod``
  with the GIL released while they run, so callers that hand them to a worker thread
  keep their event loop serving meanwhile.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import gmpy2

__all__ = [
    "EPHEMERAL_BITS",
    "INFO_BITS",
    "N_HEX",
    "G",
    "K",
    "N",
    "ServerChallenge",
    "fake_salt_and_verifier",
    "make_verifier",
    "pad_hex",
    "pool_short_name",
    "start",
    "timestamp_ok",
    "verify_claim",
]

#: RFC 5054 appendix A, 3072-bit group (the constant in both client sources).
N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"
    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"
    "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D"
    "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D"
    "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9"
    "DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64"
    "ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6B"
    "F12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB31"
    "43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
)
N = int(N_HEX, 16)
G = 2
INFO_BITS = b"Caldera Derived Key"
#: Bits of the server's private exponent b: twice the group's 128-bit strength.
EPHEMERAL_BITS = 256

_SALT_BYTES = 16
_N_MPZ = gmpy2.mpz(N)
_G_MPZ = gmpy2.mpz(G)
_SIGNATURE_BYTES = 32
# Generous bound on hex inputs (N itself is 768 hex digits) so a hostile SRP_A cannot
# make us do arithmetic on megabyte-sized integers.
_MAX_HEX_DIGITS = 2048
_HEX_RE = re.compile(r"[0-9a-fA-F]+", re.ASCII)

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TIMESTAMP_RE = re.compile(
    r"(?P<wd>Mon|Tue|Wed|Thu|Fri|Sat|Sun) "
    r"(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"(?P<day>[1-9]|[12][0-9]|3[01]) "
    r"(?P<h>[01][0-9]|2[0-3]):(?P<m>[0-5][0-9]):(?P<s>[0-5][0-9]) "
    r"UTC (?P<y>[0-9]{4})",
    re.ASCII,
)


def pad_hex(value: int) -> str:
    """Cognito's ``padHex`` for a non-negative integer: even-length lowercase hex,
    with ``00`` prepended when the top nibble is >= 8."""
    if value < 0:
        raise ValueError("pad_hex takes a non-negative integer")
    text = f"{value:x}"
    if len(text) % 2 == 1:
        return "0" + text
    if text[0] in "89abcdef":
        return "00" + text
    return text


def pool_short_name(pool_id: str) -> str:
    """The ``poolName`` used in SRP: the part of ``us-east-1_AbC123`` after the underscore
    (both clients take ``pool_id.split("_")[1]``)."""
    parts = pool_id.split("_")
    if len(parts) < 2:
        raise ValueError("a user pool id has the form <region>_<name>")
    return parts[1]


def _powmod(base: Any, exponent: int) -> Any:
    """``base ** exponent mod N`` (an ``mpz``) in GMP, with the GIL released."""
    # A fresh context in which GMP may release the GIL (gmpy2's default keeps it), entered
    # per call: a context object entered by two threads at once cannot be restored.
    with gmpy2.context(allow_release_gil=True):
        return gmpy2.powmod(base, exponent, _N_MPZ)


# Powers of g by a fixed-base window table: row i holds g^(d * 2^(_WINDOW * i)) for every
# digit d < 2^_WINDOW, so g^e is the product of one entry per base-2^_WINDOW digit of e.
# Each entry is kept plus N (the same value mod N), so every entry, 1 and the small powers
# of 2 included, is a full-size operand: no digit of a secret exponent makes its
# multiplication cheaper than another's.
_WINDOW = 6
_WINDOW_MASK = (1 << _WINDOW) - 1
_TABLE_ROWS = 43  # digits for exponents below 2^258 (b and x have 256 bits)
_table: list[list[Any]] = []
_table_lock = threading.Lock()


def _g_table() -> list[list[Any]]:
    """The table, built on first use (about 2,700 multiplications, once per process)."""
    if not _table:
        with _table_lock:
            if not _table:
                rows: list[list[Any]] = []
                base = _G_MPZ
                for _ in range(_TABLE_ROWS):
                    row = [gmpy2.mpz(1), base]
                    for _ in range(2, 1 << _WINDOW):
                        row.append(row[-1] * base % _N_MPZ)
                    base = row[-1] * base % _N_MPZ  # g^(2^(_WINDOW * (i + 1)))
                    rows.append([entry + _N_MPZ for entry in row])
                _table.extend(rows)
    return _table


def _g_pow(exponent: int) -> Any:
    """``g ** exponent mod N`` (an ``mpz``) for a non-negative exponent; the table's way
    when the exponent fits it (always the same number of multiplications), else ``powmod``."""
    if exponent >> (_WINDOW * _TABLE_ROWS):
        return _powmod(_G_MPZ, exponent)
    acc = gmpy2.mpz(1)
    for row in _g_table():
        acc = acc * row[exponent & _WINDOW_MASK] % _N_MPZ
        exponent >>= _WINDOW
    return acc


def _hash_hex_to_int(hex_string: str) -> int:
    """``H`` over the bytes of an even-length hex string, as an integer."""
    return int.from_bytes(hashlib.sha256(bytes.fromhex(hex_string)).digest(), "big")


K = _hash_hex_to_int(pad_hex(N) + pad_hex(G))
_K_MPZ = gmpy2.mpz(K)


def _parse_hex(text: str) -> int:
    """Strict hex parsing (``int(x, 16)`` would accept signs, ``0x``, ``_`` and spaces)."""
    if not isinstance(text, str) or len(text) > _MAX_HEX_DIGITS or not _HEX_RE.fullmatch(text):
        raise ValueError("not a hex string")
    return int(text, 16)


def _compute_x(pool_short: str, user_id_for_srp: str, password: str, salt: int) -> int:
    identity_hash = hashlib.sha256(f"{pool_short}{user_id_for_srp}:{password}".encode()).hexdigest()
    return _hash_hex_to_int(pad_hex(salt) + identity_hash)


def _compute_u(big_a: int, big_b: int) -> int:
    return _hash_hex_to_int(pad_hex(big_a) + pad_hex(big_b))


def _hkdf16(ikm: bytes, salt: bytes) -> bytes:
    """Cognito's one-block HKDF-SHA256 (RFC 5869), truncated to 16 bytes."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    return hmac.new(prk, INFO_BITS + b"\x01", hashlib.sha256).digest()[:16]


def make_verifier(
    pool_short_name: str, user_id_for_srp: str, password: str, salt: bytes | None = None
) -> tuple[str, str]:
    """(salt_hex, verifier_hex) to store for a user; salt random 16 bytes by default.

    ``pool_short_name`` is the part of the pool id after the underscore (see
    :func:`pool_short_name`); ``user_id_for_srp`` is what will be sent as
    ``USER_ID_FOR_SRP`` (the username). Both hex strings are in canonical ``padHex``
    form; ``salt_hex`` is exactly what to send as ``SALT``.
    """
    if salt is None:
        salt = secrets.token_bytes(_SALT_BYTES)
    salt_int = int.from_bytes(salt, "big")
    x = _compute_x(pool_short_name, user_id_for_srp, password, salt_int)
    return pad_hex(salt_int), pad_hex(int(_g_pow(x)))


@dataclass(frozen=True)
class ServerChallenge:
    """What the server remembers between the two steps. ``b_hex`` is secret (kept out
    of ``repr``); ``B_hex`` is sent as ``SRP_B``; ``A_hex`` is the client's ``SRP_A``."""

    b_hex: str = field(repr=False)
    B_hex: str
    A_hex: str


def start(verifier_hex: str, A_hex: str) -> ServerChallenge:
    """Raise ValueError if A % N == 0. b: EPHEMERAL_BITS random bits (secrets module).

    Also raises ValueError when ``A_hex`` or ``verifier_hex`` is not plain hex.
    """
    big_a = _parse_hex(A_hex)
    if big_a % N == 0:
        raise ValueError("SRP_A must not be 0 mod N")
    v = _parse_hex(verifier_hex)
    while True:
        small_b = secrets.randbits(EPHEMERAL_BITS)
        if small_b < 2:  # b must not be 0 or 1 (B would not hide v)
            continue
        big_b = int((_K_MPZ * v + _g_pow(small_b)) % _N_MPZ)
        # Both are astronomically unlikely; drawing again keeps the session usable.
        if big_b != 0 and _compute_u(big_a, big_b) != 0:
            break
    return ServerChallenge(b_hex=f"{small_b:x}", B_hex=f"{big_b:x}", A_hex=A_hex)


def _parse_timestamp(timestamp: str) -> datetime | None:
    """Strictly parse Cognito's ``TIMESTAMP``; None unless well formed (incl. weekday)."""
    if not isinstance(timestamp, str):
        return None
    match = _TIMESTAMP_RE.fullmatch(timestamp)
    if match is None:
        return None
    try:
        when = datetime(
            int(match["y"]),
            _MONTHS.index(match["mon"]) + 1,
            int(match["day"]),
            int(match["h"]),
            int(match["m"]),
            int(match["s"]),
            tzinfo=UTC,
        )
    except ValueError:  # e.g. "Feb 30" or year 0000
        return None
    if _WEEKDAYS[when.weekday()] != match["wd"]:
        return None
    return when


def verify_claim(
    pool_short_name: str,
    user_id_for_srp: str,
    verifier_hex: str,
    challenge: ServerChallenge,
    secret_block_b64: str,
    timestamp: str,
    signature_b64: str,
) -> bool:
    """True only if the client's PASSWORD_CLAIM_SIGNATURE is right; constant-time compare
    (hmac.compare_digest); False on any malformed input (bad base64 etc.), never raise.
    u == 0 -> False.

    ``secret_block_b64`` must be the SECRET_BLOCK the server issued (the caller checks
    the echoed PASSWORD_CLAIM_SECRET_BLOCK against it). ``timestamp`` must be in
    Cognito's exact format (a zero-padded day or wrong weekday gives False, as on AWS);
    its freshness is *not* checked here, see :func:`timestamp_ok`.
    """
    try:
        if _parse_timestamp(timestamp) is None:
            return False
        big_a = _parse_hex(challenge.A_hex)
        big_b = _parse_hex(challenge.B_hex)
        small_b = _parse_hex(challenge.b_hex)
        v = _parse_hex(verifier_hex)
        if big_a % N == 0:
            return False
        u = _compute_u(big_a, big_b)
        if u == 0:
            return False
        secret_block = base64.b64decode(secret_block_b64, validate=True)
        claimed = base64.b64decode(signature_b64, validate=True)
        if len(claimed) != _SIGNATURE_BYTES:
            return False
        s = int(_powmod(big_a * _powmod(v, u) % _N_MPZ, small_b))
        key = _hkdf16(bytes.fromhex(pad_hex(s)), bytes.fromhex(pad_hex(u)))
        message = (
            pool_short_name.encode("utf-8")
            + user_id_for_srp.encode("utf-8")
            + secret_block
            + timestamp.encode("utf-8")
        )
        expected = hmac.new(key, message, hashlib.sha256).digest()
        return hmac.compare_digest(expected, claimed)
    except (ValueError, TypeError, AttributeError):  # binascii.Error is a ValueError
        return False


def _length_prefixed(*parts: bytes) -> bytes:
    return b"".join(len(p).to_bytes(4, "big") + p for p in parts)


def fake_salt_and_verifier(seed_key: bytes, pool_id: str, username: str) -> tuple[str, str]:
    """A stable fake (salt_hex, verifier_hex) for an unknown user, derived by HMAC from a
    server secret, so an unknown user gets the same salt each time (PreventUserExistenceErrors).

    The caller should pass the username normalised the way the pool compares usernames
    (e.g. lowercased for case-insensitive pools), so that spelling variants of one
    unknown name get one salt, just as a real user would.

    The verifier never leaves the server (``B = kv + g^b`` hides it as it hides a real
    one). It is the square mod ``N`` of a secret 3,200-bit value, a quadratic residue like
    every real verifier ``g^x`` (2 is one mod ``N``); a password matching it would take a
    discrete logarithm. One multiplication, where ``g^x`` would cost an exponentiation: an
    unknown user's sign-in costs about what a real one's unsealing of its verifier does.
    """
    ident = _length_prefixed(pool_id.encode("utf-8"), username.encode("utf-8"))
    salt = hmac.new(seed_key, b"cognate/srp/fake-salt\x00" + ident, hashlib.sha256).digest()[:_SALT_BYTES]
    secret = hmac.new(seed_key, b"cognate/srp/fake-verifier\x00" + ident, hashlib.sha256).digest()
    root = gmpy2.mpz(int.from_bytes(hashlib.shake_256(secret).digest(400), "big")) % _N_MPZ
    verifier = int(root * root % _N_MPZ) or 4  # 0 only if the hash hit a multiple of N
    return pad_hex(int.from_bytes(salt, "big")), pad_hex(verifier)


def timestamp_ok(timestamp: str, now: float, max_skew_s: int = 300) -> bool:
    """Parse Cognito's TIMESTAMP format strictly (English day/month names, day without
    leading zero, 'UTC'); False if zero-padded day, wrong weekday, unparsable, or off by
    more than max_skew_s.

    ``now`` is POSIX seconds (``time.time()``); the skew is allowed either way.
    """
    when = _parse_timestamp(timestamp)
    if when is None:
        return False
    return abs(when.timestamp() - now) <= max_skew_s
