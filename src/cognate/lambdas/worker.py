"""A warm worker process that runs ``python:`` handlers as AWS Lambda's Python runtime would.

``main(HANDLERS)`` (pool.py starts it with the server's import path) imports each
handler's module once (the runtime's init phase), then serves invocations one at a
time: a 4-byte big-endian length and a JSON request ``{"handler", "function_name",
"function_arn", "request_id", "timeout_ms", "event"}`` on stdin; the same framing with ``{"result": ...}`` or
``{"errorType", "errorMessage"}`` back. The protocol has its own copy of the original
stdout: ``print`` in a handler goes to stderr, which is the server's log, as a Lambda's
prints go to its log stream. The parent kills the process on a timeout and replaces it,
so a handler that hangs or crashes never touches the server (pool.py).

Error shapes follow the runtime's: an exception gives its class name and message
(``errorType``/``errorMessage``); a module that cannot be imported gives
``Runtime.ImportModuleError`` with "Unable to import module 'm': ..."; a missing
function ``Runtime.HandlerNotFound``; a result that is not JSON
``Runtime.MarshalError``. orjson does the JSON (int keys written as ``json`` would).
"""

from __future__ import annotations

import importlib
import os
import struct
import sys
import time
from collections.abc import Callable
from typing import Any, BinaryIO

import orjson

from cognate.lambdas.context import LambdaContext

HEADER = struct.Struct(">I")
Handler = Callable[[Any, Any], Any]


def parse(handler: str) -> tuple[str, str]:
    """``python:package.module:function`` -> (module, function)."""
    _, module, function = handler.split(":", 2)
    return module, function


class Loaded:
    """Handlers imported at start; an import error is kept and reported per invocation."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}
        self.errors: dict[str, tuple[str, str]] = {}

    def load(self, handler: str) -> None:
        module_name, function = parse(handler)
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # the runtime reports this on each invoke
            self.errors[handler] = (
                "Runtime.ImportModuleError",
                f"Unable to import module '{module_name}': {exc}",
            )
            return
        fn = getattr(module, function, None)
        if not callable(fn):
            self.errors[handler] = (
                "Runtime.HandlerNotFound",
                f"Handler '{function}' missing on module '{module_name}'",
            )
            return
        self.handlers[handler] = fn

    def get(self, handler: str) -> Handler | tuple[str, str]:
        if handler not in self.handlers and handler not in self.errors:
            self.load(handler)
        return self.handlers.get(handler) or self.errors[handler]


def read_message(stream: BinaryIO) -> dict[str, Any] | None:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    doc: dict[str, Any] = orjson.loads(stream.read(size))
    return doc


def write_message(stream: BinaryIO, doc: dict[str, Any]) -> None:
    """One framed message; TypeError if ``doc`` holds what JSON cannot (the caller's to say)."""
    body = orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS)  # int keys as json.dumps writes them
    stream.write(HEADER.pack(len(body)) + body)
    stream.flush()


def invoke(loaded: Loaded, request: dict[str, Any]) -> dict[str, Any]:
    found = loaded.get(request["handler"])
    if isinstance(found, tuple):
        return {"errorType": found[0], "errorMessage": found[1]}
    deadline = time.monotonic() + int(request["timeout_ms"]) / 1000
    context = LambdaContext(
        request["function_name"], request["function_arn"], request["request_id"], deadline
    )
    try:
        result = found(request["event"], context)
    except Exception as exc:  # the handler's own error: the caller maps it, as Cognito does
        return {"errorType": type(exc).__name__, "errorMessage": str(exc)}
    return {"result": result}


def main(argv: list[str]) -> int:
    # The protocol keeps the original stdout; fd 1 becomes stderr for the handlers' prints.
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    protocol_in = sys.stdin.buffer
    loaded = Loaded()
    for handler in argv:
        loaded.load(handler)
    write_message(protocol_out, {"ready": True})
    while True:
        request = read_message(protocol_in)
        if request is None:
            return 0
        answer = invoke(loaded, request)
        try:
            write_message(protocol_out, answer)
        except (TypeError, ValueError) as exc:  # nothing was written: the frame is built first
            marshal = f"Unable to marshal response: {exc}"
            write_message(protocol_out, {"errorType": "Runtime.MarshalError", "errorMessage": marshal})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
