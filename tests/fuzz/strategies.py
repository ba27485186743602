"""What the AWS-door fuzz tests share: the hostile strings and JSON values, botocore's model,
and the check every answer must pass (a 200, or a Cognito-shaped 4xx of a type the
operation's model allows; never a 5xx)."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import httpx
from hypothesis import strategies as st

from tests.fuzz.support import Running, assert_sendable_headers
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


OVERSIZED = b'{"a":"' + b"a" * (1024 * 1024) + b'"}'  # over the 1 MiB body limit
DEEP = "\u2063deep\u2063"  # a placeholder value the encoder turns into deep nesting (see raw_bodies)


def deep(depth: int) -> bytes:
    """A body nested ``depth`` levels (as bytes: Python's own encoder would recurse)."""
    return b'{"a":[' * depth + b"1" + b"]}" * depth


def from_shape(shape: Any, known: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if kind == "structure":
        if depth > 4:
            return st.just({})
        required = set(shape.required_members)
        members = {name: _member(name, member, known, depth) for name, member in shape.members.items()}
        return st.fixed_dictionaries(
            {k: v for k, v in members.items() if k in required},
            optional={k: v for k, v in members.items() if k not in required},
        )
    if kind == "list":
        return st.lists(from_shape(shape.member, known, depth + 1), max_size=3)
    if kind == "map":
        return st.dictionaries(
            from_shape(shape.key, known, depth + 1), from_shape(shape.value, known, depth + 1), max_size=3
        )
    if kind == "string":
        if shape.enum:
            return st.sampled_from(shape.enum) | TEXT
        return TEXT
    if kind in ("integer", "long"):
        return st.integers(-(2**63), 2**63) | st.integers(-5, 100)
    if kind == "boolean":
        return st.booleans()
    if kind in ("double", "float"):
        return st.floats(allow_nan=False)
    if kind == "timestamp":
        return st.integers(0, 2**40) | TEXT
    return TEXT  # blob and anything new


def _member(name: str, member: Any, known: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    shaped = from_shape(member, known, depth + 1)
    if name in known:
        return st.one_of(st.just(known[name]), shaped)
    return shaped


def mutate(body: dict[str, Any]) -> st.SearchStrategy[Any]:
    keys = sorted(body)
    choices: list[st.SearchStrategy[Any]] = [
        st.just(body),
        st.builds(lambda k, v: {**body, k: v}, TEXT, JSON_ANY),  # an extra field
        st.builds(lambda k: {**body, k: DEEP}, TEXT),  # an extra field, deeply nested
        JSON_ANY,  # not the shape at all
    ]
    if keys:
        choices += [
            st.sets(st.sampled_from(keys), min_size=1).map(  # missing fields
                lambda gone: {n: v for n, v in body.items() if n not in gone}
            ),
            st.builds(lambda k, v: {**body, k: v}, st.sampled_from(keys), JSON_ANY),  # wrong type
            st.builds(lambda k: {**body, k: DEEP}, st.sampled_from(keys)),  # a known field, deeply nested
        ]
    return st.one_of(choices)


def _encode(body: Any, depth: int) -> bytes:
    nested = b"[" * depth + b"1" + b"]" * depth
    return json.dumps(body).encode().replace(json.dumps(DEEP).encode(), nested)


def input_shape(operation: str) -> Any:
    """botocore's input shape of ``operation`` (None for an operation this botocore lacks)."""
    if operation not in MODEL.operation_names:
        return None
    return MODEL.operation_model(operation).input_shape


def raw_bodies(operation: str, known: dict[str, Any]) -> st.SearchStrategy[bytes]:
    shape = input_shape(operation)
    bodies = from_shape(shape, known).flatmap(mutate) if shape is not None else JSON_ANY
    encoded = st.builds(_encode, bodies, st.sampled_from([3, 100, 5000]))
    garbage = st.sampled_from(
        [b"", b"{", b"\xff\xfe", b"[]", b"null", b'{"a":1,"a":2}', b"1e999999", OVERSIZED]
    )
    nested = st.sampled_from([100, 5000, 100000]).map(deep)
    return st.one_of(encoded, encoded, encoded, garbage | st.binary(max_size=64) | nested)


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
    assert_sendable_headers(resp)
    if resp.status_code == 200:
        return
    assert 400 <= resp.status_code < 500, (operation, what, resp.status_code, resp.text[:300])
    body = resp.json()
    assert isinstance(body.get("__type"), str) and body["__type"], resp.text
    assert isinstance(body.get("message"), str), resp.text
    assert resp.headers["x-amzn-errortype"].startswith(body["__type"])
    allowed = allowed_errors(operation)
    assert not allowed or body["__type"] in allowed, (operation, what, resp.text[:300])
