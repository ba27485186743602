"""An HTTP server that answers trigger events, started by the tests (http(s):// handlers).

``POST /<name>`` runs the function of that name in ``trigger_handlers`` on the JSON
event and answers with its result as JSON; an exception gives 500 with Lambda's error
JSON (``errorType``, ``errorMessage``). ``/slow`` never answers in time, ``/garbage``
answers something that is not JSON.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

from tests.support import trigger_handlers


class _Handler(BaseHTTPRequestHandler):
    calls: list[dict[str, Any]]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except BrokenPipeError:  # the caller gave up waiting (the timeout tests)
            pass

    def do_POST(self) -> None:
        event = json.loads(self.rfile.read(int(self.headers["content-length"])))
        name = self.path.strip("/")
        self.server.calls.append({"path": name, "event": json.loads(json.dumps(event))})  # type: ignore[attr-defined]
        if name == "slow":
            time.sleep(2)
            return self._answer(200, json.dumps(event).encode())
        if name == "garbage":
            return self._answer(200, b"<html>not json</html>")
        fn = getattr(trigger_handlers, name)
        context = SimpleNamespace(
            function_name=name,
            aws_request_id=self.headers.get("x-amz-request-id", ""),
            get_remaining_time_in_millis=lambda: 5000,
        )
        try:
            result = fn(event, context)
        except Exception as exc:
            return self._answer(
                500, json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()
            )
        self._answer(200, json.dumps(result).encode())


@contextmanager
def http_handlers() -> Iterator[Any]:
    """A running server; ``.url`` is its base, ``.calls`` what it received."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.calls = []  # type: ignore[attr-defined]
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        server.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
        yield server
    finally:
        server.shutdown()
        server.server_close()
