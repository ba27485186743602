"""Challenge answers under fire (issue 14): each example first starts a real sign-in that
stops at a challenge (NEW_PASSWORD_REQUIRED, SMS_MFA, SOFTWARE_TOKEN_MFA, MFA_SETUP,
PASSWORD_VERIFIER; a user with both factors and none preferred as well), then answers it
through RespondToAuthChallenge or AdminRespondToAuthChallenge with every challenge name
botocore knows: the right answer to the live session, or fuzzed ChallengeResponses
(the right keys with wrong ones, real codes and secret blocks with tampered and hostile
values), or a fuzzed Session (bit-flipped, cut, lengthened, another sign-in's, random or
absent), or both.

Every answer a 200 or a Cognito-shaped 4xx the operation may answer; never a 5xx. After
the fire the store's invariants hold and every scenario still signs in.
Bounded for CI; ``COGNATE_FUZZ_EXAMPLES=N`` runs N per challenge name (the operation drawn each time).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pycognito.aws_srp import G_HEX, N_HEX

from tests.fuzz.strategies import JSON_ANY, MODEL, TEXT, check_answer, post
from tests.fuzz.support import Running, check_store_invariants, fuzz_settings, running_app

PASSWORD = "Passw0rd!"
CHALLENGES = MODEL.shape_for("ChallengeNameType").enum
RESPONSE_KEYS = [
    "USERNAME", "SECRET_HASH", "NEW_PASSWORD", "SMS_MFA_CODE", "SOFTWARE_TOKEN_MFA_CODE", "EMAIL_OTP_CODE",
    "SMS_OTP_CODE", "PASSWORD", "PASSWORD_CLAIM_SIGNATURE", "PASSWORD_CLAIM_SECRET_BLOCK", "TIMESTAMP",
    "ANSWER", "DEVICE_KEY", "CREDENTIAL", "userAttributes.email", "userAttributes.name",
    "userAttributes.sub", "requiredAttributes",
]  # fmt: skip
SCENARIOS = ["new_password", "sms", "totp", "select", "srp", "setup"]
FLOWS = [
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
]
DEFAULT_EXAMPLES = 8  # per challenge name in CI; COGNATE_FUZZ_EXAMPLES=N for a longer run
OPERATIONS = ["RespondToAuthChallenge", "AdminRespondToAuthChallenge"]


@dataclass
class World:
    running: Running
    pools: dict[str, str]  # scenario -> pool id
    clients: dict[str, str]  # scenario -> client id
    totp: dict[str, pyotp.TOTP]  # username -> authenticator
    armed: dict[str, int] = field(default_factory=dict)  # challenge a scenario really reached
    statuses: dict[str, int] = field(default_factory=dict)  # "mode status" -> answers
    completed: dict[str, int] = field(default_factory=dict)  # scenario -> 200 answers

    def pool(self, scenario: str) -> str:
        return self.pools["setup" if scenario == "setup" else "mfa"]

    def client(self, scenario: str) -> str:
        return self.clients["setup" if scenario == "setup" else "mfa"]


def _ok(running: Running, op: str, body: dict[str, Any], *, signed: bool = False) -> dict[str, Any]:
    resp = post(running, op, json.dumps(body).encode(), signed=signed)
    assert resp.status_code == 200, (op, resp.text)
    out: dict[str, Any] = resp.json()
    return out


def _user(running: Running, pool_id: str, name: str, attrs: list[dict[str, str]] | None = None) -> None:
    _ok(
        running,
        "AdminCreateUser",
        {
            "UserPoolId": pool_id,
            "Username": name,
            "TemporaryPassword": PASSWORD,
            "MessageAction": "SUPPRESS",
            "UserAttributes": attrs or [],
        },
        signed=True,
    )
    _ok(
        running,
        "AdminSetUserPassword",
        {"UserPoolId": pool_id, "Username": name, "Password": PASSWORD, "Permanent": True},
        signed=True,
    )


def _enrol_totp(running: Running, client_id: str, name: str) -> pyotp.TOTP:
    access = _ok(
        running,
        "InitiateAuth",
        {
            "ClientId": client_id,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": name, "PASSWORD": PASSWORD},
        },
    )["AuthenticationResult"]["AccessToken"]
    secret = _ok(running, "AssociateSoftwareToken", {"AccessToken": access})["SecretCode"]
    totp = pyotp.TOTP(secret)
    code = totp.at(running.api.clock.now())
    _ok(running, "VerifySoftwareToken", {"AccessToken": access, "UserCode": code})
    running.api.clock.advance(31)  # the next code is a new one
    return totp


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[World]:
    with running_app(tmp_path_factory.mktemp("challengefuzz"), pytestconfig) as running:
        pools, clients = {}, {}
        for key, mfa in (("mfa", "OPTIONAL"), ("setup", "ON")):
            body: dict[str, Any] = {"PoolName": f"fuzz-{key}", "MfaConfiguration": mfa}
            if mfa == "ON":
                body["MfaConfiguration"] = "OFF"
            pools[key] = _ok(running, "CreateUserPool", body, signed=True)["UserPool"]["Id"]
            if mfa == "ON":
                _ok(
                    running,
                    "SetUserPoolMfaConfig",
                    {
                        "UserPoolId": pools[key],
                        "SoftwareTokenMfaConfiguration": {"Enabled": True},
                        "MfaConfiguration": "ON",
                    },
                    signed=True,
                )
            clients[key] = _ok(
                running,
                "CreateUserPoolClient",
                {"UserPoolId": pools[key], "ClientName": "c", "ExplicitAuthFlows": FLOWS},
                signed=True,
            )["UserPoolClient"]["ClientId"]
        mfa_pool = pools["mfa"]
        phone = [{"Name": "phone_number", "Value": "+15555550123"}]
        for name in ("new_password", "srp"):
            _user(running, mfa_pool, name)
        _user(running, mfa_pool, "sms", phone)
        _user(running, mfa_pool, "totp")
        _user(running, mfa_pool, "select", phone)
        _user(running, pools["setup"], "setup")
        totp = {n: _enrol_totp(running, clients["mfa"], n) for n in ("totp", "select")}
        _ok(
            running,
            "AdminSetUserMFAPreference",
            {
                "UserPoolId": mfa_pool,
                "Username": "sms",
                "SMSMfaSettings": {"Enabled": True, "PreferredMfa": True},
            },
            signed=True,
        )
        _ok(
            running,
            "AdminSetUserMFAPreference",
            {
                "UserPoolId": mfa_pool,
                "Username": "totp",
                "SoftwareTokenMfaSettings": {"Enabled": True, "PreferredMfa": True},
            },
            signed=True,
        )
        _ok(
            running,
            "AdminSetUserMFAPreference",
            {
                "UserPoolId": mfa_pool,
                "Username": "select",
                "SMSMfaSettings": {"Enabled": True, "PreferredMfa": False},
                "SoftwareTokenMfaSettings": {"Enabled": True, "PreferredMfa": False},
            },
            signed=True,
        )
        yield World(running, pools, clients, totp)
        check_store_invariants(running.api.data_dir)


def srp_a() -> str:
    n, g = int(N_HEX, 16), int(G_HEX, 16)
    return format(pow(g, secrets.randbelow(n - 2) + 1, n), "x")


def arm(world: World, scenario: str, admin: bool) -> dict[str, Any]:
    """Start a real sign-in of ``scenario``'s user; the answer (a challenge, with luck)."""
    running = world.running
    pool_id, client_id = world.pool(scenario), world.client(scenario)
    if scenario == "new_password":
        _ok(
            running,
            "AdminSetUserPassword",
            {"UserPoolId": pool_id, "Username": scenario, "Password": PASSWORD, "Permanent": False},
            signed=True,
        )
    if scenario == "srp":
        op, body = (
            "InitiateAuth",
            {
                "ClientId": client_id,
                "AuthFlow": "USER_SRP_AUTH",
                "AuthParameters": {"USERNAME": "srp", "SRP_A": srp_a()},
            },
        )
    elif admin:
        op, body = (
            "AdminInitiateAuth",
            {
                "UserPoolId": pool_id,
                "ClientId": client_id,
                "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": scenario, "PASSWORD": PASSWORD},
            },
        )
    else:
        op, body = (
            "InitiateAuth",
            {
                "ClientId": client_id,
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": scenario, "PASSWORD": PASSWORD},
            },
        )
    resp = post(running, op, json.dumps(body).encode(), signed=op.startswith("Admin"))
    assert resp.status_code < 500, (op, scenario, resp.text[:300])
    got: dict[str, Any] = resp.json() if resp.status_code == 200 else {}
    if got.get("ChallengeName"):
        world.armed[got["ChallengeName"]] = world.armed.get(got["ChallengeName"], 0) + 1
    return got


def tamper(value: str) -> st.SearchStrategy[str]:
    if not value:
        return TEXT
    return st.one_of(
        st.integers(0, len(value) - 1).map(lambda i: value[:i] + chr(ord(value[i]) ^ 1) + value[i + 1 :]),
        st.integers(0, len(value) - 1).map(lambda i: value[:i]),
        TEXT.map(lambda extra: value + extra),
    )


def real_values(world: World, scenario: str, started: dict[str, Any]) -> dict[str, list[str]]:
    """Plausible values of each response key for this sign-in (right ones included)."""
    now = world.running.api.clock.now()
    codes = ["000000", "123456"]
    if scenario in world.totp:
        codes.append(world.totp[scenario].at(now))
    sent = [m for m in world.running.api.outbox() if m.get("username") == scenario and m.get("code")]
    if sent:
        codes.append(str(sent[-1]["code"]))
    params = started.get("ChallengeParameters", {})
    return {
        "USERNAME": [scenario, params.get("USER_ID_FOR_SRP", scenario), "sms", "nobody"],
        "NEW_PASSWORD": ["NewPassw0rd!x", PASSWORD, "short"],
        "SMS_MFA_CODE": codes,
        "SOFTWARE_TOKEN_MFA_CODE": codes,
        "EMAIL_OTP_CODE": codes,
        "SMS_OTP_CODE": codes,
        "ANSWER": ["SMS_MFA", "SOFTWARE_TOKEN_MFA", "EMAIL_OTP", *codes],
        "PASSWORD": [PASSWORD],
        "PASSWORD_CLAIM_SECRET_BLOCK": [params.get("SECRET_BLOCK", "")],
        "PASSWORD_CLAIM_SIGNATURE": ["AAAA", "x" * 44],
        "TIMESTAMP": ["Mon Nov 30 18:00:00 UTC 2026", "Mon Nov 3 18:00:00 UTC 2026", "yesterday"],
    }


AIMED = {"NEW_PASSWORD_REQUIRED": "new_password", "SMS_MFA": "sms", "SOFTWARE_TOKEN_MFA": "totp"}


def right_answer(world: World, scenario: str, values: dict[str, list[str]]) -> dict[str, str]:
    """The answer that completes this sign-in (where a test can compute it)."""
    if scenario == "new_password":
        return {"USERNAME": scenario, "NEW_PASSWORD": "NewPassw0rd!x"}
    if scenario == "sms":
        return {"USERNAME": scenario, "SMS_MFA_CODE": values["SMS_MFA_CODE"][-1]}
    if scenario in world.totp:
        return {
            "USERNAME": scenario,
            "SOFTWARE_TOKEN_MFA_CODE": world.totp[scenario].at(world.running.api.clock.now()),
        }
    return {"USERNAME": scenario}


@pytest.mark.parametrize("challenge", CHALLENGES)
def test_challenge_answers_never_5xx(world: World, challenge: str) -> None:
    @fuzz_settings(default=DEFAULT_EXAMPLES)
    @given(data=st.data())
    def attempt(data: st.DataObject) -> None:
        operation = data.draw(st.sampled_from(OPERATIONS), label="operation")
        admin = operation.startswith("Admin")
        aimed = [AIMED[challenge]] if challenge in AIMED else []
        scenario = data.draw(st.sampled_from(aimed * 4 + SCENARIOS), label="scenario")
        # What is fuzzed: nothing (the right answer to the live session), the responses, the
        # session, or both.
        mode = data.draw(st.sampled_from(["right", "responses", "session", "both"]), label="mode")
        # An hour on: a fresh TOTP step, and the lockouts and code-sending limits that earlier
        # examples earned are over (this is about the answers, not about those limits).
        world.running.api.clock.advance(3601)
        other = ""
        if mode in ("session", "both"):  # another sign-in's session, to send instead
            other = arm(world, data.draw(st.sampled_from(SCENARIOS)), admin).get("Session", "")
        started = arm(world, scenario, admin)
        session = started.get("Session", "")
        values = real_values(world, scenario, started)
        value_of = {k: st.sampled_from([v for v in vs if v]) | TEXT for k, vs in values.items() if any(vs)}
        fuzzed = st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    k: (value_of[k] if k in value_of else TEXT).flatmap(
                        lambda v: st.one_of(st.just(v), tamper(v))
                    )
                    for k in RESPONSE_KEYS
                },
            ),
            st.dictionaries(TEXT, TEXT, max_size=4),
            JSON_ANY,
        )
        utf8 = st.text(st.characters(codec="utf-8"), max_size=8)
        right = st.dictionaries(utf8, utf8, max_size=2).map(  # the right answer, extra keys or none
            lambda extra: {**extra, **right_answer(world, scenario, values)}
        )
        responses = data.draw(right if mode in ("right", "session") else fuzzed, label="ChallengeResponses")
        sent_session: str | None = session
        if mode in ("session", "both"):
            sent_session = data.draw(
                st.one_of(tamper(session), st.just(other), TEXT, st.none()), label="Session"
            )
        body: dict[str, Any] = {"ClientId": world.client(scenario), "ChallengeName": challenge}
        if admin:
            body["UserPoolId"] = world.pool(scenario)
        if sent_session is not None:
            body["Session"] = sent_session
        body["ChallengeResponses"] = responses
        if data.draw(st.booleans(), label="ClientMetadata"):
            plain = st.dictionaries(st.text("abc", max_size=3), st.text("xyz", max_size=3), max_size=3)
            fuzzy = plain if mode == "right" else st.dictionaries(TEXT, TEXT, max_size=3) | JSON_ANY
            body["ClientMetadata"] = data.draw(fuzzy)
        payload = json.dumps(body).encode()
        resp = post(world.running, operation, payload, signed=admin)
        key = f"{operation} {mode} {resp.status_code}"
        world.statuses[key] = world.statuses.get(key, 0) + 1
        check_answer(resp, operation, (scenario, payload[:400]))
        if resp.status_code == 200:
            out = resp.json()
            assert "AuthenticationResult" in out or "ChallengeName" in out, out
            world.completed[scenario] = world.completed.get(scenario, 0) + 1
        elif mode == "right" and AIMED.get(challenge) == scenario == AIMED.get(
            started.get("ChallengeName", "")
        ):
            raise AssertionError(("the right answer was refused", scenario, resp.text[:300]))

    attempt()


def test_every_scenario_reached_its_challenge_and_still_signs_in(world: World) -> None:
    """The fuzz above was aimed at live sessions (each scenario's challenge was really reached),
    and after it every user still signs in to that same challenge; the store is consistent."""
    for scenario, challenge in (
        ("new_password", "NEW_PASSWORD_REQUIRED"),
        ("sms", "SMS_MFA"),
        ("totp", "SOFTWARE_TOKEN_MFA"),
        ("select", "SOFTWARE_TOKEN_MFA"),  # both factors, none preferred: Cognate asks for one
        ("srp", "PASSWORD_VERIFIER"),
        ("setup", "MFA_SETUP"),
    ):
        got = arm(world, scenario, admin=False)
        assert got.get("ChallengeName") == challenge, (scenario, got)
        assert world.armed.get(challenge, 0) > 1, (challenge, world.armed)
    check_store_invariants(world.running.api.data_dir)
    print(f"\nchallenges reached: {json.dumps(world.armed, sort_keys=True)}")
    print(f"answers: {sum(world.statuses.values())}; {json.dumps(world.statuses, sort_keys=True)}")
    print(f"sign-ins completed by an answer: {json.dumps(world.completed, sort_keys=True)}")
    assert sum(world.completed.values()) > 0, "no answer ever completed a sign-in: the fuzz never went deep"
