"""forwarded.py: X-Forwarded-For is believed only as far as trusted proxies vouch for it."""

from __future__ import annotations

from ipaddress import ip_network

from cognate.forwarded import source_address

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
