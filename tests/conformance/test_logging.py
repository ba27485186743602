"""What the server logs: one line per request (time, request id, operation or path, status,
error type, duration) in one format with uvicorn's own lines, JSON on demand, and never a
password, code, token or secret."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conformance.helpers import GOOD_PASSWORD, raw_post
from tests.support.server import Server, running_server

TEXT_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: "
)


def exercise(srv: Server) -> dict[str, str]:
    """Sign up, confirm with the code, sign in, refresh, fail once: what must never be logged."""
    idp = srv.boto()
    pool = idp.create_user_pool(PoolName="logs", AutoVerifiedAttributes=["email"])["UserPool"]
    client = idp.create_user_pool_client(
        UserPoolId=pool["Id"], ClientName="c", GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]  # fmt: skip
    public = srv.boto(signed=False)
    public.sign_up(
        ClientId=client["ClientId"], Username="logged", Password=GOOD_PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "logged@example.com"}],
    )  # fmt: skip
    code = srv.outbox()[-1]["code"]
    public.confirm_sign_up(ClientId=client["ClientId"], Username="logged", ConfirmationCode=code)
    auth = public.initiate_auth(
        ClientId=client["ClientId"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "logged", "PASSWORD": GOOD_PASSWORD},
    )["AuthenticationResult"]  # fmt: skip
    public.initiate_auth(
        ClientId=client["ClientId"], AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": auth["RefreshToken"]},
    )  # fmt: skip
    with pytest.raises(public.exceptions.NotAuthorizedException):
        public.initiate_auth(
            ClientId=client["ClientId"], AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "logged", "PASSWORD": "Wrong-Pa55word!"},
        )  # fmt: skip
    httpx.get(f"{srv.url}/oauth2/userInfo?code=query-secret", timeout=10)
    httpx.get(f"{srv.url}/{pool['Id']}/.well-known/jwks.json?code=jwks-query-secret", timeout=10)
    return {
        "password": GOOD_PASSWORD,
        "wrong password": "Wrong-Pa55word!",
        "code": code,
        "id token": auth["IdToken"],
        "access token": auth["AccessToken"],
        "refresh token": auth["RefreshToken"],
        "admin secret": srv.credentials["SecretAccessKey"],
        "query": "query-secret",
        "jwks query": "jwks-query-secret",
    }


def log_once_written(srv: Any, needle: str, timeout: float = 10.0) -> str:
    """The server's log once ``needle`` is in it and its last line is whole.

    The request line is written when the response has been sent, so a test that reads the
    log right after its response can be a moment early.
    """
    deadline = time.monotonic() + timeout
    while True:
        log = str(srv.log())
        if (needle in log and log.endswith("\n")) or time.monotonic() > deadline:
            return log
        time.sleep(0.02)


def request_lines_of(log: str, parse: Any) -> list[dict[str, Any]]:
    return [
        d for d in (parse(line) for line in log.splitlines()) if d and d.get("logger") == "cognate.request"
    ]


def parse_text(line: str) -> dict[str, Any] | None:
    m = re.match(r"^(\S+) (\w+) ([\w.]+): (\S+)(.*)$", line)
    if not m:
        return None
    fields = dict(re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', m.group(5)))
    return {"time": m.group(1), "level": m.group(2), "logger": m.group(3), "message": m.group(4), **fields}


def test_one_text_line_per_request_in_one_format(tmp_path: Path) -> None:
    with running_server(data_dir=tmp_path / "d") as srv:
        secrets = exercise(srv)
        bad = raw_post(srv, "NoSuchOperation", {})
        assert bad.status_code == 400
        log = log_once_written(srv, bad.headers["x-amzn-requestid"])
    lines = [line for line in log.splitlines() if line.strip()]
    logged = [
        line for line in lines if not line.startswith(("  export", "Generated", "For boto3", "and give"))
    ]
    assert all(TEXT_LINE.match(line) for line in logged), [x for x in logged if not TEXT_LINE.match(x)]
    assert any(" uvicorn.error: " in line for line in logged)  # uvicorn speaks in the same format
    requests = request_lines_of(log, parse_text)
    by_op = {}
    for r in requests:
        by_op.setdefault(r.get("operation") or r["path"], []).append(r)
    sign_ins = by_op["InitiateAuth"]
    assert [r["status"] for r in sign_ins] == ["200", "200", "400"]
    assert sign_ins[-1]["error"] == "NotAuthorizedException"
    assert all(re.fullmatch(r"[0-9a-f-]{36}", r["request_id"]) for r in requests)
    assert all(float(r["duration_ms"]) >= 0 for r in requests)
    assert by_op["NoSuchOperation"][0]["error"] == "UnknownOperationException"
    userinfo = [r for r in requests if r["path"] == "/oauth2/userInfo"]
    assert userinfo and userinfo[0]["status"] == "401" and userinfo[0]["method"] == "GET"
    # Public documents (JWKS, discovery, /health) are DEBUG lines: not at the default level.
    public = ("/.well-known/jwks.json", "/health")
    assert not [r for r in requests if r["path"].endswith(public)]
    # The generated admin secret is shown once, in the banner's line to paste; nowhere else.
    assert [line for line in lines if secrets["admin secret"] in line] == [
        line for line in lines if line.startswith("  export AWS_ACCESS_KEY_ID=")
    ]
    for what, value in secrets.items():
        assert value not in "\n".join(logged), f"the {what} is in the log"


def test_json_lines_for_machines(tmp_path: Path) -> None:
    with running_server("--log-format", "json", data_dir=tmp_path / "d") as srv:
        secrets = exercise(srv)
        response = raw_post(srv, "InitiateAuth", {"ClientId": "nope", "AuthFlow": "USER_PASSWORD_AUTH"})
        log = log_once_written(srv, response.headers["x-amzn-requestid"])
    docs = [json.loads(line) for line in log.splitlines() if line.strip()]  # every line is JSON
    assert {"time", "level", "logger", "message"} <= set(docs[0])
    assert any(d["logger"].startswith("uvicorn") for d in docs)
    requests = [d for d in docs if d["logger"] == "cognate.request"]
    failed = [d for d in requests if d.get("request_id") == response.headers["x-amzn-requestid"]]
    assert len(failed) == 1
    assert failed[0]["operation"] == "InitiateAuth"
    assert failed[0]["status"] == 400 and failed[0]["error"] == response.json()["__type"]
    assert isinstance(failed[0]["duration_ms"], float)
    for what, value in secrets.items():
        assert value not in log, f"the {what} is in the log"
    assert not any("export AWS_" in line for line in log.splitlines())


def test_public_documents_are_logged_at_debug(tmp_path: Path) -> None:
    with running_server("--log-level", "debug", data_dir=tmp_path / "d") as srv:
        pool = srv.boto().create_user_pool(PoolName="debug")["UserPool"]["Id"]
        fetched = httpx.get(f"{srv.url}/{pool}/.well-known/jwks.json?code=jwks-query-secret", timeout=10)
        unknown = httpx.get(f"{srv.url}/us-east-1_nope/.well-known/openid-configuration", timeout=10)
        health = httpx.get(f"{srv.url}/health", timeout=10)
        log = log_once_written(srv, health.headers["x-request-id"])
    assert (fetched.status_code, unknown.status_code, health.status_code) == (200, 404, 200)
    lines = {r["path"]: r for r in request_lines_of(log, parse_text)}
    assert lines[f"/{pool}/.well-known/jwks.json"]["level"] == "DEBUG"
    assert lines[f"/{pool}/.well-known/jwks.json"]["status"] == "200"
    assert lines[f"/{pool}/.well-known/jwks.json"]["request_id"] == fetched.headers["x-request-id"]
    assert (
        lines["/us-east-1_nope/.well-known/openid-configuration"]["status"],
        lines["/health"]["level"],
    ) == (
        "404",
        "DEBUG",
    )
    assert "jwks-query-secret" not in log


def test_requests_off_the_aws_door_get_a_request_id(server: Server) -> None:
    response = httpx.get(f"{server.url}/oauth2/userInfo", timeout=10)
    assert re.fullmatch(r"[0-9a-f-]{36}", response.headers["x-request-id"])
    aws = raw_post(server, "ListUserPools", {"MaxResults": 1})
    assert "x-request-id" not in aws.headers and aws.headers["x-amzn-requestid"]
