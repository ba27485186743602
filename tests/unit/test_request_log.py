"""logs.RequestLog on its own: what it notes, what it adds, and that it changes no message it is given."""

from __future__ import annotations

import asyncio
import json
import logging
from ipaddress import ip_network
from typing import Any

import pytest

from cognate.logs import REQUEST_LOGGER, JsonFormatter, RequestLog, TextFormatter

SHARED_START = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}


async def call(
    app: Any,
    path: str = "/x",
    headers: list[tuple[bytes, bytes]] | None = None,
    trusted: tuple[Any, ...] = (),
) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": query.encode(),
        "headers": headers or [],
        "client": ("10.0.0.1", 1),
    }
    await RequestLog(app, trusted)(scope, receive, send)
    return sent


class Records:
    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog

    def __getitem__(self, i: int) -> Any:
        return self.caplog.records[i]

    def __iter__(self) -> Any:
        return iter(self.caplog.records)


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> Records:
    caplog.set_level(logging.INFO, logger=REQUEST_LOGGER)
    return Records(caplog)  # read when used: pytest gives each test phase its own list


def test_a_message_the_app_sends_again_is_never_changed(records: Records) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(SHARED_START)
        await send({"type": "http.response.body", "body": b"ok"})

    first = asyncio.run(call(app))
    second = asyncio.run(call(app))
    assert SHARED_START["headers"] == [(b"content-type", b"text/plain")]
    ids = [dict(m["headers"])[b"x-request-id"] for m in (first[0], second[0])]
    assert ids[0] != ids[1]
    assert [r.fields["request_id"] for r in records] == [i.decode() for i in ids]  # type: ignore[attr-defined]


def test_oauth_error_documents_name_the_error(records: Records) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"error": "invalid_gr', "more_body": True})
        await send({"type": "http.response.body", "body": b'ant", "error_description": "code=123456 used"}'})

    asyncio.run(call(app, "/oauth2/token?code=secret-code"))
    fields = records[-1].fields  # type: ignore[attr-defined]
    assert (
        fields["error"] == "invalid_grant" and fields["status"] == 400 and fields["path"] == "/oauth2/token"
    )
    line = TextFormatter().format(records[-1]) + JsonFormatter().format(records[-1])
    assert "secret-code" not in line and "123456" not in line


def test_a_crash_is_logged_as_500(records: Records) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        asyncio.run(call(app))
    assert records[-1].fields["status"] == 500 and records[-1].levelname == "ERROR"  # type: ignore[attr-defined]


def test_aws_door_ids_and_error_types_are_taken_from_its_headers(records: Records) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"x-amzn-requestid", b"rid-1"), (b"x-amzn-errortype", b"NotAuthorizedException:")]
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    target = [(b"x-amz-target", b"AWSCognitoIdentityProviderService.InitiateAuth")]
    sent = asyncio.run(call(app, "/", target))
    assert b"x-request-id" not in dict(sent[0]["headers"])
    doc = json.loads(JsonFormatter().format(records[-1]))
    assert doc["request_id"] == "rid-1" and doc["operation"] == "InitiateAuth"
    assert doc["error"] == "NotAuthorizedException" and doc["client"] == "10.0.0.1"


def test_the_client_is_the_address_a_trusted_proxy_forwarded(records: Records) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(SHARED_START)
        await send({"type": "http.response.body", "body": b""})

    forwarded = [(b"x-forwarded-for", b"198.51.100.7, 192.0.2.1")]
    asyncio.run(call(app, headers=forwarded))  # the peer is no proxy of ours: its own address
    assert records[-1].fields["client"] == "10.0.0.1"  # type: ignore[attr-defined]
    proxy = (ip_network("10.0.0.0/24"),)
    asyncio.run(call(app, headers=forwarded, trusted=proxy))  # the proxy vouches for 192.0.2.1 only
    assert records[-1].fields["client"] == "192.0.2.1"  # type: ignore[attr-defined]
    asyncio.run(call(app, trusted=proxy))
    assert records[-1].fields["client"] == "10.0.0.1"  # type: ignore[attr-defined]


class CountingStream:
    """A stream that records each write (a line-buffered stderr makes one system call per write)."""

    def __init__(self) -> None:
        self.writes: list[str] = []
        self.flushes = 0

    def write(self, text: str) -> None:
        self.writes.append(text)

    def flush(self) -> None:
        self.flushes += 1


def test_lines_of_one_loop_round_are_written_at_once_in_order() -> None:
    from cognate.logs import RoundFlushingHandler

    stream = CountingStream()
    handler = RoundFlushingHandler(stream)
    handler.setFormatter(TextFormatter())
    logger = logging.getLogger("cognate.test.rounds")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)

    async def main() -> None:
        for i in range(3):
            logger.info("line %d", i)
        assert stream.writes == []  # kept until the round ends
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert len(stream.writes) == 1
        logger.info("line 3")
        handler.flush()  # logging.shutdown's flush writes what is kept

    asyncio.run(main())
    assert len(stream.writes) == 2
    lines = "".join(stream.writes).splitlines()
    assert [line.rsplit(": ", 1)[1] for line in lines] == ["line 0", "line 1", "line 2", "line 3"]
    logger.info("outside a loop")  # written and flushed at once
    assert stream.writes[-1].endswith("outside a loop\n") and stream.flushes >= 3
