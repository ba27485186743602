"""User enumeration with PreventUserExistenceErrors ENABLED (issue 7, item 14), as the audit did it.

ForgotPassword answered a real user with their delivery medium and an unknown one with an
SMS simulation; ResendConfirmationCode said "User is already confirmed."; ConfirmForgotPassword
answered InvalidPasswordException, ExpiredCodeException or LimitExceededException for a real
user where an unknown one got CodeMismatchException; and unknown users answered about 1 ms
faster. Now a real and an unknown user are alike by message and by time: medians over 200
interleaved tries within the larger of 10 % and 0.3 ms.
"""

from __future__ import annotations

import re
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conformance.helpers import JSON_11, TARGET, verified_email
from tests.conformance.test_signin import make_client, make_user
from tests.support.server import Server, running_server

FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
MASKED_EMAIL = re.compile(r"^[a-z0-9]\*\*\*@[a-z0-9]\*\*\*$")
TRIES = 200


@pytest.fixture(scope="module")
def hidden() -> Iterator[tuple[Server, str, str]]:
    """A server behind a "proxy" (each try from its own address, as from many clients),
    a pool that verifies email, and a client with PreventUserExistenceErrors ENABLED."""
    with running_server("--trusted-proxies", "127.0.0.1") as srv:
        idp = srv.boto()
        pool_id = idp.create_user_pool(
            PoolName=f"en{uuid.uuid4().hex[:8]}", AutoVerifiedAttributes=["email"]
        )["UserPool"]["Id"]
        cid = make_client(idp, pool_id, ExplicitAuthFlows=FLOWS, PreventUserExistenceErrors="ENABLED")[
            "ClientId"
        ]
        yield srv, pool_id, cid


class Caller:
    """Raw POSTs over one keep-alive connection, each from its own forwarded address."""

    def __init__(self, server: Server) -> None:
        self.http = httpx.Client(base_url=server.url, timeout=30)
        self.n = 0

    def __call__(self, operation: str, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        self.n += 1
        headers = {
            "Content-Type": JSON_11,
            "X-Amz-Target": TARGET + operation,
            "X-Forwarded-For": f"10.{self.n // 65536 % 256}.{self.n // 256 % 256}.{self.n % 256}",
        }
        started = time.perf_counter()
        r = self.http.post("/", json=body, headers=headers)
        elapsed = time.perf_counter() - started
        return elapsed, r.json()


def _fresh_users(server: Server, pool_id: str) -> Iterator[str]:
    """Verified users made one by one, as a test needs them (outside any timing)."""
    idp = server.boto()
    while True:
        yield make_user(
            idp,
            pool_id,
            UserAttributes=verified_email(f"f{uuid.uuid4().hex[:8]}@example.com"),
        )


def _verified_users(server: Server, pool_id: str, n: int) -> list[str]:
    idp = server.boto()
    return [
        make_user(
            idp,
            pool_id,
            UserAttributes=verified_email(f"r{i}@example.com"),
        )
        for i in range(n)
    ]


def _shape(answer: dict[str, Any]) -> Any:
    details = answer.get("CodeDeliveryDetails")
    if details is None:
        return answer.get("__type"), answer.get("message")
    assert MASKED_EMAIL.match(details["Destination"]), details
    return details["DeliveryMedium"], details["AttributeName"]


# --- by message -------------------------------------------------------------------------------------


def test_forgot_password_and_resend_answer_alike(hidden: tuple[Server, str, str]) -> None:
    server, pool_id, cid = hidden
    call = Caller(server)
    (real,) = _verified_users(server, pool_id, 1)
    unknown = "nobody-" + uuid.uuid4().hex[:8]
    real_answer = call("ForgotPassword", {"ClientId": cid, "Username": real})[1]
    unknown_answer = call("ForgotPassword", {"ClientId": cid, "Username": unknown})[1]
    assert _shape(real_answer) == _shape(unknown_answer) == ("EMAIL", "email")
    # The made-up destination is stable for a name, as a real one is.
    assert call("ForgotPassword", {"ClientId": cid, "Username": unknown})[1] == unknown_answer
    # A confirmed user asking for a sign-up code looks like an unknown one (nothing is sent).
    before = len(server.outbox())
    confirmed = call("ResendConfirmationCode", {"ClientId": cid, "Username": real})[1]
    unknown_resend = call("ResendConfirmationCode", {"ClientId": cid, "Username": unknown})[1]
    assert _shape(confirmed) == _shape(unknown_resend) == ("EMAIL", "email")
    assert len(server.outbox()) == before


def test_confirm_forgot_password_answers_alike(hidden: tuple[Server, str, str]) -> None:
    server, pool_id, cid = hidden
    call = Caller(server)
    real, waiting = _verified_users(server, pool_id, 2)
    unknown = "nobody-" + uuid.uuid4().hex[:8]

    def confirm(name: str, password: str = "N3w-Passw0rd!", code: str = "000000") -> Any:
        answer = call(
            "ConfirmForgotPassword",
            {"ClientId": cid, "Username": name, "ConfirmationCode": code, "Password": password},
        )[1]
        return answer.get("__type"), answer.get("message")

    # A weak password: judged alike, before anything else.
    assert confirm(real, "short") == confirm(unknown, "short")
    assert confirm(real, "short")[0] == "InvalidPasswordException"
    # No code outstanding (a real user's ExpiredCodeException): a mismatch, as for nobody.
    assert (
        confirm(real)
        == confirm(unknown)
        == ("CodeMismatchException", "Invalid verification code provided, please try again.")
    )
    # A code outstanding and a wrong guess: the same; then the same limit after as many tries.
    call("ForgotPassword", {"ClientId": cid, "Username": waiting})
    other = "nobody-" + uuid.uuid4().hex[:8]
    real_answers = [confirm(waiting) for _ in range(7)]
    unknown_answers = [confirm(other) for _ in range(7)]
    assert real_answers == unknown_answers
    assert real_answers[-1][0] == "LimitExceededException"


# --- by time -----------------------------------------------------------------------------------------


def _medians_alike(measure: Callable[[int], tuple[float, float]]) -> None:
    """Medians of TRIES interleaved (ABBA) real/unknown pairs within max(10 %, 0.3 ms).

    On a loaded machine a round can be skewed by a neighbour; a real difference shows in
    every round, so the test passes when one of three rounds is within bounds.
    """
    report = []
    for _ in range(3):
        real, unknown = [], []
        for i in range(TRIES):
            a, b = measure(i)
            real.append(a)
            unknown.append(b)
        m_real, m_unknown = statistics.median(real), statistics.median(unknown)
        allowed = max(0.10 * max(m_real, m_unknown), 0.0003)
        report.append(f"real {m_real * 1000:.3f} ms, unknown {m_unknown * 1000:.3f} ms")
        if abs(m_real - m_unknown) <= allowed:
            return
    pytest.fail("timing tells real and unknown users apart: " + "; ".join(report))


def _abba(one: Callable[[str], float], real: Callable[[], str]) -> Callable[[int], tuple[float, float]]:
    """Try ``i``: a real user and an unknown name, in turn first (ABBA), each timed by ``one``."""

    def measure(i: int) -> tuple[float, float]:
        name, unknown = real(), f"nobody-{uuid.uuid4().hex[:12]}"
        if i % 2:
            b = one(unknown)
            return one(name), b
        a = one(name)
        return a, one(unknown)

    return measure


def test_confirm_forgot_password_takes_as_long_for_anyone(hidden: tuple[Server, str, str]) -> None:
    server, pool_id, cid = hidden
    call = Caller(server)
    fresh = _fresh_users(server, pool_id)

    def with_code() -> str:
        name = next(fresh)
        call("ForgotPassword", {"ClientId": cid, "Username": name})  # a code outstanding
        return name

    def one(name: str) -> float:
        elapsed, answer = call(
            "ConfirmForgotPassword",
            {"ClientId": cid, "Username": name, "ConfirmationCode": "000000", "Password": "N3w-Passw0rd!"},
        )
        assert answer["__type"] == "CodeMismatchException", answer
        return elapsed

    _medians_alike(_abba(one, with_code))


def test_forgot_password_takes_as_long_for_anyone(hidden: tuple[Server, str, str]) -> None:
    server, pool_id, cid = hidden
    call = Caller(server)
    users = _fresh_users(server, pool_id)

    def one(name: str) -> float:
        elapsed, answer = call("ForgotPassword", {"ClientId": cid, "Username": name})
        assert "CodeDeliveryDetails" in answer, answer
        return elapsed

    _medians_alike(_abba(one, lambda: next(users)))
