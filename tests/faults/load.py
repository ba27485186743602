"""Load for the fault tests: threads that keep calling a server and record every answer.

An answer is ``ok``, ``<status> <__type or OAuth error>``, or ``transport: ...`` (no HTTP
answer at all: a reset, a timeout). Each call is bounded by the client's own timeouts,
so a hung request shows as a slow ``transport`` outcome, never as a hung test.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from botocore.exceptions import BotoCoreError, ClientError

# Each call gives up after this long: far more than any answer should take.
CLIENT_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Outcome:
    kind: str
    started: float
    took: float
    result: str
    message: str = ""


@dataclass
class Load:
    outcomes: list[Outcome] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    def run(
        self, kind: str, call: Callable[[int], Any], on_ok: Callable[[int, Any], None] | None = None
    ) -> None:
        """Call ``call(n)`` for n = 0, 1, ... until stopped; ``on_ok(n, answer)`` after each success."""

        def loop() -> None:
            n = 0
            while not self.stop.is_set():
                started = time.monotonic()
                try:
                    answer = call(n)
                    result, message = "ok", ""
                except ClientError as exc:
                    err = exc.response.get("Error", {})
                    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                    result, message = f"{status} {err.get('Code')}", str(err.get("Message", ""))
                except (BotoCoreError, httpx.HTTPError, OSError) as exc:
                    result, message = f"transport: {type(exc).__name__}", str(exc)
                except Exception:
                    with self.lock:
                        self.unexpected.append(traceback.format_exc())
                    return
                with self.lock:
                    self.outcomes.append(Outcome(kind, started, time.monotonic() - started, result, message))
                if result == "ok" and on_ok is not None:
                    on_ok(n, answer)
                n += 1
                time.sleep(0.01)

        thread = threading.Thread(target=loop, daemon=True, name=f"load-{kind}")
        self.threads.append(thread)
        thread.start()

    def finish(self) -> list[Outcome]:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=2 * CLIENT_TIMEOUT_S)
        assert not any(t.is_alive() for t in self.threads), "a load thread did not stop"
        assert self.unexpected == [], self.unexpected[0]
        with self.lock:
            return list(self.outcomes)

    def since(self, moment: float) -> list[Outcome]:
        with self.lock:
            return [o for o in self.outcomes if o.started >= moment]


def oauth_call(client: httpx.Client, url: str, form: dict[str, str]) -> dict[str, Any]:
    """POST a form to an OAuth endpoint; an error answer raises a ClientError (``<status> <error>``)."""
    response = client.post(url, data=form, timeout=CLIENT_TIMEOUT_S)
    if response.status_code != 200:
        body = response.json()  # never a traceback page: the endpoint answers JSON
        raise ClientError(
            {
                "Error": {"Code": body.get("error"), "Message": body.get("error_description", "")},
                "ResponseMetadata": {"HTTPStatusCode": response.status_code},
            },
            "oauth",
        )
    result: dict[str, Any] = response.json()
    return result


def boto(server: Any, *, signed: bool = True) -> Any:
    """A boto3 cognito-idp client of ``server`` that tries once and waits at most CLIENT_TIMEOUT_S."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    creds = server.credentials
    cfg = Config(
        retries={"max_attempts": 1},
        connect_timeout=5,
        read_timeout=CLIENT_TIMEOUT_S,
        signature_version=None if signed else UNSIGNED,
    )
    return boto3.client(
        "cognito-idp",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        config=cfg,
    )
