"""What the AWS-door fuzz tests share: the hostile strings and JSON values, botocore's model,
and the check every answer must pass (a 200, or a Cognito-shaped 4xx of a type the
operation's model allows; never a 5xx)."""

from __future__ import annotations

from typing import Any

import botocore.session
import httpx
from hypothesis import strategies as st

from tests.fuzz.support import Running
from tests.support.inprocess import CONTENT_TYPE, TARGET

MODEL = botocore.session.get_session().get_service_model("cognito-idp")

CONTROL = st.text(st.characters(max_codepoint=0x1F) | st.characters(categories=["Cc", "Cf", "Zl", "Zp"]))
TEXT = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), max_size=20),
    CONTROL,
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3),  # lone surrogates (JSON-escaped)
    st.sampled_from(
        ["", " ", "\x00", "\u202e", "\ud7ff", "%s%n", "../..", "null", "' OR 1=1 --", "${jndi:x}"]
    ),
    # huge (built late: short reprs), yet a few in one body stay under the 1 MiB body limit
    st.sampled_from([50, 2049, 20000]).map(lambda n: "\U0001f4a5" * n),
    st.sampled_from([257, 4097, 100_000]).map(lambda n: "a" * n),
)
JSON_ANY = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)
# Errors every operation may answer besides its own (the AWS JSON protocol's and the signature's).
COMMON_ERRORS = {
    "SerializationException",
    "UnknownOperationException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "MissingAuthenticationTokenException",
    "IncompleteSignatureException",
    "RequestEntityTooLargeException",
    "AccessDeniedException",
}


def allowed_errors(operation: str) -> set[str]:
    """The error types Cognito's model lets ``operation`` answer, and the protocol's own."""
    if operation not in MODEL.operation_names:
        return set()  # an operation this botocore lacks: any Cognito-shaped type
    return COMMON_ERRORS | {e.name for e in MODEL.operation_model(operation).error_shapes}


def post(running: Running, operation: str, payload: bytes, *, signed: bool) -> httpx.Response:
    api = running.api
    headers = {"X-Amz-Target": TARGET + operation, "Content-Type": CONTENT_TYPE}
    if signed:
        headers = api._sign(headers, payload)
    return running.run(api.http.post("/", content=payload, headers=headers))


def check_answer(resp: httpx.Response, operation: str, what: Any) -> None:
    """A 200, or a 4xx with ``__type`` (one ``operation`` may answer), ``message`` and the header."""
    assert resp.status_code < 500, (operation, what, resp.text[:500])
    if resp.status_code == 200:
        return
    assert 400 <= resp.status_code < 500, (operation, what, resp.status_code, resp.text[:300])
    body = resp.json()
    assert isinstance(body.get("__type"), str) and body["__type"], resp.text
    assert isinstance(body.get("message"), str), resp.text
    assert resp.headers["x-amzn-errortype"].startswith(body["__type"])
    allowed = allowed_errors(operation)
    assert not allowed or body["__type"] in allowed, (operation, what, resp.text[:300])
