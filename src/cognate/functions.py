"""The functions file (docs/triggers.md): Lambda function name or ARN -> handler.

A handler is ``"python:package.module:function"`` (imported from the server's Python
path and called as ``handler(event, context)``) or an ``http://`` / ``https://`` URL
(the event is POSTed as JSON). The file is read and checked once at start, so a typo
stops ``cognate serve`` with a message instead of failing a sign-in later.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

from cognate.config import ConfigError

_PYTHON = re.compile(r"^python:([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*):([A-Za-z_]\w*)$")


def load(path: str) -> dict[str, str]:
    """The checked map; ConfigError names what is wrong."""
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the functions file {path}: {exc}") from exc
    if not isinstance(doc, dict):
        raise ConfigError(f"the functions file {path} must be a JSON object of name or ARN -> handler")
    for name, handler in doc.items():
        if not isinstance(handler, str):
            raise ConfigError(f"functions file {path}: the handler of {name!r} must be a string")
        if _PYTHON.match(handler):
            continue
        url = urlsplit(handler)
        if url.scheme in ("http", "https") and url.hostname:
            continue
        raise ConfigError(
            f"functions file {path}: the handler of {name!r} must be "
            f"'python:package.module:function' or an http(s) URL, not {handler!r}"
        )
    return {str(k): v for k, v in doc.items()}
