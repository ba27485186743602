"""The address a request came from: the peer's, or the one a trusted proxy forwarded.

``X-Forwarded-For`` (the de facto header; RFC 7239 section 5.2 for its standard
cousin ``Forwarded: for=``) lists the addresses a request passed through, each proxy
appending the address it received the request from. Anyone can write the header, so
it is believed only as far as the operator's own proxies vouch for it: walking the
list from the right (the entry our peer appended), entries are skipped while the hop
that wrote them is a trusted proxy, and the first address written by an untrusted hop
is the source (the approach of nginx's ``real_ip_recursive`` and Rails'
``RemoteIp``). With no trusted proxies (the default) the peer's address is the source.
Used for per-address limits (codes sent) and what triggers see as the source IP.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any

Network = IPv4Network | IPv6Network


def _parse(text: str) -> IPv4Address | IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ip_address(text)
    except ValueError:
        return None


def _trusted(address: IPv4Address | IPv6Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def source_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str | None:
    """The request's source address (see the module's docstring)."""
    if not peer:
        return None
    if not trusted or not forwarded_for:  # the usual case, decided without parsing anything
        return peer
    current = _parse(peer)
    if current is None:
        return peer
    for entry in reversed(forwarded_for.split(",")):
        if not _trusted(current, trusted):
            break
        hop = _parse(entry)
        if hop is None:  # garbage written by the client: stop at the last hop we trust
            break
        current = hop
    return str(current)


def request_source(request: Any) -> str | None:
    """The source address of a Starlette request (the OAuth door and the hosted pages).

    The trusted proxies are the ones the composition root put on ``app.state``.
    """
    peer = request.client.host if request.client else None
    trusted = getattr(request.app.state, "trusted_proxies", ())
    return source_address(peer, request.headers.get("x-forwarded-for"), trusted)
