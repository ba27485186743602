"""``/metrics`` in Prometheus' text format (prometheus-client), for an operator's scraper.

Off unless ``--metrics-token`` (``COGNATE_METRICS_TOKEN``) is set; then ``GET /metrics``
with ``Authorization: Bearer TOKEN`` answers, anything else gets 401. What it counts:

- ``cognate_requests_total{endpoint, status}`` and ``cognate_request_duration_seconds{endpoint}``:
  every HTTP request, by Cognito operation (``X-Amz-Target``) or route template (never a
  raw path: pool ids and unknown paths do not become labels), and status class;
- ``cognate_sign_ins_total{flow, result}``: each InitiateAuth / RespondToAuthChallenge step
  by AuthFlow or challenge, ending ``authenticated``, ``challenge`` or an error's ``__type``;
- ``cognate_lockouts_total``: attempts refused because the user was locked out;
- ``cognate_password_hash_duration_seconds{operation}``: the time of one argon2 ``hash`` or
  ``verify`` itself (in the hashing thread, without its wait for a free core);
- ``cognate_store_call_duration_seconds{operation}``: each call of the store, by its method
  (``get_user``, ``put_auth_event`` ...; one call is one transaction);
- ``cognate_trigger_calls_total{trigger, result}`` and
  ``cognate_trigger_duration_seconds{trigger}``: Lambda trigger calls by Cognito
  ``triggerSource`` (``PreSignUp_SignUp`` ...), ending ``ok`` or an error's ``__type``.

Where it is served: with ``--metrics-port`` on a port of its own (served by the ``cognate
serve`` process, see ``serve_on_port``; the token, when also set, is asked there too), and
then not on the main port; otherwise on the main port behind ``--metrics-token``.

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
# A store call is usually well under a millisecond on SQLite, a few on PostgreSQL.
STORE_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)
# argon2id at Cognate's cost takes tens of milliseconds per hash.
HASH_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5)

Scope = MutableMapping[str, Any]


def _multiprocess() -> bool:
    return config.metrics_multiprocess_dir() is not None


class Metrics:
    """The counters of one server process; also the core's ``Events``."""

    def __init__(
        self,
        token: str | None,
        operations: Iterable[str],
        routes: Iterable[tuple[re.Pattern[str], str]],
        *,
        served_here: bool = True,
    ):
        self.token = token.encode() if token else None
        self.served_here = served_here  # False: /metrics is on --metrics-port, not this port
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
        self.hashing = Histogram(
            "cognate_password_hash_duration_seconds",
            "Time of one password hash or verification (argon2id), by operation",
            ("operation",),
            buckets=HASH_BUCKETS,
            registry=self.registry,
        )
        self.store_calls = Histogram(
            "cognate_store_call_duration_seconds",
            "Time of one store call (one transaction), by store method",
            ("operation",),
            buckets=STORE_BUCKETS,
            registry=self.registry,
        )
        self.trigger_calls = Counter(
            "cognate_trigger_calls",
            "Lambda trigger calls by trigger source and result",
            ("trigger", "result"),
            registry=self.registry,
        )
        self.trigger_latency = Histogram(
            "cognate_trigger_duration_seconds",
            "Time of one Lambda trigger call, by trigger source",
            ("trigger",),
            buckets=BUCKETS,
            registry=self.registry,
        )

    # --- the core's Events ---------------------------------------------------------

    def sign_in(self, flow: str, result: str) -> None:
        self.sign_ins.labels(flow, result).inc()

    def lockout(self) -> None:
        self.lockouts.inc()

    def password_hash(self, operation: str, seconds: float) -> None:
        self.hashing.labels(operation).observe(seconds)

    def store_call(self, operation: str, seconds: float) -> None:
        self.store_calls.labels(operation).observe(seconds)

    def trigger_call(self, trigger: str, result: str, seconds: float) -> None:
        self.trigger_calls.labels(trigger, result).inc()
        self.trigger_latency.labels(trigger).observe(seconds)

    # --- scraping ------------------------------------------------------------------

    def exposition(self) -> bytes:
        return exposition(self.registry)

    def authorized(self, scope: Scope) -> bool:
        headers = scope.get("headers", [])
        given = next((value for name, value in headers if name.lower() == b"authorization"), None)
        return bearer_matches(given, self.token)

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
            if scope.get("path") == PATH and self.metrics.served_here:
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


def exposition(registry: CollectorRegistry | None) -> bytes:
    """The text format: of ``registry``, or (None) the sum of every worker's files."""
    if registry is not None:
        return generate_latest(registry)
    merged = CollectorRegistry()
    prometheus_multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
    return generate_latest(merged)


def bearer_matches(header: bytes | None, token: bytes | None) -> bool:
    """``Authorization: Bearer TOKEN`` with the right token (constant time); any header when
    no token is asked for."""
    if token is None:
        return True
    if header is None:
        return False
    scheme, _, given = header.partition(b" ")
    return scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), token)


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
