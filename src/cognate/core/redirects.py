"""Redirect (callback and sign-out) URLs: what a client may register, and exact matching.

Cognito: a redirect URI must be absolute, have no fragment, and use HTTPS except
``http://localhost`` (for testing); app schemes such as ``myapp://cb`` are allowed.
RFC 9700 section 2.1: exact string matching. Registrations that browsers would read
differently from us (userinfo, backslashes, control characters, dot segments) and
script-bearing schemes are refused outright (Keycloak CVE-2026-7504, CVE-2026-9086).
"""

from __future__ import annotations

import hmac
from urllib.parse import unquote, urlsplit

from cognate.errors import InvalidParameterException

_FORBIDDEN_SCHEMES = {"javascript", "data", "vbscript", "file", "blob", "about"}
_LOOPBACK = {"localhost", "127.0.0.1", "[::1]"}


def problem(url: str) -> str | None:
    """Why ``url`` cannot be registered, or None."""
    if not url or len(url) > 1024:
        return "must be between 1 and 1024 characters"
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url) or "\\" in url:
        return "must not contain whitespace, control characters or backslashes"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "is not a valid URL"
    scheme = parts.scheme.lower()
    if scheme in _FORBIDDEN_SCHEMES:
        return f"must not use the {scheme} scheme"
    if not scheme or "://" not in url:
        return "must be an absolute URL"
    if parts.fragment or "#" in url:
        return "must not include a fragment"
    if "@" in parts.netloc:
        return "must not include user information"
    if "%" in parts.netloc:
        # "%40" is an "@" (and "%25" a "%") to a browser that decodes the host.
        return "must not include percent-encoding in the host"
    # Browsers (WHATWG URL) read "%2e%2e" as "..", so dot segments are checked decoded too.
    segments = [unquote(seg) for seg in parts.path.split("/")]
    if any(seg in (".", "..") for seg in segments) or ";" in parts.path:
        return "must not include dot segments or path parameters"
    if scheme in ("http", "https"):
        if not parts.hostname:
            return "must include a host"
        try:
            _ = parts.port
        except ValueError:
            return "has an invalid port"
        if scheme == "http" and (parts.hostname or "").lower() not in {h.strip("[]") for h in _LOOPBACK}:
            return "must use HTTPS (HTTP is allowed only for localhost)"
    return None


def check_registered(urls: list[str], what: str) -> None:
    for url in urls:
        why = problem(url)
        if why:
            raise InvalidParameterException(f"Invalid {what}: {url} {why}.")


def matches(registered: list[str], given: str) -> bool:
    """Exact string match against one of the registered URLs (compared in constant time)."""
    found = False
    for url in registered:
        if len(url) == len(given) and hmac.compare_digest(url.encode(), given.encode()):
            found = True
    return found
