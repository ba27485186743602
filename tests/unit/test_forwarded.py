"""forwarded.py: X-Forwarded-For is believed only as far as trusted proxies vouch for it."""

from __future__ import annotations

from ipaddress import ip_network

from starlette.applications import Starlette
from starlette.requests import Request

from cognate.forwarded import request_source, source_address

PROXIES = (ip_network("10.0.0.0/8"), ip_network("::1/128"))


def test_without_trusted_proxies_the_peer_is_the_source() -> None:
    assert source_address("10.0.0.1", "203.0.113.9", ()) == "10.0.0.1"
    assert source_address(None, "203.0.113.9", PROXIES) is None


def test_a_peer_that_is_not_a_trusted_proxy_is_not_believed() -> None:
    assert source_address("198.51.100.1", "203.0.113.9", PROXIES) == "198.51.100.1"


def test_the_rightmost_untrusted_hop_is_the_source() -> None:
    assert source_address("10.0.0.1", "203.0.113.9", PROXIES) == "203.0.113.9"
    # A client that forges entries to the left of its own changes nothing.
    assert source_address("10.0.0.1", "1.2.3.4, 203.0.113.9", PROXIES) == "203.0.113.9"
    # Chained trusted proxies are walked through.
    assert source_address("10.0.0.1", "203.0.113.9, 10.1.1.1", PROXIES) == "203.0.113.9"
    assert source_address("::1", "[2001:db8::5]:443", PROXIES) == "2001:db8::5"


def test_garbage_stops_at_the_last_trusted_hop() -> None:
    assert source_address("10.0.0.1", "203.0.113.9, not-an-ip", PROXIES) == "10.0.0.1"
    assert source_address("10.0.0.1", "", PROXIES) == "10.0.0.1"


def _request(peer: str, forwarded: str | None, trusted: str | None) -> Request:
    app = Starlette()
    if trusted is not None:
        app.state.trusted_proxies = (ip_network(trusted),)
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "app": app, "client": (peer, 1234), "headers": headers})


def test_the_oauth_door_and_the_pages_believe_only_the_operators_proxies() -> None:
    """Both Starlette doors take their source address from request_source (issue 7, item 13)."""
    assert request_source(_request("10.0.0.5", "203.0.113.9", "10.0.0.0/8")) == "203.0.113.9"
    assert request_source(_request("198.51.100.7", "203.0.113.9", "10.0.0.0/8")) == "198.51.100.7"
    assert request_source(_request("10.0.0.5", "203.0.113.9", None)) == "10.0.0.5"
