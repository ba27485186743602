"""The bare ASGI app the JWKS figure is compared with, on uvicorn with cognate's options.

Run as ``python -m bench.hello --port P [--body-file F]``. It is a plain ASGI callable
(no framework) that answers every GET with the bytes of ``F`` (the JWKS document the
bench fetched from Cognate, so both sides send the same bytes with the same headers),
or ``{"hello":"world"}``. uvicorn gets the options ``cognate serve`` gives it
(httptools/uvloop picked automatically, no access log, no server header).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

BODY_ENV = "BENCH_HELLO_BODY_FILE"


def make_app(body: bytes) -> Any:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"access-control-allow-origin", b"*"),
        (b"cache-control", b"public, max-age=300"),
    ]
    start = {"type": "http.response.start", "status": 200, "headers": headers}
    message = {"type": "http.response.body", "body": body}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                event = await receive()
                if event["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif event["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await send(start)
        await send(message)

    return app


def create_app() -> Any:
    path = os.environ.get(BODY_ENV)
    body = Path(path).read_bytes() if path else b'{"hello":"world"}'
    return make_app(body)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--body-file", help="answer with these bytes (default: a small JSON)")
    args = parser.parse_args()
    if args.body_file:
        os.environ[BODY_ENV] = args.body_file
    uvicorn.run(
        "bench.hello:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers if args.workers > 1 else None,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=5,
        server_header=False,
    )


if __name__ == "__main__":
    main()
