"""What the server logs, in one format: its own lines, uvicorn's, and one line per request.

``--log-format text`` (the default) writes ``TIME LEVEL LOGGER: message key=value ...``;
``--log-format json`` writes one JSON object per line (``time``, ``level``, ``logger``,
``message`` and the same fields), for log shippers. The same configuration is handed to
uvicorn, so its lines and its worker processes' lines look like Cognate's.

The request line carries the time, a request id (the AWS door's ``x-amzn-RequestId``;
another path gets an ``x-request-id``), the operation (``X-Amz-Target``) or the path,
the status, the error's ``__type`` (or OAuth ``error``), the duration and the client's
address (the peer's, or the one a proxy of ``--trusted-proxies`` forwarded). It never
carries a query string, a header value other than the target, or a body: passwords,
codes, tokens and secrets travel only there.
"""

from __future__ import annotations

import datetime
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

import orjson

from cognate.forwarded import Network, source_address

FORMATS = ("text", "json")
REQUEST_LOGGER = "cognate.request"
TARGET_PREFIX = b"AWSCognitoIdentityProviderService."
_MAX_ERROR_BODY = 4096  # enough for an OAuth error document; bigger bodies are not looked into

log = logging.getLogger(REQUEST_LOGGER)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


_SECOND: list[Any] = [None, ""]  # the last second formatted, and its text (one per second, not per line)
_NEEDS_QUOTES = re.compile(r'[ "=]')


def _time(record: logging.LogRecord) -> str:
    second = int(record.created)
    if _SECOND[0] != second:
        stamp = datetime.datetime.fromtimestamp(second, datetime.UTC)
        _SECOND[:] = [second, stamp.strftime("%Y-%m-%dT%H:%M:%S.")]
    return f"{_SECOND[1]}{int(record.msecs):03d}Z"


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "fields", None)
    return dict(fields) if isinstance(fields, dict) else {}


def _text_value(value: Any) -> str:
    text = str(value)
    if not text or _NEEDS_QUOTES.search(text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


class TextFormatter(logging.Formatter):
    """``2026-01-02T03:04:05.678Z INFO cognate.request: POST InitiateAuth status=200 ...``."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_time(record)} {record.levelname} {record.name}: {record.getMessage()}"
        extra = _fields(record)
        if extra:
            line += " " + " ".join(f"{k}={_text_value(v)}" for k, v in extra.items() if v is not None)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line.replace("\r", " ")


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        doc.update((k, v) for k, v in _fields(record).items() if v is not None)
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=str).decode()


def config(fmt: str = "text", level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` document for Cognate and uvicorn (also uvicorn's ``log_config``)."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}")
    formatter = "cognate.logs.JsonFormatter" if fmt == "json" else "cognate.logs.TextFormatter"
    handler = {"class": "logging.StreamHandler", "formatter": "cognate", "stream": "ext://sys.stderr"}
    lvl = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        # uvicorn sets use_colors on these two names when it is told to; both use ours.
        "formatters": {
            "cognate": {"()": formatter},
            "default": {"()": formatter},
            "access": {"()": formatter},
        },
        "handlers": {"cognate": handler},
        # Anything else that logs (asyncio, SQLAlchemy...) in the same format, warnings and up.
        "root": {"handlers": ["cognate"], "level": "WARNING"},
        "loggers": {
            "cognate": {"handlers": ["cognate"], "level": lvl, "propagate": False},
            "uvicorn": {"handlers": ["cognate"], "level": lvl, "propagate": False},
            "uvicorn.error": {"level": lvl},
            # Replaced by the request line below.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "alembic": {"handlers": ["cognate"], "level": "WARNING", "propagate": False},
        },
    }


class RequestLog:
    """ASGI middleware: one line per HTTP request, written when the response is complete."""

    def __init__(self, app: ASGIApp, trusted_proxies: Sequence[Network] = ()) -> None:
        self.app = app
        self.trusted_proxies = tuple(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 0, "request_id": None, "error": None, "body": None}

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = _note_start(message, state)
            elif message["type"] == "http.response.body" and state["body"] is not None:
                _note_body(message, state)
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        except BaseException:
            if not state["status"]:
                state["status"] = 500
            raise
        finally:
            _write(scope, state, started, self.trusted_proxies)


def _note_start(message: Message, state: dict[str, Any]) -> Message:
    """Note status, request id and error; the message to send (a copy when a header is added)."""
    state["status"] = message["status"]
    headers = list(message.get("headers", []))
    wanted = {b"x-amzn-requestid": "request_id", b"x-amzn-errortype": "error"}
    is_json = False
    for name, value in headers:
        key = name.lower()
        if key in wanted:
            text = value.decode("latin-1")
            state[wanted[key]] = text.split(":", 1)[0] if key == b"x-amzn-errortype" else text
        elif key == b"content-type":
            is_json = value.split(b";")[0].strip().lower() == b"application/json"
    if state["request_id"] is None:
        request_id = str(uuid.uuid4())
        state["request_id"] = request_id
        headers.append((b"x-request-id", request_id.encode()))
        message = {**message, "headers": headers}  # never change a message the app may send again
    if state["status"] >= 400 and state["error"] is None and is_json:
        state["body"] = b""  # an OAuth error document: its "error" names the failure
    return message


def _note_body(message: Message, state: dict[str, Any]) -> None:
    body = state["body"] + message.get("body", b"")
    if len(body) > _MAX_ERROR_BODY:
        state["body"] = None
        return
    state["body"] = body
    if not message.get("more_body", False):
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("error"), str):
            state["error"] = doc["error"][:64]
        state["body"] = None


def _operation(scope: Scope) -> str | None:
    if scope.get("path") != "/":
        return None
    for name, value in scope.get("headers", []):
        if name.lower() == b"x-amz-target":
            if value.startswith(TARGET_PREFIX):
                return str(value[len(TARGET_PREFIX) :].decode("latin-1")[:64])
            return "?"
    return None


def _client(scope: Scope, trusted: Sequence[Network]) -> str | None:
    """The client's address: the peer's, or the one a trusted proxy forwarded (forwarded.py)."""
    client = scope.get("client")
    peer = client[0] if client else None
    if not trusted:
        return peer
    for name, value in scope.get("headers", []):
        if name.lower() == b"x-forwarded-for":  # the first, as the doors read it
            return source_address(peer, value.decode("latin-1"), trusted)
    return peer


def _write(scope: Scope, state: dict[str, Any], started: float, trusted: Sequence[Network] = ()) -> None:
    status = state["status"]
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    operation = _operation(scope)
    fields = {
        "request_id": state["request_id"],
        "method": scope.get("method"),
        "path": str(scope.get("path"))[:200],
        "operation": operation,
        "status": status,
        "error": state["error"],
        "duration_ms": duration_ms,
        "client": _client(scope, trusted),
    }
    level = logging.ERROR if status >= 500 else logging.INFO
    if log.isEnabledFor(level):
        # The record made directly: Logger.log would walk the stack for a caller no format shows.
        log.handle(
            log.makeRecord(log.name, level, __file__, 0, "request", (), None, extra={"fields": fields})
        )
