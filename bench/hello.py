"""The bare ASGI "hello" the JWKS figure is compared with: Starlette on uvicorn, same options.

Run as ``python -m bench.hello --port P``; uvicorn gets the options ``cognate serve``
gives it (httptools/uvloop picked automatically, no access log, no server header).
"""

from __future__ import annotations

import argparse

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def hello(_request: Request) -> Response:
    return JSONResponse({"hello": "world"})


app = Starlette(routes=[Route("/", hello, methods=["GET"]), Route("/health", hello, methods=["GET"])])


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    uvicorn.run(
        "bench.hello:app",
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
