"""Security findings about codes and data at rest (issue 7, items 5, 13, 15), as the attacks were made.

5: a verification code kept working after the attribute changed, and then verified the
new value; 13: nothing limited how many codes were sent; 15: the database files were
world-readable and codes were plain SHA-256 of six digits, recovered from a copy.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.helpers import verified_email
from tests.conformance.test_account import code_for
from tests.conformance.test_signin import make_client, make_user, sign_in
from tests.support.server import Server, running_server

FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


@pytest.fixture
def plain_pool(idp: Any) -> Iterator[dict[str, Any]]:
    """A pool that verifies no attribute by itself (codes only on request)."""
    pool = idp.create_user_pool(PoolName=f"sc{uuid.uuid4().hex[:8]}", AliasAttributes=["email"])["UserPool"]
    yield pool
    idp.delete_user_pool(UserPoolId=pool["Id"])


# --- 5: a code is bound to the value it was sent to ------------------------------------------


def test_a_code_sent_to_my_address_does_not_verify_the_next_one(
    server: Server, idp: Any, public_idp: Any, plain_pool: dict[str, Any]
) -> None:
    pool_id = plain_pool["Id"]
    client = make_client(idp, pool_id, ExplicitAuthFlows=FLOWS)
    name = make_user(idp, pool_id, UserAttributes=[{"Name": "email", "Value": "mine@attacker.test"}])
    access = sign_in(public_idp, client["ClientId"], name)["AuthenticationResult"]["AccessToken"]
    # The attacker asks for a code to their own address, then changes the address to the victim's.
    public_idp.get_user_attribute_verification_code(AccessToken=access, AttributeName="email")
    code = code_for(server, name, "verification")
    public_idp.update_user_attributes(
        AccessToken=access, UserAttributes=[{"Name": "email", "Value": "victim@example.com"}]
    )
    with pytest.raises(public_idp.exceptions.ExpiredCodeException):
        public_idp.verify_user_attribute(AccessToken=access, AttributeName="email", Code=code)
    attrs = {
        a["Name"]: a["Value"] for a in idp.admin_get_user(UserPoolId=pool_id, Username=name)["UserAttributes"]
    }
    assert attrs["email"] == "victim@example.com" and attrs.get("email_verified") != "true"
    # The victim's address is no alias of the attacker.
    with pytest.raises(public_idp.exceptions.UserNotFoundException):
        sign_in(public_idp, client["ClientId"], "victim@example.com")
    # A code sent to the address the user has now does verify it.
    public_idp.get_user_attribute_verification_code(AccessToken=access, AttributeName="email")
    sent = [m for m in server.outbox() if m["username"] == name and m["kind"] == "verification"]
    assert sent[-1]["to"] == "victim@example.com"
    public_idp.verify_user_attribute(AccessToken=access, AttributeName="email", Code=str(sent[-1]["code"]))


# --- 15: at rest ----------------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_files_are_the_owners_alone_wherever_they_live(tmp_path: Path) -> None:
    elsewhere = tmp_path / "shared" / "cognate.db"
    with running_server("--database-url", f"sqlite:///{elsewhere}") as srv:
        idp = srv.boto()
        idp.create_user_pool(PoolName="p")  # writes: the WAL exists now
        files = sorted(elsewhere.parent.glob("cognate.db*"))
        assert {f.name for f in files} >= {"cognate.db", "cognate.db-wal", "cognate.db-shm"}
        for f in files:
            assert _mode(f) == 0o600, (f.name, oct(_mode(f)))
    with running_server() as srv:  # the default place, in the data dir
        srv.boto().create_user_pool(PoolName="p")
        for f in srv.data_dir.glob("cognate.db*"):
            assert _mode(f) == 0o600, (f.name, oct(_mode(f)))


def test_a_database_file_made_world_readable_before_is_closed_at_start(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    db.touch(mode=0o644)
    db.chmod(0o644)
    with running_server("--database-url", f"sqlite:///{db}"):
        assert _mode(db) == 0o600


def test_codes_in_a_copy_of_the_database_cannot_be_recovered(
    server: Server, idp: Any, public_idp: Any, plain_pool: dict[str, Any]
) -> None:
    pool_id = plain_pool["Id"]
    client = make_client(idp, pool_id, ExplicitAuthFlows=FLOWS)
    name = make_user(
        idp,
        pool_id,
        UserAttributes=verified_email("c@example.com"),
    )
    public_idp.forgot_password(ClientId=client["ClientId"], Username=name)
    code = code_for(server, name, "reset")
    sub = idp.admin_get_user(UserPoolId=pool_id, Username=name)["UserAttributes"]
    sub = next(a["Value"] for a in sub if a["Name"] == "sub")
    with sqlite3.connect(f"file:{server.data_dir / 'cognate.db'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT key, doc FROM ttl_items WHERE kind = 'user-code'").fetchall()
    docs = [json.loads(doc) for key, doc in rows if sub in key]
    assert len(docs) == 1
    stored = json.dumps(docs[0])
    assert code not in stored
    # The auditor's attack: try every code under the unkeyed formula (about a second).
    stored_hash = docs[0]["hash"]
    prefix = f"{sub}:reset:".encode()
    recovered = [
        n for n in range(1_000_000) if hashlib.sha256(prefix + b"%06d" % n).hexdigest() == stored_hash
    ]
    assert recovered == []
    assert hashlib.sha256(code.encode()).hexdigest() != stored_hash
    # The code still works, once.
    public_idp.confirm_forgot_password(
        ClientId=client["ClientId"], Username=name, ConfirmationCode=code, Password="N3w-Passw0rd!"
    )
    assert (
        "AccessToken"
        in sign_in(public_idp, client["ClientId"], name, "N3w-Passw0rd!")["AuthenticationResult"]
    )


# --- 13: how many codes are sent -------------------------------------------------------------


def _recovery_pool(idp: Any, users: int, **client: Any) -> tuple[str, str, list[str]]:
    pool_id = idp.create_user_pool(PoolName=f"rl{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    client_id = make_client(idp, pool_id, ExplicitAuthFlows=FLOWS, **client)["ClientId"]
    names = []
    for i in range(users):
        names.append(
            make_user(
                idp,
                pool_id,
                UserAttributes=verified_email(f"u{i}@example.com"),
            )
        )
    return pool_id, client_id, names


def _resets(server: Server, pool_id: str) -> list[dict[str, Any]]:
    return [m for m in server.outbox() if m["pool_id"] == pool_id and m["kind"] == "reset"]


def test_twenty_five_forgot_password_calls_do_not_send_twenty_five_emails(
    server: Server, idp: Any, public_idp: Any
) -> None:
    pool_id, client_id, (name,) = _recovery_pool(idp, 1, PreventUserExistenceErrors="ENABLED")
    try:
        answers = []
        for _ in range(25):
            try:
                public_idp.forgot_password(ClientId=client_id, Username=name)
                answers.append("sent")
            except public_idp.exceptions.LimitExceededException as exc:
                assert (
                    exc.response["Error"]["Message"] == "Attempt limit exceeded, please try after some time."
                )
                answers.append("limited")
        assert answers == ["sent"] * 5 + ["limited"] * 20
        assert len(_resets(server, pool_id)) == 5
        # An unknown user is limited alike: the limit tells nobody who exists.
        unknown = []
        for _ in range(7):
            try:
                public_idp.forgot_password(ClientId=client_id, Username="nobody-" + name)
                unknown.append("sent")
            except public_idp.exceptions.LimitExceededException:
                unknown.append("limited")
        assert unknown == ["sent"] * 5 + ["limited"] * 2
        # The code that was sent still works.
        code = str(_resets(server, pool_id)[-1]["code"])
        public_idp.confirm_forgot_password(
            ClientId=client_id, Username=name, ConfirmationCode=code, Password="N3w-Passw0rd!"
        )
    finally:
        idp.delete_user_pool(UserPoolId=pool_id)


def _forgot(server: Server, client_id: str, name: str, forwarded: str | None = None) -> str:
    from tests.conformance.helpers import raw_post

    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    r = raw_post(server, "ForgotPassword", {"ClientId": client_id, "Username": name}, headers=headers)
    return "sent" if r.status_code == 200 else r.json()["__type"]


def test_one_address_cannot_mail_a_whole_pool_and_a_forged_forwarded_for_does_not_help(
    server: Server, idp: Any
) -> None:
    pool_id, client_id, names = _recovery_pool(idp, 32)
    try:
        got = [_forgot(server, client_id, n, forwarded=f"198.51.100.{i}") for i, n in enumerate(names)]
        assert got == ["sent"] * 30 + ["LimitExceededException"] * 2
        assert len(_resets(server, pool_id)) == 30
    finally:
        idp.delete_user_pool(UserPoolId=pool_id)


def test_behind_a_trusted_proxy_each_client_address_has_its_own_budget() -> None:
    with running_server("--trusted-proxies", "127.0.0.0/8, ::1") as srv:
        idp = srv.boto()
        pool_id, client_id, names = _recovery_pool(idp, 34)
        got = [
            _forgot(srv, client_id, n, forwarded=f"203.0.113.7, 198.51.100.{i}")
            for i, n in enumerate(names[:32])
        ]
        assert got == ["sent"] * 32  # 32 addresses, one code each
        # One forwarded address (the rightmost untrusted hop) is limited like a peer.
        one = [_forgot(srv, client_id, n, forwarded="192.0.2.1") for n in names[:31]]
        assert one.count("sent") == 30 and one[-1] == "LimitExceededException"
        # Forged hops to the left of the proxy's entry change nothing.
        assert _forgot(srv, client_id, names[32], forwarded="10.9.9.9, 192.0.2.1") == "LimitExceededException"
        assert len(_resets(srv, pool_id)) == 32 + 30
