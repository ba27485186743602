"""``/metrics`` in Prometheus' text format (prometheus-client), for an operator's scraper.

Off unless ``--metrics-token`` (``COGNATE_METRICS_TOKEN``) is set; then ``GET /metrics``
with ``Authorization: Bearer TOKEN`` answers, anything else gets 401. What it counts:

- ``cognate_requests_total{endpoint, status}`` and ``cognate_request_duration_seconds{endpoint}``:
  every HTTP request, by Cognito operation (``X-Amz-Target``) or route template (never a
  raw path: pool ids and unknown paths do not become labels), and status class;
- ``cognate_sign_ins_total{flow, result}``: each InitiateAuth / RespondToAuthChallenge step
  by AuthFlow or challenge, ending ``authenticated``, ``challenge`` or an error's ``__type``;
- ``cognate_lockouts_total``: attempts refused because the user was locked out.

With ``--workers N`` each worker writes its figures to ``<data-dir>/metrics`` (prometheus-client's
multiprocess mode, chosen by ``PROMETHEUS_MULTIPROC_DIR`` before the library is imported;
``cognate serve`` sets it and empties the folder at start) and any worker answers with the
sum of all. See https://prometheus.github.io/client_python/multiprocess/.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Iterable, MutableMapping
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess

from cognate import config
from cognate.logs import TARGET_PREFIX, ASGIApp, Receive, Send

PATH = "/metrics"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

Scope = MutableMapping[str, Any]


def _multiprocess() -> bool:
    return config.metrics_multiprocess_dir() is not None


class Metrics:
    """The counters of one server process; also the core's ``Events``."""

    def __init__(self, token: str, operations: Iterable[str], routes: Iterable[tuple[re.Pattern[str], str]]):
        self.token = token.encode()
        self.operations = frozenset(operations)
        self.routes = tuple(routes)
        # Multiprocess mode: the values live in files; a fresh registry reads them all at scrape.
        self.registry: CollectorRegistry | None = None if _multiprocess() else CollectorRegistry()
        self.requests = Counter(
            "cognate_requests",
            "HTTP requests by endpoint (Cognito operation or route) and status class",
            ("endpoint", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "cognate_request_duration_seconds",
            "Time to answer an HTTP request, by endpoint",
            ("endpoint",),
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.sign_ins = Counter(
            "cognate_sign_ins",
            "Sign-in steps by flow (AuthFlow or challenge) and result",
            ("flow", "result"),
            registry=self.registry,
        )
        self.lockouts = Counter(
            "cognate_lockouts",
            "Sign-in attempts refused while the user was locked out",
            registry=self.registry,
        )

    # --- the core's Events ---------------------------------------------------------

    def sign_in(self, flow: str, result: str) -> None:
        self.sign_ins.labels(flow, result).inc()

    def lockout(self) -> None:
        self.lockouts.inc()

    # --- scraping ------------------------------------------------------------------

    def exposition(self) -> bytes:
        if self.registry is not None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)

    def authorized(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", []):
            if name.lower() == b"authorization":
                scheme, _, given = value.partition(b" ")
                return scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), self.token)
        return False

    def endpoint(self, scope: Scope) -> str:
        """A bounded label: the operation, the route template, or ``other``."""
        path = str(scope.get("path", ""))
        if path == "/":
            for name, value in scope.get("headers", []):
                if name.lower() == b"x-amz-target":
                    operation = bytes(value[len(TARGET_PREFIX) :]).decode("latin-1")
                    if value.startswith(TARGET_PREFIX) and operation in self.operations:
                        return operation
                    return "unknown_operation"
            return "/"
        if path == PATH:
            return PATH
        for pattern, template in self.routes:
            if pattern.match(path):
                return template
        return "other"


class MetricsMiddleware:
    """ASGI: counts and times every request; answers ``GET /metrics`` itself."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def noting(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        endpoint = self.metrics.endpoint(scope)
        try:
            if scope.get("path") == PATH:
                await self._scrape(scope, noting)
            else:
                await self.app(scope, receive, noting)
        finally:
            self.metrics.requests.labels(endpoint, f"{status[0] // 100}xx").inc()
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - started)

    async def _scrape(self, scope: Scope, send: Send) -> None:
        if scope.get("method") not in ("GET", "HEAD"):
            await _answer(send, 405, b"method not allowed\n", [(b"allow", b"GET, HEAD")])
        elif not self.metrics.authorized(scope):
            await _answer(send, 401, b"a bearer token is required\n", [(b"www-authenticate", b"Bearer")])
        else:
            body = self.metrics.exposition()
            await _answer(send, 200, body if scope["method"] == "GET" else b"", [], CONTENT_TYPE_LATEST)


async def _answer(
    send: Send,
    status: int,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
    content_type: str = "text/plain; charset=utf-8",
) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"cache-control", b"no-store"),
        (b"content-length", str(len(body)).encode()),
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
