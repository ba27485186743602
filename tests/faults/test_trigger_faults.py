"""A trigger's endpoint down, slow or answering garbage (issue 14).

An HTTP server the test starts answers each function's events with one fault; the
functions file points the pools' LambdaConfig at it (and at a port nobody listens on).
Each call must end within Cognito's bound (three attempts of the function's timeout,
shortened here to 1 s), with the error Cognito names for the case (docs/triggers.md:
UnexpectedLambdaException when nothing usable came back in time, InvalidLambdaResponse
when the answer is not an event, UserLambdaValidation when the function says it failed),
and leave nothing behind: no user after a failed PreSignUp or CustomMessage, an
unconfirmed user and a code still good after a failed PostConfirmation, no refresh token
stored or rotated after a failed PreAuthentication, PostAuthentication or
PreTokenGeneration, no user after a failed UserMigration.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.faults.load import boto
from tests.support.invariants import check_invariants, read_table
from tests.support.server import Server, free_port, running_server

TIMEOUT_MS = 1000
ATTEMPTS = 3
# Three attempts of the timeout, and room for a loaded machine: never a hang.
BOUND_S = ATTEMPTS * TIMEOUT_MS / 1000 + 4
PASSWORD = "Passw0rd!"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

UNEXPECTED, INVALID, VALIDATION = (
    "UnexpectedLambdaException",
    "InvalidLambdaResponseException",
    "UserLambdaValidationException",
)
# fault -> the error Cognito gives for it
FAULTS = {
    "refused": UNEXPECTED,  # nothing listens on the port
    "hang": UNEXPECTED,  # takes the request, never answers
    "drip": UNEXPECTED,  # answers a byte at a time, slower than the timeout in all
    "reset": UNEXPECTED,  # closes the connection without an answer
    "truncated": UNEXPECTED,  # promises a body and closes half-way
    "empty": INVALID,  # 200 and nothing
    "not-json": INVALID,  # 200 and an HTML page
    "array": INVALID,  # 200 and JSON that is not an event
    "huge": INVALID,  # 200 and more than Lambda's 6 MB
    "html-500": VALIDATION,  # the function's own error, as a web server words it
}


class _Faulty(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _head(self, status: int, length: int, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(length))
        self.end_headers()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        fault = self.path.strip("/")
        self.server.calls[fault] = self.server.calls.get(fault, 0) + 1  # type: ignore[attr-defined]
        try:
            self._fault(fault)
        except OSError:  # the caller gave up: as it should
            pass

    def _fault(self, fault: str) -> None:
        if fault == "hang":
            time.sleep(ATTEMPTS * TIMEOUT_MS / 1000 + 10)
        elif fault == "drip":
            self._head(200, 10_000)
            for _ in range(10_000):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.1)
        elif fault == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
            self.close_connection = True
        elif fault == "truncated":
            self._head(200, 1000)
            self.wfile.write(b'{"version": "1", "respo')
            self.close_connection = True
        elif fault == "empty":
            self._head(200, 0)
        elif fault == "not-json":
            body = b"<html><body>Bad gateway</body></html>"
            self._head(200, len(body), "text/html")
            self.wfile.write(body)
        elif fault == "array":
            self._head(200, 2)
            self.wfile.write(b"[]")
        elif fault == "huge":
            chunk = b" " * (1 << 20)
            self._head(200, 8 * len(chunk) + 2)
            for _ in range(8):
                self.wfile.write(chunk)
            self.wfile.write(b"{}")
        elif fault == "html-500":
            body = b"<html><body>Internal Server Error</body></html>"
            self._head(500, len(body), "text/html")
            self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the faults break connections on purpose


@pytest.fixture(scope="module")
def faulty() -> Iterator[Any]:
    server = _Server(("127.0.0.1", 0), _Faulty)
    server.calls = {}  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def cognate(faulty: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("trigger-faults")
    base = f"http://127.0.0.1:{faulty.server_address[1]}"
    functions = {name: f"{base}/{name}" for name in FAULTS}
    functions["refused"] = f"http://127.0.0.1:{free_port()}/refused"
    (tmp / "functions.json").write_text(json.dumps(functions))
    env = {"COGNATE_TEST_LAMBDA_TIMEOUT_MS": str(TIMEOUT_MS)}
    with running_server("--functions", str(tmp / "functions.json"), data_dir=tmp / "data", env=env) as server:
        yield server
    print(f"\ntrigger faults: {sum(faulty.calls.values())} calls answered with a fault ({faulty.calls})")
    violations = check_invariants(f"sqlite:///{tmp / 'data' / 'cognate.db'}")
    assert violations == [], violations


def arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"


def make_pool(admin: Any, **lambdas: str) -> tuple[str, str]:
    pool_id = admin.create_user_pool(
        PoolName=f"f{uuid.uuid4().hex[:8]}",
        AutoVerifiedAttributes=["email"],
        LambdaConfig={trigger: arn(fn) for trigger, fn in lambdas.items()},
    )["UserPool"]["Id"]
    client_id = admin.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="c",
        ExplicitAuthFlows=FLOWS,
        PreventUserExistenceErrors="LEGACY",
        RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 0},
    )["UserPoolClient"]["ClientId"]
    return pool_id, client_id


def failing(trigger: str, fault: str, call: Callable[[], Any]) -> str:
    """Make the call that runs the faulty function: its error (checked), within the bound."""
    started = time.monotonic()
    with pytest.raises(ClientError) as caught:
        call()
    took = time.monotonic() - started
    error = caught.value.response["Error"]
    assert took < BOUND_S, f"{trigger} / {fault}: {took:.1f} s"
    assert error["Code"] == FAULTS[fault], (fault, error)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    if FAULTS[fault] == UNEXPECTED:
        assert error["Message"].startswith(f"{trigger} invocation failed due to error "), error
    elif FAULTS[fault] == VALIDATION:
        assert error["Message"].startswith(f"{trigger} failed with error "), error
    return str(error["Message"])


def user_exists(admin: Any, pool_id: str, name: str) -> bool:
    try:
        admin.admin_get_user(UserPoolId=pool_id, Username=name)
    except admin.exceptions.UserNotFoundException:
        return False
    return True


def refresh_tokens_of(server: Server, pool_id: str) -> list[dict[str, Any]]:
    rows = read_table(f"sqlite:///{server.data_dir / 'cognate.db'}", "refresh_tokens")
    return [r for r in rows if r["pool_id"] == pool_id]


def confirmed_user(admin: Any, pool_id: str) -> tuple[str, dict[str, str]]:
    name = f"u{uuid.uuid4().hex[:8]}"
    admin.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS")
    admin.admin_set_user_password(UserPoolId=pool_id, Username=name, Password=PASSWORD, Permanent=True)
    return name, {"USERNAME": name, "PASSWORD": PASSWORD}


# --- PreSignUp: every fault ---------------------------------------------------------------


@pytest.mark.parametrize("fault", list(FAULTS))
def test_pre_sign_up_fault_stores_no_user(cognate: Server, faulty: Any, fault: str) -> None:
    admin, public = boto(cognate), boto(cognate, signed=False)
    pool_id, client_id = make_pool(admin, PreSignUp=fault)
    name = f"u{uuid.uuid4().hex[:8]}"
    calls_before = faulty.calls.get(fault, 0)
    failing("PreSignUp", fault, lambda: public.sign_up(ClientId=client_id, Username=name, Password=PASSWORD))
    assert not user_exists(admin, pool_id, name)
    failing(
        "PreSignUp",
        fault,
        lambda: admin.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS"),
    )
    assert not user_exists(admin, pool_id, name)
    if fault != "refused":  # three attempts when nothing usable came back, as Cognito
        attempts = ATTEMPTS if FAULTS[fault] == UNEXPECTED else 1
        assert faulty.calls.get(fault, 0) - calls_before == 2 * attempts


# --- the other triggers: a hung endpoint and a garbage answer -----------------------------

SOME = ["hang", "not-json"]  # every fault is tried on PreSignUp above


@pytest.mark.parametrize("fault", SOME)
def test_custom_message_fault_undoes_the_sign_up(cognate: Server, fault: str) -> None:
    admin, public = boto(cognate), boto(cognate, signed=False)
    pool_id, client_id = make_pool(admin, CustomMessage=fault)
    name = f"u{uuid.uuid4().hex[:8]}"
    email = [{"Name": "email", "Value": f"{name}@example.com"}]
    failing(
        "CustomMessage",
        fault,
        lambda: public.sign_up(ClientId=client_id, Username=name, Password=PASSWORD, UserAttributes=email),
    )
    assert not user_exists(admin, pool_id, name)
    assert not [m for m in cognate.outbox() if m["username"] == name]


@pytest.mark.parametrize("fault", SOME)
def test_post_confirmation_fault_leaves_the_user_unconfirmed_and_the_code_good(
    cognate: Server, fault: str
) -> None:
    admin, public = boto(cognate), boto(cognate, signed=False)
    pool_id, client_id = make_pool(admin)
    name = f"u{uuid.uuid4().hex[:8]}"
    email = [{"Name": "email", "Value": f"{name}@example.com"}]
    public.sign_up(ClientId=client_id, Username=name, Password=PASSWORD, UserAttributes=email)
    (code,) = [m["code"] for m in cognate.outbox() if m["username"] == name]
    admin.update_user_pool(
        UserPoolId=pool_id, AutoVerifiedAttributes=["email"], LambdaConfig={"PostConfirmation": arn(fault)}
    )

    def confirm() -> Any:
        return public.confirm_sign_up(ClientId=client_id, Username=name, ConfirmationCode=code)

    failing("PostConfirmation", fault, confirm)
    user = admin.admin_get_user(UserPoolId=pool_id, Username=name)
    assert user["UserStatus"] == "UNCONFIRMED"
    assert {a["Name"]: a["Value"] for a in user["UserAttributes"]}.get("email_verified") != "true"
    admin.update_user_pool(UserPoolId=pool_id, AutoVerifiedAttributes=["email"], LambdaConfig={})
    confirm()  # the same code, once the function is gone
    assert admin.admin_get_user(UserPoolId=pool_id, Username=name)["UserStatus"] == "CONFIRMED"


@pytest.mark.parametrize("trigger", ["PreAuthentication", "PostAuthentication", "PreTokenGeneration"])
@pytest.mark.parametrize("fault", SOME)
def test_sign_in_trigger_fault_issues_and_stores_nothing(cognate: Server, trigger: str, fault: str) -> None:
    admin, public = boto(cognate), boto(cognate, signed=False)
    pool_id, client_id = make_pool(admin, **{trigger: fault})
    _name, params = confirmed_user(admin, pool_id)

    def sign_in() -> Any:
        return public.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=params)

    failing(trigger, fault, sign_in)
    assert refresh_tokens_of(cognate, pool_id) == []


@pytest.mark.parametrize("fault", SOME)
def test_pre_token_generation_fault_on_refresh_rotates_nothing(cognate: Server, fault: str) -> None:
    admin, public = boto(cognate), boto(cognate, signed=False)
    pool_id, client_id = make_pool(admin)
    _name, params = confirmed_user(admin, pool_id)
    token = public.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=params)[
        "AuthenticationResult"
    ]["RefreshToken"]
    before = refresh_tokens_of(cognate, pool_id)
    admin.update_user_pool(UserPoolId=pool_id, LambdaConfig={"PreTokenGeneration": arn(fault)})

    def refresh() -> Any:
        return public.get_tokens_from_refresh_token(RefreshToken=token, ClientId=client_id)

    failing("PreTokenGeneration", fault, refresh)
    assert refresh_tokens_of(cognate, pool_id) == before  # not rotated, nothing added
    admin.update_user_pool(UserPoolId=pool_id, LambdaConfig={})
    assert refresh()["AuthenticationResult"]["RefreshToken"] != token  # the token still works


@pytest.mark.parametrize("fault", SOME)
def test_user_migration_fault_creates_no_user(cognate: Server, fault: str) -> None:
    admin, public = boto(cognate), boto(cognate, signed=False)
    pool_id, client_id = make_pool(admin, UserMigration=fault)
    name = f"old{uuid.uuid4().hex[:8]}"
    params = {"USERNAME": name, "PASSWORD": PASSWORD}
    failing(
        "UserMigration",
        fault,
        lambda: public.initiate_auth(
            ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=params
        ),
    )
    assert not user_exists(admin, pool_id, name)
