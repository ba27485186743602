"""USER_SRP_AUTH load: whole SRP sign-ins (InitiateAuth, then RespondToAuthChallenge).

wrk cannot compute an SRP proof, so this is our own asyncio generator (keep-alive
HTTP/1.1 on raw streams, as ``loadgen.run_asyncio``). Each connection loops over:

1. ``InitiateAuth`` with ``AuthFlow=USER_SRP_AUTH`` and ``SRP_A``;
2. the client's half of SRP-6a, exactly as amazon-cognito-identity-js and pycognito
   compute it (``S = (B - k g^x)^(a + u x) mod N``, HKDF, HMAC over the secret block);
3. ``RespondToAuthChallenge`` with ``PASSWORD_VERIFIER``.

One sign-in is both requests; its latency runs from the first request out to the
tokens in. The client keeps its own cost low so that it never is the limit: ``x`` and
``g^x`` are computed once per user (the salt never changes), the ephemeral pairs
``(a, A = g^a)`` are drawn before the run and reused (the server's work does not
depend on it), and the big numbers go through gmpy2. What remains per sign-in is one
exponentiation with a 512-bit exponent, two hashes and the HTTP. The generator's own
CPU time is part of the result, so a figure taken with the client saturated shows.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import gmpy2

from bench.loadgen import Result, _read_response
from cognate.crypto import srp

TARGET = "AWSCognitoIdentityProviderService."
_N = gmpy2.mpz(srp.N)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _h(hex_string: str) -> int:
    return int.from_bytes(hashlib.sha256(bytes.fromhex(hex_string)).digest(), "big")


def timestamp(now: datetime | None = None) -> str:
    d = now or datetime.now(UTC)
    return f"{_WEEKDAYS[d.weekday()]} {_MONTHS[d.month - 1]} {d.day} {d:%H:%M:%S} UTC {d.year}"


@dataclass
class Ephemeral:
    a: Any  # mpz
    A_hex: str


def ephemerals(n: int) -> list[Ephemeral]:
    out = []
    for _ in range(n):
        a = gmpy2.mpz(secrets.randbits(256))
        out.append(Ephemeral(a, f"{int(gmpy2.powmod(srp.G, a, _N)):x}"))
    return out


class SrpClient:
    """The client's half of Cognito's SRP for one pool and one password."""

    def __init__(self, pool_id: str, password: str) -> None:
        self.pool_short = srp.pool_short_name(pool_id)
        self.password = password
        self._xv: dict[tuple[str, str], tuple[Any, Any]] = {}

    def proof(self, params: dict[str, str], eph: Ephemeral, when: str) -> dict[str, str]:
        user_id, salt_hex = params["USER_ID_FOR_SRP"], params["SALT"]
        xv = self._xv.get((user_id, salt_hex))
        if xv is None:
            ident = hashlib.sha256(f"{self.pool_short}{user_id}:{self.password}".encode()).hexdigest()
            x = gmpy2.mpz(_h(srp.pad_hex(int(salt_hex, 16)) + ident))
            xv = self._xv[(user_id, salt_hex)] = (x, gmpy2.powmod(srp.G, x, _N))
        x, v = xv
        big_b = int(params["SRP_B"], 16)
        u = _h(srp.pad_hex(int(eph.A_hex, 16)) + srp.pad_hex(big_b))
        base = (gmpy2.mpz(big_b) - srp.K * v) % _N
        s = int(gmpy2.powmod(base, eph.a + u * x, _N))
        prk = hmac.new(bytes.fromhex(srp.pad_hex(u)), bytes.fromhex(srp.pad_hex(s)), hashlib.sha256).digest()
        key = hmac.new(prk, srp.INFO_BITS + b"\x01", hashlib.sha256).digest()[:16]
        msg = (
            self.pool_short.encode()
            + user_id.encode()
            + base64.b64decode(params["SECRET_BLOCK"])
            + when.encode()
        )
        sig = base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
        return {
            "USERNAME": user_id,
            "PASSWORD_CLAIM_SECRET_BLOCK": params["SECRET_BLOCK"],
            "TIMESTAMP": when,
            "PASSWORD_CLAIM_SIGNATURE": sig,
        }


def _raw(host: str, port: int, op: str, body: dict[str, Any]) -> bytes:
    data = json.dumps(body).encode()
    head = (
        f"POST / HTTP/1.1\r\nHost: {host}:{port}\r\nX-Amz-Target: {TARGET}{op}\r\n"
        f"Content-Type: application/x-amz-json-1.1\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


async def run(
    host: str,
    port: int,
    *,
    pool_id: str,
    client_id: str,
    usernames: list[str],
    password: str,
    connections: int,
    duration: float,
) -> Result:
    """Keep ``connections`` sign-ins going for ``duration`` seconds, cycling over the users."""
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    client = SrpClient(pool_id, password)
    pairs = ephemerals(32)
    latencies: list[float] = []
    counts = {"errors": 0, "socket": 0}
    samples: list[str] = []
    users = itertools.cycle(usernames)
    pair_no = itertools.count()
    ts_cache: dict[int, str] = {}

    def now_ts() -> str:
        sec = int(time.time())
        text = ts_cache.get(sec)
        if text is None:
            ts_cache.clear()
            text = ts_cache[sec] = timestamp(datetime.fromtimestamp(sec, UTC))
        return text

    cpu0 = time.process_time()
    start = time.perf_counter()
    deadline = start + duration

    async def sign_in(reader: Any, writer: Any) -> tuple[int, bytes]:
        eph = pairs[next(pair_no) % len(pairs)]
        name = next(users)
        writer.write(
            _raw(
                host,
                port,
                "InitiateAuth",
                {
                    "AuthFlow": "USER_SRP_AUTH",
                    "ClientId": client_id,
                    "AuthParameters": {"USERNAME": name, "SRP_A": eph.A_hex},
                },
            )
        )
        status, _keep, body = await _read_response(reader)
        if status != 200:
            return status, body
        params = json.loads(body)["ChallengeParameters"]
        answers = client.proof(params, eph, now_ts())
        writer.write(
            _raw(
                host,
                port,
                "RespondToAuthChallenge",
                {"ChallengeName": "PASSWORD_VERIFIER", "ClientId": client_id, "ChallengeResponses": answers},
            )
        )
        status, _keep, body = await _read_response(reader)
        if status == 200 and b'"AccessToken"' not in body:
            return 599, body  # a 200 without tokens (an unexpected challenge) is no sign-in
        return status, body

    async def worker() -> None:
        reader: Any = None
        writer: Any = None
        while time.perf_counter() < deadline:
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                t0 = time.perf_counter()
                status, body = await asyncio.wait_for(sign_in(reader, writer), timeout=60)
                t1 = time.perf_counter()
                if t1 > deadline:
                    break
                latencies.append(t1 - t0)
                if status != 200:
                    counts["errors"] += 1
                    if len(samples) < 5:
                        samples.append(f"{status} {body[:300].decode(errors='replace')}")
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, KeyError):
                counts["socket"] += 1
                if writer is not None:
                    writer.close()
                writer = None
                await asyncio.sleep(0.01)
        if writer is not None:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = min(time.perf_counter(), deadline) - start
    cpu = time.process_time() - cpu0
    latencies.sort()

    def pct(p: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(p / 100.0 * len(latencies)))] * 1000.0

    return Result(
        requests=len(latencies),
        duration_s=elapsed,
        p50_ms=pct(50),
        p99_ms=pct(99),
        errors=counts["errors"],
        socket_errors=counts["socket"],
        loadgen="asyncio-srp",
        error_samples=samples,
        cpu_s=cpu,
    )
