"""Opaque pagination tokens (``NextToken``, ``PaginationToken``) for the List* operations.

A token carries the sort key of the last item of the previous page; to a caller it
is an opaque string, and one that was not made here is refused with
InvalidParameterException (instead of silently starting somewhere else).
"""

from __future__ import annotations

import base64
import binascii
import json

from cognate.errors import InvalidParameterException


def encode(after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode()


def decode(token: str) -> str:
    try:
        doc = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, binascii.Error):
        doc = None
    if not isinstance(doc, dict) or not isinstance(doc.get("after"), str):
        raise InvalidParameterException("Invalid pagination token.")
    return str(doc["after"])
