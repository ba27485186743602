"""Opaque pagination tokens (``NextToken``, ``PaginationToken``) for the List* operations.

A token carries the sort key of the last item of the previous page and the listing
it belongs to (its ``scope``: the pool, the filter, the user...); to a caller it is an
opaque string, and one that was not made here, or was made for another listing, is
refused with InvalidParameterException (instead of silently starting somewhere else).
"""

from __future__ import annotations

import base64
import binascii
import json

from cognate.errors import InvalidParameterException


def encode(after: str, scope: str = "") -> str:
    doc = {"after": after, "scope": scope} if scope else {"after": after}
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode()


def decode(token: str, scope: str = "") -> str:
    try:
        doc = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        doc = None
    if not isinstance(doc, dict) or not isinstance(doc.get("after"), str):
        raise InvalidParameterException("Invalid pagination token.")
    if doc.get("scope", "") != scope:
        raise InvalidParameterException("Invalid pagination token: it belongs to another listing.")
    return str(doc["after"])
