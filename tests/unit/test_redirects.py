"""core/redirects.py: which callback/sign-out URLs a client may register, and exact matching."""

from __future__ import annotations

import pytest

from cognate.core.redirects import check_registered, matches, problem
from cognate.errors import InvalidParameterException


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/callback",
        "https://example.com",
        "https://example.com:8443/cb?tenant=1&x=y",
        "https://app.example.com/cb?next=https://other.example.com",
        "http://localhost:3000/callback",
        "http://localhost/cb",
        "http://127.0.0.1:8080/cb",
        "http://[::1]:8080/cb",
        "myapp://callback",
        "com.example.app://oauth2redirect",
        "https://example.com/a%20b",
    ],
)
def test_registrable(url: str) -> None:
    assert problem(url) is None
    check_registered([url], "CallbackURLs")


@pytest.mark.parametrize(
    "url",
    [
        # HTTP only for localhost (Cognito).
        "http://example.com/cb",
        "http://localhost.evil.com/cb",
        "http://127.0.0.1.evil.com/cb",
        # Script-bearing and local schemes.
        "javascript:alert(1)",
        "javascript://example.com/%0aalert(1)",
        "JaVaScRiPt://example.com/%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "data://text/html,x",
        "vbscript://x",
        "file:///etc/passwd",
        # User information: browsers go to the host after the @.
        "https://user@example.com/cb",
        "https://example.com@evil.com/cb",
        "https://user:pw@example.com/cb",
        # Backslashes: browsers read them as slashes.
        "https://evil.com\\@example.com/cb",
        "https://example.com\\cb",
        "https:\\\\evil.com",
        # Dot segments and path parameters.
        "https://example.com/cb/../evil",
        "https://example.com/./cb",
        "https://example.com/cb/..",
        "https://example.com/cb;jsessionid=1",
        # Fragments, even empty ones.
        "https://example.com/cb#frag",
        "https://example.com/cb#",
        # Whitespace and control characters.
        "https://example.com/c b",
        "https://example.com/cb\n",
        "https://example.com/cb\t",
        " https://example.com/cb",
        "https://example.com/\x00cb",
        "https://example.com/\x7fcb",
        # Not absolute, no host, bad port, empty, too long.
        "/callback",
        "example.com/cb",
        "com.example.app:/oauth2redirect",
        "https:///cb",
        "https://example.com:99999/cb",
        "https://example.com:port/cb",
        "",
        "https://example.com/" + "a" * 1024,
    ],
)
def test_refused(url: str) -> None:
    assert problem(url) is not None
    with pytest.raises(InvalidParameterException, match="CallbackURLs"):
        check_registered(["https://example.com/ok", url], "CallbackURLs")


@pytest.mark.parametrize("url", ["https://example.com/cb/%2e%2e/evil", "https://example.com/%2E./evil"])
def test_encoded_dot_segments_are_refused(url: str) -> None:
    assert problem(url) is not None


@pytest.mark.parametrize("url", ["https://example.com%40evil.com/cb", "https://example.com%2540evil.com/cb"])
def test_percent_in_host_is_refused(url: str) -> None:
    assert problem(url) is not None


def test_check_registered_names_the_url() -> None:
    with pytest.raises(InvalidParameterException, match=r"http://example\.com/cb"):
        check_registered(["http://example.com/cb"], "LogoutURLs")
    check_registered([], "LogoutURLs")


REGISTERED = ["https://app.example.com/cb", "http://localhost:3000/callback", "myapp://cb"]


@pytest.mark.parametrize("given", REGISTERED)
def test_exact_match(given: str) -> None:
    assert matches(REGISTERED, given)


@pytest.mark.parametrize(
    "given",
    [
        "https://app.example.com/cb/",
        "https://app.example.com/cb?x=1",
        "https://app.example.com/cb#x",
        "https://app.example.com/CB",
        "HTTPS://app.example.com/cb",
        "https://APP.example.com/cb",
        "https://app.example.com:443/cb",
        "https://app.example.com/%63b",  # percent-encoded "c"
        "https://app.example.com/cb%25",
        "https://app.example.com/cb/../cb",
        "https://app.example.com/./cb",
        "https://app.example.com\\cb",
        "https://app.example.com@evil.com/cb",
        "https://evil.com@app.example.com/cb",
        "https://app.example.com.evil.com/cb",
        "https://app.example.com/c",
        "http://localhost:3001/callback",
        "http://localhost/callback",
        "myapp://cb/",
        "javascript:alert(1)",
        "",
    ],
)
def test_everything_else_does_not_match(given: str) -> None:
    assert not matches(REGISTERED, given)


def test_nothing_registered_matches_nothing() -> None:
    assert not matches([], "https://app.example.com/cb")
    assert not matches([], "")
