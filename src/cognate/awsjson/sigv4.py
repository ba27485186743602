"""AWS Signature Version 4 verification for the AWS JSON 1.1 endpoint (``POST /``).

The algorithm is the one AWS documents for signing requests:

* https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
  (canonical request, string to sign, signing key, signature)
* https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html
  (Authorization header, credential scope, date headers)
* https://docs.aws.amazon.com/IAM/latest/UserGuide/signature-v4-troubleshooting.html
  (error shapes)

Canonicalisation follows botocore's ``botocore.auth.SigV4Auth`` (the reference client
for non-S3 services), so every request botocore signs verifies here: the URI path has
its dot segments and empty segments removed and is then percent-encoded once more
(``safe="/~"``); the query string is decoded and re-encoded with only RFC 3986
unreserved characters left alone and sorted by key then value (botocore's raw-URL form,
sorted but not re-encoded, is accepted too); header values are trimmed with runs of
whitespace collapsed to one space.

This module is pure: it does no I/O and never logs. Secrets never appear in messages.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote_plus

from cognate import errors

__all__ = ["ALGORITHM", "SignedRequest", "verify"]

ALGORITHM = "AWS4-HMAC-SHA256"
_TERMINATOR = "aws4_request"
_AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_QUERY_SAFE = "-_.~"
_PATH_SAFE = "/~"


@dataclass(frozen=True)
class SignedRequest:
    """The parts of an HTTP request that SigV4 covers.

    ``path`` is the request path as it appeared on the wire (still percent-encoded);
    ``query`` is the raw query string without the ``?`` (may be ``""``). ``headers``
    has lower-cased names; a header sent more than once is joined with ``","``.
    """

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class _Authorization:
    access_key_id: str
    scope_date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def credential_scope(self) -> str:
        return f"{self.scope_date}/{self.region}/{self.service}/{_TERMINATOR}"


def verify(
    req: SignedRequest,
    lookup_secret: Callable[[str], str | None],
    now: float,
    service: str = "cognito-idp",
    max_skew_s: int = 300,
    region: str | None = None,
    must_sign: tuple[str, ...] = ("host",),
) -> str:
    """Return the access key id when the signature is valid; raise otherwise.

    ``lookup_secret`` maps an access key id to its secret access key (``None`` when
    the key is unknown). ``now`` is the current POSIX time in seconds. ``region``, when
    given, is the only region a credential scope may name (an endpoint serves one
    region, as AWS's do). ``must_sign`` lists the headers that must be among the signed
    ones: ``host`` always, and for AWS JSON ``x-amz-target``, which names the operation;
    unsigned, a captured request could be replayed as another operation.

    Raises ``MissingAuthenticationTokenException`` (no Authorization header),
    ``IncompleteSignatureException`` (malformed header, scope or signed headers),
    ``UnrecognizedClientException`` (unknown access key) and
    ``InvalidSignatureException`` (expired/future date, payload hash or signature
    mismatch).
    """
    authorization = req.headers.get("authorization")
    if authorization is None or not authorization.strip():
        raise errors.MissingAuthenticationTokenException()
    auth = _parse_authorization(authorization)

    amz_date, signed_at = _request_date(req.headers)
    if auth.service != service:
        raise errors.IncompleteSignatureException(
            f"Credential should be scoped to correct service: '{service}'."
        )
    if region is not None and auth.region != region:
        raise errors.IncompleteSignatureException(
            f"Credential should be scoped to a valid region, not '{auth.region}'. "
        )
    if auth.scope_date != amz_date[:8]:
        raise errors.IncompleteSignatureException(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
            f"HTTP: '{auth.scope_date}' != '{amz_date[:8]}', from '{amz_date}'."
        )
    for name in dict.fromkeys(("host", *must_sign)):
        if name not in auth.signed_headers:
            shown = "-".join(part.capitalize() for part in name.split("-"))
            raise errors.IncompleteSignatureException(
                f"'{shown}' must be a 'SignedHeader' in the AWS Authorization."
            )
    missing = [name for name in auth.signed_headers if name not in req.headers]
    if missing:
        raise errors.IncompleteSignatureException(
            f"Signed header '{missing[0]}' is not present in the request."
        )

    _check_skew(signed_at, now, max_skew_s)

    secret = lookup_secret(auth.access_key_id)
    if secret is None:
        raise errors.UnrecognizedClientException()

    payload_hash = _payload_hash(req)
    provided = auth.signature.encode("ascii")
    matched = False
    for canonical_query in _canonical_queries(req.query):
        canonical_request = _canonical_request(req, auth, canonical_query, payload_hash)
        expected = _signature(secret, auth, amz_date, canonical_request).encode("ascii")
        matched |= hmac.compare_digest(expected, provided)
    if not matched:
        raise errors.InvalidSignatureException()
    return auth.access_key_id


# --- Authorization header -----------------------------------------------------------


def _parse_authorization(value: str) -> _Authorization:
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise errors.IncompleteSignatureException(
            f"Unsupported AWS 'algorithm': '{algorithm}'. Expected '{ALGORITHM}'."
        )
    params: dict[str, str] = {}
    for part in rest.split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, val = part.partition("=")
        key = key.strip()
        if not sep or key in params:
            raise errors.IncompleteSignatureException(
                "Authorization header must be of the form 'AWS4-HMAC-SHA256 Credential=..., "
                "SignedHeaders=..., Signature=...'."
            )
        params[key] = val.strip()

    problems = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "SignedHeaders", "Signature")
        if not params.get(name)
    ]
    if problems:
        raise errors.IncompleteSignatureException(" ".join(problems))

    credential = params["Credential"].split("/")
    if len(credential) != 5 or not all(credential):
        raise errors.IncompleteSignatureException(
            "Credential must have exactly 5 slash-delimited elements, e.g. "
            "keyid/date/region/service/aws4_request."
        )
    access_key_id, scope_date, region, scope_service, terminator = credential
    if terminator != _TERMINATOR:
        raise errors.IncompleteSignatureException(
            f"Credential should be scoped with a valid terminator: '{_TERMINATOR}', not '{terminator}'."
        )
    if len(scope_date) != 8 or not scope_date.isdigit():
        raise errors.IncompleteSignatureException(
            f"Credential should be scoped to a valid date (YYYYMMDD), not '{scope_date}'."
        )

    signed_headers = tuple(params["SignedHeaders"].split(";"))
    if any(not name or name != name.strip().lower() for name in signed_headers) or len(
        set(signed_headers)
    ) != len(signed_headers):
        raise errors.IncompleteSignatureException(
            "SignedHeaders must be a ';'-separated list of distinct lower-case header names."
        )

    signature = params["Signature"]
    if len(signature) != 64 or any(c not in "0123456789abcdef" for c in signature):
        raise errors.IncompleteSignatureException("Signature must be 64 lower-case hexadecimal characters.")

    return _Authorization(
        access_key_id=access_key_id,
        scope_date=scope_date,
        region=region,
        service=scope_service,
        signed_headers=signed_headers,
        signature=signature,
    )


# --- Dates --------------------------------------------------------------------------


def _request_date(headers: Mapping[str, str]) -> tuple[str, datetime]:
    """The ISO-8601 basic timestamp used in the string to sign, and the same as a datetime."""
    amz_date = headers.get("x-amz-date")
    if amz_date is not None:
        amz_date = amz_date.strip()
        try:
            parsed = datetime.strptime(amz_date, _AMZ_DATE_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            raise errors.IncompleteSignatureException(
                f"X-Amz-Date must be in ISO-8601 basic format (YYYYMMDD'T'HHMMSS'Z'), not '{amz_date}'."
            ) from None
        return amz_date, parsed

    http_date = headers.get("date")
    if http_date is None:
        raise errors.IncompleteSignatureException(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    try:
        parsed = parsedate_to_datetime(http_date.strip())
    except (TypeError, ValueError):
        raise errors.IncompleteSignatureException(
            "Date header must be an RFC 1123 date, e.g. 'Mon, 01 Jan 2024 00:00:00 GMT'."
        ) from None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return parsed.strftime(_AMZ_DATE_FORMAT), parsed


def _check_skew(signed_at: datetime, now: float, max_skew_s: int) -> None:
    current = datetime.fromtimestamp(now, UTC)
    skew = timedelta(seconds=max_skew_s)
    window = f"{max_skew_s // 60} min." if max_skew_s % 60 == 0 else f"{max_skew_s} sec."
    if signed_at < current - skew:
        raise errors.InvalidSignatureException(
            f"Signature expired: {_fmt(signed_at)} is now earlier than {_fmt(current - skew)} "
            f"({_fmt(current)} - {window})"
        )
    if signed_at > current + skew:
        raise errors.InvalidSignatureException(
            f"Signature expired: {_fmt(signed_at)} is now later than {_fmt(current + skew)} "
            f"({_fmt(current)} + {window})"
        )


def _fmt(moment: datetime) -> str:
    return moment.strftime(_AMZ_DATE_FORMAT)


# --- Canonical request --------------------------------------------------------------


def _payload_hash(req: SignedRequest) -> str:
    actual = hashlib.sha256(req.body).hexdigest()
    declared = req.headers.get("x-amz-content-sha256")
    if declared is None:
        return actual
    if not hmac.compare_digest(declared.strip().lower().encode(), actual.encode()):
        raise errors.InvalidSignatureException(
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        )
    return declared


def _canonical_uri(path: str) -> str:
    """botocore's ``_normalize_url_path``: drop dot/empty segments, then encode (again)."""
    if not path:
        return "/"
    segments: list[str] = []
    for segment in path.split("/"):
        if not segment or segment == ".":
            continue
        if segment == "..":
            if segments:
                segments.pop()
        else:
            segments.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and segments else ""
    return quote(first + "/".join(segments) + last, safe=_PATH_SAFE)


def _canonical_queries(query: str) -> list[str]:
    """Canonical query strings to try, most standard first.

    The first is AWS's: each key and value decoded (``+`` as space, as an HTML form
    encoder such as botocore's ``params`` path sends it) and re-encoded leaving only
    RFC 3986 unreserved characters, sorted by key then value. The second is botocore's
    for a query already in the request URL: the raw pairs, sorted, not re-encoded. They
    agree for any properly percent-encoded query; both are bound to the query on the wire.
    """
    if not query:
        return [""]
    pairs: list[tuple[str, str]] = []
    raw_pairs: list[tuple[str, str]] = []
    for item in query.split("&"):
        key, _, value = item.partition("=")
        raw_pairs.append((key, value))
        if item:
            pairs.append(
                (quote(unquote_plus(key), safe=_QUERY_SAFE), quote(unquote_plus(value), safe=_QUERY_SAFE))
            )
    candidates = ["&".join(f"{key}={value}" for key, value in sorted(pairs))]
    raw = "&".join(f"{key}={value}" for key, value in sorted(raw_pairs))
    if raw != candidates[0]:
        candidates.append(raw)
    return candidates


def _canonical_request(
    req: SignedRequest, auth: _Authorization, canonical_query: str, payload_hash: str
) -> str:
    names = sorted(auth.signed_headers)
    canonical_headers = "".join(f"{name}:{' '.join(req.headers[name].split())}\n" for name in names)
    return "\n".join(
        [
            req.method.upper(),
            _canonical_uri(req.path),
            canonical_query,
            canonical_headers,
            ";".join(names),
            payload_hash,
        ]
    )


# --- Signature ----------------------------------------------------------------------


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def _signature(secret: str, auth: _Authorization, amz_date: str, canonical_request: str) -> str:
    string_to_sign = "\n".join(
        [
            ALGORITHM,
            amz_date,
            auth.credential_scope,
            hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
        ]
    )
    k_date = _hmac(f"AWS4{secret}".encode(), auth.scope_date)
    k_region = _hmac(k_date, auth.region)
    k_service = _hmac(k_region, auth.service)
    k_signing = _hmac(k_service, _TERMINATOR)
    return hmac.new(k_signing, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
