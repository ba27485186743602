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

import asyncio
import datetime
import logging
import os
import secrets
import threading
import time
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


def _id_prefix() -> str:
    hex_digits = secrets.token_hex(10)
    return f"{hex_digits[:8]}-{hex_digits[8:12]}-{hex_digits[12:16]}-{hex_digits[16:20]}-"


# Request ids: 80 random bits drawn once per process, then a 48-bit counter. As unique as
# a random UUID across workers and nodes (it is no secret), in the same 36-character
# shape, without a system call for randomness on every request.
_ID: list[Any] = [_id_prefix(), 0]


def _new_id_prefix_after_fork() -> None:
    _ID[:] = [_id_prefix(), 0]


os.register_at_fork(after_in_child=_new_id_prefix_after_fork)


def new_request_id() -> str:
    """A fresh request id (``x-amzn-RequestId``, ``x-request-id``): 36 characters, UUID-shaped."""
    n = _ID[1] = _ID[1] + 1
    if n >= 1 << 48:  # 2^48 requests later: a new random prefix
        _new_id_prefix_after_fork()
        n = _ID[1] = 1
    return f"{_ID[0]}{n:012x}"


_SECOND: list[Any] = [None, ""]  # the last second formatted, and its text (one per second, not per line)


def _stamp(created: float, msecs: float) -> str:
    second = int(created)
    if _SECOND[0] != second:
        stamp = datetime.datetime.fromtimestamp(second, datetime.UTC)
        _SECOND[:] = [second, stamp.strftime("%Y-%m-%dT%H:%M:%S.")]
    return f"{_SECOND[1]}{int(msecs):03d}Z"


def _time(record: logging.LogRecord) -> str:
    return _stamp(record.created, record.msecs)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "fields", None)
    return dict(fields) if isinstance(fields, dict) else {}


class TextFormatter(logging.Formatter):
    """``2026-01-02T03:04:05.678Z INFO cognate.request: POST InitiateAuth status=200 ...``."""

    def format(self, record: logging.LogRecord) -> str:
        extra = getattr(record, "fields", None)
        line = self.line(_time(record), record.levelname, record.name, record.getMessage(), extra)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line.replace("\r", " ")

    @staticmethod
    def line(stamp: str, level: str, logger: str, message: str, extra: Any) -> str:
        """The line without an exception's traceback (which ``format`` adds)."""
        line = f"{stamp} {level} {logger}: {message}"
        if isinstance(extra, dict) and extra:
            parts = [line]
            for k, v in extra.items():
                if v is None:
                    continue
                kind = type(v)
                if kind is int or kind is float:  # numbers never need quotes (status, duration_ms)
                    parts.append(f"{k}={v}")
                    continue
                text = v if kind is str else str(v)
                if not text or " " in text or '"' in text or "=" in text:  # (three scans beat a regex)
                    text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
                parts.append(f"{k}={text}")
            line = " ".join(parts)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        doc = self.document(
            _time(record), record.levelname, record.name, record.getMessage(), _fields(record)
        )
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=str).decode()

    @staticmethod
    def document(stamp: str, level: str, logger: str, message: str, extra: dict[str, Any]) -> dict[str, Any]:
        doc: dict[str, Any] = {"time": stamp, "level": level, "logger": logger, "message": message}
        doc.update((k, v) for k, v in extra.items() if v is not None)
        return doc


class RoundFlushingHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that, in the event loop, writes once the loop's current round is done.

    Lines logged from the event loop's thread are kept, whole, in a list; a callback the
    loop runs after the callbacks already due writes them with one ``write`` and one
    ``flush`` (one system call for the round, where a line-buffered stderr made one per
    line). Lines from other threads, and every line outside a running loop (start-up,
    shutdown), are written and flushed at once, after those still kept, as
    ``logging.StreamHandler`` does; ``logging.shutdown`` writes what is left at exit.
    """

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self._kept: list[str] = []  # lines of the current round, in order
        self._pending: set[asyncio.AbstractEventLoop] = set()  # loops with a write to come

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record) + self.terminator
        except Exception:  # as StreamHandler.emit
            self.handleError(record)
            return
        self._put(text, record)

    def _put(self, text: str, record: logging.LogRecord | None) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        with self.lock:  # type: ignore[union-attr]
            if loop is None:
                self._write_now(text, record)
                return
            self._kept.append(text)
            if loop not in self._pending:
                self._pending.add(loop)
                loop.call_soon(self._write_kept, loop)

    def _write_now(self, text: str = "", record: logging.LogRecord | None = None) -> None:
        """Under the lock: the kept lines, then ``text``, written and flushed; a failure is
        reported as ``logging.StreamHandler`` reports it, never raised into the caller."""
        kept = self._kept
        if kept:
            self._kept = []
            text = "".join(kept) + text
        try:
            if text:
                self.stream.write(text)
            self.stream.flush()
        except Exception:
            self.handleError(record or _record(logging.INFO, {}))

    def _write_kept(self, loop: asyncio.AbstractEventLoop) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._pending.discard(loop)
            self._write_now()

    def flush(self) -> None:
        """Write what is kept now (``logging.shutdown`` and anyone who asks)."""
        with self.lock:  # type: ignore[union-attr]
            if self.stream is not None:
                self._write_now()

    def write_request(self, fields: dict[str, Any]) -> bool:
        """Write an INFO request line straight from its fields, in this handler's format, as
        ``format`` would write its record (a LogRecord and the handler chain cost more than
        the line); False when the formatter is not one of Cognate's."""
        formatter = self.formatter
        kind = type(formatter)
        if kind is not TextFormatter and kind is not JsonFormatter:
            return False
        now_ns = time.time_ns()
        stamp = _stamp(now_ns / 1e9, (now_ns % 1_000_000_000) // 1_000_000)
        if kind is TextFormatter:
            text = TextFormatter.line(stamp, "INFO", REQUEST_LOGGER, "request", fields).replace("\r", " ")
        else:
            doc = JsonFormatter.document(stamp, "INFO", REQUEST_LOGGER, "request", fields)
            text = orjson.dumps(doc, default=str).decode()
        self._put(text + self.terminator, None)
        return True


def config(fmt: str = "text", level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` document for Cognate and uvicorn (also uvicorn's ``log_config``)."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}")
    formatter = "cognate.logs.JsonFormatter" if fmt == "json" else "cognate.logs.TextFormatter"
    handler = {
        "class": "cognate.logs.RoundFlushingHandler",
        "formatter": "cognate",
        "stream": "ext://sys.stderr",
    }
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


# Fetched over and over by every resource server and load balancer, the same for all, with
# no credential: their lines (a 404 for an unknown pool's included) are DEBUG, shown by
# ``--log-level debug``, so they neither drown the lines of sign-ins and admin calls nor
# cost every fetch a line. An exception in one is still logged by uvicorn, as ERROR.
PUBLIC_DOCUMENT_SUFFIXES = ("/.well-known/jwks.json", "/.well-known/openid-configuration")
PUBLIC_DOCUMENT_PATHS = frozenset({"/health"})


def is_public_document(scope: Scope) -> bool:
    """A GET or HEAD of /health, a pool's JWKS or its discovery document."""
    path: str = scope["path"]
    return (path in PUBLIC_DOCUMENT_PATHS or path.endswith(PUBLIC_DOCUMENT_SUFFIXES)) and scope["method"] in (
        "GET",
        "HEAD",
    )


class _Note:
    """What the request line needs from the response, noted as it is sent."""

    __slots__ = ("body", "error", "level", "request_id", "status")

    def __init__(self) -> None:
        self.level = logging.INFO  # of a successful answer's line
        self.status = 0
        self.request_id: str | None = None
        self.error: str | None = None
        self.body: bytes | None = None  # an OAuth error document being read, else None


class RequestLog:
    """ASGI middleware: one line per HTTP request, written when the response is complete."""

    def __init__(self, app: ASGIApp, trusted_proxies: Sequence[Network] = ()) -> None:
        self.app = app
        self.trusted_proxies = tuple(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        note = _Note()
        if is_public_document(scope):  # logged at DEBUG: polled, public and the same for all
            note.level = logging.DEBUG
        if not log.isEnabledFor(note.level):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = _note_start(message, note)
            elif note.body is not None and message["type"] == "http.response.body":
                _note_body(message, note)
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        except BaseException:
            if not note.status:
                note.status = 500
            raise
        finally:
            _write(scope, note, started, self.trusted_proxies)


def _note_start(message: Message, note: _Note) -> Message:
    """Note status, request id and error; the message to send (a copy when a header is added)."""
    status = note.status = message["status"]
    headers = message.get("headers", ())
    is_json = False
    for name, value in headers:  # ASGI response header names are lower-case
        if name[:2] != b"x-" and name != b"content-type":
            continue
        if name == b"x-amzn-requestid":
            note.request_id = value.decode("latin-1")
        elif name == b"x-amzn-errortype":
            note.error = value.decode("latin-1").split(":", 1)[0]
        elif name == b"content-type" and status >= 400:
            is_json = value.split(b";")[0].strip().lower() == b"application/json"
    if note.request_id is None:
        request_id = note.request_id = new_request_id()
        # a new message: never change one the app may send again
        message = {**message, "headers": [*headers, (b"x-request-id", request_id.encode())]}
    if is_json and note.error is None:
        note.body = b""  # an OAuth error document: its "error" names the failure
    return message


def _note_body(message: Message, note: _Note) -> None:
    body = (note.body or b"") + message.get("body", b"")
    if len(body) > _MAX_ERROR_BODY:
        note.body = None
        return
    note.body = body
    if not message.get("more_body", False):
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("error"), str):
            note.error = doc["error"][:64]
        note.body = None


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


def _write(scope: Scope, note: _Note, started: float, trusted: Sequence[Network] = ()) -> None:
    status = note.status
    level = logging.ERROR if status >= 500 else note.level
    if not log.isEnabledFor(level):
        return
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    fields = {
        "request_id": note.request_id,
        "method": scope.get("method"),
        "path": str(scope.get("path"))[:200],
        "operation": _operation(scope),
        "status": status,
        "error": note.error,
        "duration_ms": duration_ms,
        "client": _client(scope, trusted),
    }
    handler = _direct_handler() if level == logging.INFO else None
    if handler is not None and handler.write_request(fields):
        return
    # The record made directly: Logger.log would walk the stack for a caller no format shows.
    log.handle(_record(level, fields))


def _direct_handler() -> RoundFlushingHandler | None:
    """Cognate's own handler when it alone is to see the request line (as ``config`` sets
    up logging), so the line can be written without a LogRecord; else None."""
    if log.disabled or log.handlers or log.filters or not log.propagate:
        return None
    parent = log.parent
    if parent is None or parent.propagate or parent.filters or len(parent.handlers) != 1:
        return None
    handler = parent.handlers[0]
    if type(handler) is not RoundFlushingHandler or handler.filters or handler.level > logging.INFO:
        return None
    return handler


_SHARED: dict[str, Any] = {}  # what every request record of this process has in common
os.register_at_fork(after_in_child=_SHARED.clear)  # a forked child has its own process id


def _record(level: int, fields: dict[str, Any]) -> logging.LogRecord:
    """The request's LogRecord, as ``Logger.makeRecord`` would make it, for a fraction of its cost.

    ``LogRecord.__init__`` works out, for every record, what is the same for each request
    line (the source file's names, the process's name, the logging module's flags); those
    are taken from one record made the ordinary way (again after a fork), and only the
    time and the thread are filled in per record.
    """
    if not _SHARED:
        model = log.makeRecord(log.name, logging.INFO, __file__, 0, "request", (), None)
        _SHARED.update(vars(model))
    record = logging.LogRecord.__new__(logging.LogRecord)
    attrs = vars(record)
    attrs.update(_SHARED)
    now_ns = time.time_ns()
    created = now_ns / 1e9
    attrs["created"] = created
    attrs["msecs"] = (now_ns % 1_000_000_000) // 1_000_000 + 0.0
    attrs["relativeCreated"] = (created - logging._startTime) * 1000  # type: ignore[attr-defined]
    attrs["levelno"] = level
    attrs["levelname"] = logging.getLevelName(level)
    if _SHARED.get("thread") is not None:
        attrs["thread"] = threading.get_ident()
        attrs["threadName"] = threading.current_thread().name
    attrs["fields"] = fields
    return record
