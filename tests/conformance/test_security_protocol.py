"""Security findings at the protocol level (issue 7, items 9-12), each as the attack was made.

9: a token naming an unknown pool made the server generate and store RSA keys;
10: X-Amz-Target outside the signed headers let a captured request become another
operation, and any credential scope region passed; 11: deep nesting answered 500;
12: half-sent requests held connections open for minutes.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conformance.helpers import JSON_11, TARGET, raw_post, unique
from tests.support.server import Server, running_server


def _signed(
    server: Server,
    operation: str,
    body: dict[str, Any],
    *,
    region: str = "us-east-1",
    sign_target: str | None = None,
) -> dict[str, str]:
    """Headers of a request botocore signs; ``sign_target`` is the X-Amz-Target at signing
    time (None: the header is left out of the signature), the sent one names ``operation``."""
    creds = server.credentials
    headers = {"Content-Type": JSON_11}
    if sign_target is not None:
        headers["X-Amz-Target"] = TARGET + sign_target
    req = AWSRequest(method="POST", url=server.url + "/", data=json.dumps(body).encode(), headers=headers)
    SigV4Auth(Credentials(creds["AccessKeyId"], creds["SecretAccessKey"]), "cognito-idp", region).add_auth(
        req
    )
    sent = dict(req.headers.items())
    sent["X-Amz-Target"] = TARGET + operation
    return sent


# --- 10: X-Amz-Target signed, credential scope checked ----------------------------------


def test_an_unsigned_target_cannot_turn_a_request_into_delete_user_pool(server: Server, idp: Any) -> None:
    pool_id = idp.create_user_pool(PoolName=unique())["UserPool"]["Id"]
    try:
        body = {"UserPoolId": pool_id}
        # Signed without X-Amz-Target (a captured DescribeUserPool, say), sent as DeleteUserPool.
        headers = _signed(server, "DeleteUserPool", body)
        assert "x-amz-target" not in headers["Authorization"]
        r = httpx.post(server.url + "/", content=json.dumps(body).encode(), headers=headers)
        assert r.status_code == 400
        assert r.json()["__type"] == "IncompleteSignatureException"
        assert "X-Amz-Target" in r.json()["message"]
        assert idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Id"] == pool_id
        # Signed with one target and sent with another: the signature no longer matches.
        headers = _signed(server, "DeleteUserPool", body, sign_target="DescribeUserPool")
        r = httpx.post(server.url + "/", content=json.dumps(body).encode(), headers=headers)
        assert r.json()["__type"] == "InvalidSignatureException"
        assert idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Id"] == pool_id
    finally:
        idp.delete_user_pool(UserPoolId=pool_id)


def test_the_credential_scope_names_this_servers_region_and_service(server: Server) -> None:
    body = {"MaxResults": 1}
    good = _signed(server, "ListUserPools", body, sign_target="ListUserPools")
    assert httpx.post(server.url + "/", content=json.dumps(body).encode(), headers=good).status_code == 200
    other = _signed(server, "ListUserPools", body, region="eu-west-1", sign_target="ListUserPools")
    r = httpx.post(server.url + "/", content=json.dumps(body).encode(), headers=other)
    assert r.status_code == 400
    assert r.json()["__type"] == "IncompleteSignatureException"
    assert "region" in r.json()["message"] and "eu-west-1" in r.json()["message"]


# --- 11: deep nesting ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "member"),
    [("InitiateAuth", "AuthParameters"), ("SignUp", "ClientMetadata"), ("ConfirmSignUp", "UserContextData")],
)
def test_deeply_nested_bodies_are_serialization_errors(server: Server, operation: str, member: str) -> None:
    for depth in (40, 1000):
        body = b'{"ClientId":"x","' + member.encode() + b'":' + b"[" * depth + b"]" * depth + b"}"
        r = raw_post(server, operation, body)
        assert r.status_code == 400, r.text
        assert r.json()["__type"] == "SerializationException"
    assert "RecursionError" not in server.log()
    assert "InternalErrorException" not in server.log()


def test_a_non_container_where_a_map_goes_is_still_shown_briefly(server: Server) -> None:
    r = raw_post(
        server,
        "InitiateAuth",
        {"ClientId": "x", "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": [[[[1]]]] * 3},
    )
    assert r.status_code == 400
    assert r.json()["__type"] == "InvalidParameterException"
    assert "Member must be a map" in r.json()["message"]


# --- 9: verifying a token never creates keys ---------------------------------------------------


def _forged_token(iss: str, kid: str = "attacker-kid") -> str:
    import jwt  # PyJWT: an independent signer

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    now = int(time.time())
    claims = {
        "iss": iss,
        "sub": str(uuid.uuid4()),
        "token_use": "access",
        "client_id": "x",
        "scope": "aws.cognito.signin.user.admin",
        "iat": now,
        "exp": now + 3600,
        "origin_jti": str(uuid.uuid4()),
        "username": "u",
    }
    return jwt.encode(claims, pem, algorithm="RS256", headers={"kid": kid})


def _key_rows(server: Server) -> int:
    with sqlite3.connect(f"file:{server.data_dir / 'cognate.db'}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM signing_keys").fetchone()[0])


def test_tokens_naming_unknown_pools_create_nothing(server: Server, public_idp: Any, idp: Any) -> None:
    real = idp.create_user_pool(PoolName=unique())["UserPool"]["Id"]
    try:
        before = _key_rows(server)
        issuers = [f"{server.url}/us-east-1_{uuid.uuid4().hex[:9]}" for _ in range(8)]
        # Another issuer base with a real pool id: the issuer must be exactly ours.
        issuers.append(f"https://cognito-idp.us-east-1.amazonaws.com/{real}")
        tokens = [_forged_token(iss) for iss in issuers]
        started = time.perf_counter()
        for token in tokens:
            with pytest.raises(public_idp.exceptions.NotAuthorizedException):
                public_idp.get_user(AccessToken=token)
        elapsed = time.perf_counter() - started
        assert _key_rows(server) == before  # no key pair generated or stored
        # Refused at once: nine refusals in far less than one RSA key generation each.
        assert elapsed < 9 * 0.25, elapsed
    finally:
        idp.delete_user_pool(UserPoolId=real)


# --- 12: read deadline ------------------------------------------------------------------


@pytest.fixture(scope="module")
def impatient() -> Iterator[Server]:
    with running_server("--read-timeout", "1") as srv:
        yield srv


def _closed_within(sock: socket.socket, seconds: float) -> bytes | None:
    """What the server sent before closing, or None if it kept the connection open."""
    sock.settimeout(seconds)
    got = b""
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return got
            got += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        return got


def test_half_sent_requests_are_cut_off_at_the_read_deadline(impatient: Server) -> None:
    socks = []
    for i in range(60):
        s = socket.create_connection(("127.0.0.1", impatient.port))
        if i % 3 == 0:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Tar")  # half the headers
        elif i % 3 == 1:  # whole headers, a tenth of the body
            s.sendall(
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n"
                b"X-Amz-Target: AWSCognitoIdentityProviderService.SignUp\r\n"
                b'Content-Length: 100\r\n\r\n{"ClientId"'
            )
        socks.append(s)  # else: connected, nothing sent
    started = time.monotonic()
    try:
        # An honest request is served meanwhile.
        assert httpx.get(impatient.url + "/health").status_code == 200
        for i, s in enumerate(socks):
            got = _closed_within(s, max(0.1, 4 - (time.monotonic() - started)))
            assert got is not None, f"connection {i} still open after {time.monotonic() - started:.1f} s"
            if i % 3 != 1:
                assert got.startswith(b"HTTP/1.1 408"), got
    finally:
        for s in socks:
            s.close()
    assert time.monotonic() - started < 5


def test_a_slow_drip_is_cut_off_even_while_bytes_keep_coming(impatient: Server) -> None:
    s = socket.create_connection(("127.0.0.1", impatient.port))
    try:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        s.settimeout(0.2)
        closed = False
        while time.monotonic() - started < 4 and not closed:
            try:
                s.sendall(b"X-A: b\r\n")  # one header every 0.2 s never finishes the request
                s.recv(4096)  # the server answered (408) or closed
                closed = True
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                closed = True
        assert closed
        assert time.monotonic() - started < 3
    finally:
        s.close()


def test_a_request_in_time_is_answered_and_keep_alive_still_works(impatient: Server) -> None:
    with httpx.Client(base_url=impatient.url) as http:
        assert http.get("/health").status_code == 200
        time.sleep(1.5)  # longer than the read deadline, shorter than keep-alive (5 s)
        assert http.get("/health").status_code == 200
