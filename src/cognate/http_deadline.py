"""uvicorn's HTTP/1.1 protocol with a read deadline: a request must arrive whole in time.

uvicorn (0.3x-0.5x) times out idle keep-alive connections but not a request being
read: a client that sends half its headers, or a body one byte a minute, holds a
connection (and its memory) for as long as it likes, and a few hundred of them fill a
server ("slowloris"). This protocol gives each request a deadline, counted from the
moment its connection opens or its first byte arrives, for the request line, headers
and body to arrive; past it the connection is closed (with ``408 Request Timeout``
when no request was being answered yet), as nginx's ``client_header_timeout`` and
``client_body_timeout`` and Apache's ``mod_reqtimeout`` do (RFC 9110 section 15.5.9).

Once a request has arrived, answering it takes as long as it takes; between requests,
uvicorn's keep-alive timeout applies.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

DEFAULT_READ_TIMEOUT_S = 30.0
_TIMEOUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class DeadlineProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that closes a connection whose request has not arrived in time."""

    # Each worker process sets it from its settings when it builds the app (``configure``),
    # before uvicorn opens its socket; uvicorn imports this class by name in every worker.
    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One timer per connection, moved on only when it fires: arming and cancelling a
        # timer for every request of a keep-alive connection cost more than the check.
        self._deadline: asyncio.TimerHandle | None = None
        self._due: float | None = None  # when the request being read must be in

    def _start_deadline(self) -> None:
        if self._due is None:
            self._due = self.loop.time() + self.read_timeout_s
            if self._deadline is None:
                self._deadline = self.loop.call_at(self._due, self._check_deadline)

    def _stop_deadline(self) -> None:
        self._due = None  # the timer stays; when it fires it finds nothing due

    def _check_deadline(self) -> None:
        self._deadline = None
        due = self._due
        if due is None:
            return
        if self.loop.time() < due:  # a later request's deadline
            self._deadline = self.loop.call_at(due, self._check_deadline)
            return
        self._due = None
        self._read_timed_out()

    def _read_timed_out(self) -> None:
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            # Still reading a request line or headers: nothing else will be written.
            self.transport.write(_TIMEOUT_RESPONSE)
        # Otherwise the application is reading the body: it sees a disconnect.
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_deadline()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_deadline()

    def on_message_complete(self) -> None:
        self._stop_deadline()
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._due = None
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        super().connection_lost(exc)


def configure(read_timeout_s: float) -> None:
    DeadlineProtocol.read_timeout_s = read_timeout_s
