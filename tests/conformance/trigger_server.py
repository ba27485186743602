"""A server whose functions file names the handlers of tests/support (python: and http://).

Shared by the trigger tests: ``arn(name)`` is the ARN a pool's LambdaConfig uses for a
function of the file; ``events(server)`` reads what the recording handlers saw.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support import trigger_handlers
from tests.support.server import Server, running_server

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_MS = 1000
H = "python:tests.support.trigger_handlers:"


def arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"


def functions(http_base: str | None) -> dict[str, str]:
    names = [
        n for n in dir(trigger_handlers) if callable(getattr(trigger_handlers, n)) and not n.startswith("_")
    ]
    out = {name: H + name for name in names}
    if http_base:
        out.update({f"http-{name}": f"{http_base}/{name}" for name in names})
        out["http-slow"] = f"{http_base}/slow"
        out["http-garbage"] = f"{http_base}/garbage"
    return out


@contextmanager
def trigger_server(tmp: Path, http_base: str | None = None, *args: str) -> Iterator[Server]:
    path = tmp / "functions.json"
    path.write_text(json.dumps(functions(http_base)))
    log = tmp / "trigger-log.jsonl"
    env = {
        "COGNATE_TEST_LAMBDA_TIMEOUT_MS": str(TIMEOUT_MS),
        "COGNATE_TEST_TRIGGER_LOG": str(log),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    with running_server("--functions", str(path), *args, env=env) as server:
        server.env["trigger_log"] = str(log)
        yield server


def events(server: Server, source: str | None = None) -> list[dict[str, Any]]:
    path = Path(server.env["trigger_log"])
    if not path.exists():
        return []
    found = [json.loads(line)["event"] for line in path.read_text().splitlines() if line.strip()]
    return [e for e in found if source is None or e["triggerSource"] == source]
