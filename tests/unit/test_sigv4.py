"""SigV4 verification against requests signed by botocore itself."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from cognate import errors
from cognate.awsjson.sigv4 import SignedRequest, verify

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
URL = "http://127.0.0.1:9229/"
BODY = json.dumps({"MaxResults": 10}).encode()
SIGNED_AT = dt.datetime(2024, 1, 1, 12, 0, 0)  # naive UTC, as botocore uses it
SIGNED_AT_TS = SIGNED_AT.replace(tzinfo=dt.UTC).timestamp()


def lookup(key_id: str) -> str | None:
    return {AKID: SECRET}.get(key_id)


def sign(
    monkeypatch: pytest.MonkeyPatch,
    *,
    url: str = URL,
    body: bytes = BODY,
    params: Mapping[str, str] | None = None,
    extra_headers: Mapping[str, str] | None = None,
    token: str | None = None,
    secret: str = SECRET,
    region: str = "us-east-1",
    service: str = "cognito-idp",
) -> SignedRequest:
    """Sign like botocore does at SIGNED_AT, then present the request as the server sees it."""
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: SIGNED_AT)
    headers = {
        "X-Amz-Target": "AWSCognitoIdentityProviderService.ListUserPools",
        "Content-Type": "application/x-amz-json-1.1",
        **(extra_headers or {}),
    }
    request = AWSRequest(method="POST", url=url, data=body, headers=headers, params=dict(params or {}))
    SigV4Auth(Credentials(AKID, secret, token), service, region).add_auth(request)
    prepared = request.prepare()
    wire: dict[str, str] = {k.lower(): v for k, v in prepared.headers.items()}
    parts = urlsplit(prepared.url)
    wire.setdefault("host", parts.netloc)  # the HTTP client adds Host
    raw_body = prepared.body
    assert isinstance(raw_body, bytes)
    return SignedRequest(
        method="POST", path=parts.path or "/", query=parts.query, headers=wire, body=raw_body
    )


def with_headers(req: SignedRequest, **changes: str) -> SignedRequest:
    return replace(req, headers={**req.headers, **changes})


def without_header(req: SignedRequest, name: str) -> SignedRequest:
    return replace(req, headers={k: v for k, v in req.headers.items() if k != name})


def raises(exc: type[errors.CognateError], fn: Callable[[], Any]) -> errors.CognateError:
    with pytest.raises(exc) as info:
        fn()
    return info.value


# --- valid requests -------------------------------------------------------------------


def test_valid_request_returns_access_key_id(monkeypatch: pytest.MonkeyPatch) -> None:
    req = sign(monkeypatch)
    assert req.headers["x-amz-date"] == "20240101T120000Z"
    assert req.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={AKID}/20240101/")
    assert verify(req, lookup, now=SIGNED_AT_TS) == AKID


def test_any_region_is_accepted_when_none_is_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    assert verify(sign(monkeypatch, region="eu-west-3"), lookup, now=SIGNED_AT_TS) == AKID


def test_the_pinned_region_only(monkeypatch: pytest.MonkeyPatch) -> None:
    req = sign(monkeypatch, region="eu-west-3")
    assert verify(sign(monkeypatch), lookup, now=SIGNED_AT_TS, region="us-east-1") == AKID
    exc = raises(
        errors.IncompleteSignatureException, lambda: verify(req, lookup, SIGNED_AT_TS, region="us-east-1")
    )
    assert "eu-west-3" in exc.message and "region" in exc.message


def test_required_headers_must_be_signed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A signature that leaves X-Amz-Target out would let a captured request name another operation."""
    req = _rewrite_auth(sign(monkeypatch), ";x-amz-target", "")
    assert "x-amz-target" not in req.headers["authorization"]
    exc = raises(
        errors.IncompleteSignatureException,
        lambda: verify(req, lookup, SIGNED_AT_TS, must_sign=("host", "x-amz-target")),
    )
    assert "'X-Amz-Target' must be a 'SignedHeader'" in exc.message


def test_valid_with_query_string_in_url(monkeypatch: pytest.MonkeyPatch) -> None:
    req = sign(monkeypatch, url=URL + "?b=2&a=1&c=x%20y%2Bz&a=0")
    assert req.query
    assert verify(req, lookup, now=SIGNED_AT_TS) == AKID


def test_valid_with_query_params(monkeypatch: pytest.MonkeyPatch) -> None:
    req = sign(monkeypatch, params={"z": "1", "a b": "x y+z/~", "m": ""})
    assert "+" in req.query  # botocore form-encodes params on the wire
    assert verify(req, lookup, now=SIGNED_AT_TS) == AKID


def test_tampered_query_string_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    req = sign(monkeypatch, url=URL + "?a=1")
    raises(errors.InvalidSignatureException, lambda: verify(replace(req, query="a=2"), lookup, SIGNED_AT_TS))


def test_valid_with_session_token(monkeypatch: pytest.MonkeyPatch) -> None:
    req = sign(monkeypatch, token="FQoGZXIvYXdzEXAMPLETOKEN")
    assert req.headers["x-amz-security-token"] == "FQoGZXIvYXdzEXAMPLETOKEN"
    assert "x-amz-security-token" in req.headers["authorization"]
    assert verify(req, lookup, now=SIGNED_AT_TS) == AKID
    tampered = with_headers(req, **{"x-amz-security-token": "other"})
    raises(errors.InvalidSignatureException, lambda: verify(tampered, lookup, SIGNED_AT_TS))


def test_valid_with_date_header_instead_of_x_amz_date(monkeypatch: pytest.MonkeyPatch) -> None:
    req = sign(monkeypatch, extra_headers={"Date": "placeholder"})
    assert "x-amz-date" not in req.headers
    assert req.headers["date"].startswith("Mon, 01 Jan 2024 12:00:00 ")  # botocore writes "-0000"
    assert verify(req, lookup, now=SIGNED_AT_TS) == AKID


def test_valid_with_matching_content_sha256(monkeypatch: pytest.MonkeyPatch) -> None:
    digest = hashlib.sha256(BODY).hexdigest()
    req = sign(monkeypatch, extra_headers={"X-Amz-Content-SHA256": digest})
    assert verify(req, lookup, now=SIGNED_AT_TS) == AKID


def test_mismatched_content_sha256_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = hashlib.sha256(b"something else").hexdigest()
    req = sign(monkeypatch, extra_headers={"X-Amz-Content-SHA256": wrong})
    raises(errors.InvalidSignatureException, lambda: verify(req, lookup, SIGNED_AT_TS))


def test_unsigned_extra_headers_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    req = with_headers(sign(monkeypatch), **{"user-agent": "anything", "x-forwarded-for": "10.0.0.1"})
    assert verify(req, lookup, now=SIGNED_AT_TS) == AKID


def test_header_whitespace_is_canonicalised(monkeypatch: pytest.MonkeyPatch) -> None:
    req = sign(monkeypatch, extra_headers={"X-Custom": "  a   b  "})
    assert verify(with_headers(req, **{"x-custom": "a b"}), lookup, now=SIGNED_AT_TS) == AKID


# --- signature mismatches -------------------------------------------------------------


def test_tampered_body_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    req = replace(sign(monkeypatch), body=json.dumps({"MaxResults": 60}).encode())
    exc = raises(errors.InvalidSignatureException, lambda: verify(req, lookup, SIGNED_AT_TS))
    assert exc.message == errors.InvalidSignatureException.default_message


def test_tampered_signed_header_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    req = with_headers(
        sign(monkeypatch), **{"x-amz-target": "AWSCognitoIdentityProviderService.DeleteUserPool"}
    )
    raises(errors.InvalidSignatureException, lambda: verify(req, lookup, SIGNED_AT_TS))


def test_tampered_path_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    req = replace(sign(monkeypatch), path="/other")
    raises(errors.InvalidSignatureException, lambda: verify(req, lookup, SIGNED_AT_TS))


def test_wrong_secret_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    req = sign(monkeypatch, secret="not-the-secret")
    exc = raises(errors.InvalidSignatureException, lambda: verify(req, lookup, SIGNED_AT_TS))
    assert SECRET not in exc.message and "not-the-secret" not in exc.message


# --- unknown key / missing or malformed Authorization ---------------------------------


def test_unknown_access_key(monkeypatch: pytest.MonkeyPatch) -> None:
    req = sign(monkeypatch)
    exc = raises(errors.UnrecognizedClientException, lambda: verify(req, lambda _k: None, SIGNED_AT_TS))
    assert exc.message == "The security token included in the request is invalid."


def test_missing_authorization(monkeypatch: pytest.MonkeyPatch) -> None:
    req = without_header(sign(monkeypatch), "authorization")
    exc = raises(errors.MissingAuthenticationTokenException, lambda: verify(req, lookup, SIGNED_AT_TS))
    assert exc.message == "Request is missing Authentication Token"


@pytest.mark.parametrize(
    "authorization",
    [
        "garbage",
        "Bearer abc.def.ghi",
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/cognito-idp/aws4_request",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/cognito-idp/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=nothex",
    ],
)
def test_garbage_authorization(monkeypatch: pytest.MonkeyPatch, authorization: str) -> None:
    req = with_headers(sign(monkeypatch), authorization=authorization)
    exc = raises(errors.IncompleteSignatureException, lambda: verify(req, lookup, SIGNED_AT_TS))
    assert exc.message


def _rewrite_auth(req: SignedRequest, old: str, new: str) -> SignedRequest:
    assert old in req.headers["authorization"]
    return with_headers(req, authorization=req.headers["authorization"].replace(old, new))


def test_bad_credential_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    req = _rewrite_auth(sign(monkeypatch), "/aws4_request", "")
    exc = raises(errors.IncompleteSignatureException, lambda: verify(req, lookup, SIGNED_AT_TS))
    assert "Credential" in exc.message


def test_wrong_service_in_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    req = sign(monkeypatch, service="cognito-identity")
    exc = raises(errors.IncompleteSignatureException, lambda: verify(req, lookup, SIGNED_AT_TS))
    assert "cognito-idp" in exc.message


def test_scope_date_must_match_request_date(monkeypatch: pytest.MonkeyPatch) -> None:
    req = _rewrite_auth(sign(monkeypatch), "/20240101/", "/20231231/")
    exc = raises(errors.IncompleteSignatureException, lambda: verify(req, lookup, SIGNED_AT_TS))
    assert "20231231" in exc.message and "20240101" in exc.message


def test_host_must_be_signed(monkeypatch: pytest.MonkeyPatch) -> None:
    req = _rewrite_auth(sign(monkeypatch), "SignedHeaders=content-type;host;", "SignedHeaders=content-type;")
    exc = raises(errors.IncompleteSignatureException, lambda: verify(req, lookup, SIGNED_AT_TS))
    assert "Host" in exc.message


def test_signed_header_absent_from_request(monkeypatch: pytest.MonkeyPatch) -> None:
    req = without_header(sign(monkeypatch), "x-amz-target")
    exc = raises(errors.IncompleteSignatureException, lambda: verify(req, lookup, SIGNED_AT_TS))
    assert "x-amz-target" in exc.message


def test_missing_date_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    req = without_header(sign(monkeypatch), "x-amz-date")
    exc = raises(errors.IncompleteSignatureException, lambda: verify(req, lookup, SIGNED_AT_TS))
    assert "X-Amz-Date" in exc.message


# --- clock skew -----------------------------------------------------------------------


def test_four_minutes_old_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert verify(sign(monkeypatch), lookup, now=SIGNED_AT_TS + 240) == AKID


def test_four_minutes_in_future_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert verify(sign(monkeypatch), lookup, now=SIGNED_AT_TS - 240) == AKID


def test_six_minutes_old_is_expired(monkeypatch: pytest.MonkeyPatch) -> None:
    req = sign(monkeypatch)
    exc = raises(errors.InvalidSignatureException, lambda: verify(req, lookup, SIGNED_AT_TS + 360))
    assert exc.message.startswith("Signature expired")
    assert exc.message == (
        "Signature expired: 20240101T120000Z is now earlier than 20240101T120100Z (20240101T120600Z - 5 min.)"
    )


def test_six_minutes_in_future_is_expired(monkeypatch: pytest.MonkeyPatch) -> None:
    req = sign(monkeypatch)
    exc = raises(errors.InvalidSignatureException, lambda: verify(req, lookup, SIGNED_AT_TS - 360))
    assert exc.message.startswith("Signature expired")
    assert exc.message == (
        "Signature expired: 20240101T120000Z is now later than 20240101T115900Z (20240101T115400Z + 5 min.)"
    )


def test_skew_window_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    req = sign(monkeypatch)
    assert verify(req, lookup, now=SIGNED_AT_TS + 360, max_skew_s=900) == AKID
    raises(errors.InvalidSignatureException, lambda: verify(req, lookup, SIGNED_AT_TS + 120, max_skew_s=60))


def test_signing_with_real_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without patching, pass `now` relative to the X-Amz-Date botocore chose."""
    monkeypatch.undo()
    request = AWSRequest(
        method="POST", url=URL, data=BODY, headers={"Content-Type": "application/x-amz-json-1.1"}
    )
    SigV4Auth(Credentials(AKID, SECRET), "cognito-idp", "us-east-1").add_auth(request)
    headers = {k.lower(): v for k, v in request.headers.items()} | {"host": "127.0.0.1:9229"}
    req = SignedRequest("POST", "/", "", headers, BODY)
    signed = dt.datetime.strptime(headers["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC).timestamp()
    assert verify(req, lookup, now=signed + 30) == AKID
