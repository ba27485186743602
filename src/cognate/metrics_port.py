"""``--metrics-port``: ``/metrics`` on a port of its own, served by the ``cognate serve`` process.

An operator who would rather keep ``/metrics`` off the public port (and reach it only
from the scraper's network) gives it a port of its own. The ``cognate serve`` process
answers there in a thread, with the sum of every worker's figures (prometheus-client's
multiprocess files, see metrics_files.py), in plain HTTP; with ``--metrics-token`` the
bearer token is asked there too. Import this module only once the multiprocess folder is
chosen: it imports prometheus-client.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CONTENT_TYPE_LATEST

from cognate.metrics import PATH, bearer_matches, exposition

TEXT = "text/plain; charset=utf-8"
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None  # a scrape every few seconds is not worth a log line


def metrics_app(token: str | None) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    expected = token.encode() if token else None

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        def answer(
            status: str, body: bytes, content_type: str = TEXT, *extra: tuple[str, str]
        ) -> list[bytes]:
            headers = [("Content-Type", content_type), ("Cache-Control", "no-store"), *extra]
            start_response(status, [*headers, ("Content-Length", str(len(body)))])
            return [body]

        method = environ.get("REQUEST_METHOD", "GET")
        if environ.get("PATH_INFO") != PATH:
            return answer("404 Not Found", b"not found: the metrics are at /metrics\n")
        if method not in ("GET", "HEAD"):
            return answer("405 Method Not Allowed", b"method not allowed\n", TEXT, ("Allow", "GET, HEAD"))
        given = environ.get("HTTP_AUTHORIZATION")
        if not bearer_matches(given.encode("latin-1") if given else None, expected):
            challenge = ("WWW-Authenticate", "Bearer")
            return answer("401 Unauthorized", b"a bearer token is required\n", TEXT, challenge)
        body = exposition(None)
        return answer("200 OK", body if method == "GET" else b"", CONTENT_TYPE_LATEST)

    return app


class MetricsPort:
    """The metrics server of ``cognate serve`` on ``host:port``, in a daemon thread."""

    def __init__(self, host: str, port: int, token: str | None) -> None:
        server_class = _Server6 if ":" in host else _Server
        self.server = make_server(
            host.strip("[]"), port, metrics_app(token), server_class=server_class, handler_class=_Quiet
        )
        self.thread = threading.Thread(target=self.server.serve_forever, name="cognate-metrics", daemon=True)

    def start(self) -> MetricsPort:
        self.thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
