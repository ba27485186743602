"""The soak (issue 14): a long run at a steady share of the server's measured capacity.

    python -m bench.soak [--minutes 10] [--fraction 0.7] [--mix signin:1,refresh:2,getuser:4,code:1]
                         [--capacity-seconds 20] [--users 32] [--workers 1] [--json-out FILE]

1. Starts ``cognate serve`` pinned to the server core (real password-hashing cost), sets up
   a pool, a client allowing password sign-in, refresh and the OAuth code flow, and users.
2. Measures the capacity of the mix: closed loop, ``--capacity-connections`` transactions
   in flight for ``--capacity-seconds``; transactions per second.
3. Holds ``--fraction`` of it with an open-loop rate for ``--minutes``: transactions start
   on a fixed schedule whatever the server does, and each one's latency counts from its
   scheduled start (a server that falls behind shows as latency, not as a slower client).

The mix's transactions:

- ``signin``: ``InitiateAuth`` USER_PASSWORD_AUTH (one password check, two signatures);
- ``refresh``: ``InitiateAuth`` REFRESH_TOKEN_AUTH;
- ``getuser``: ``GetUser`` with an access token;
- ``code``: the OAuth authorization-code flow of a new browser: ``GET /login`` (the form and
  its cookies), ``POST /login`` with the credentials (302 to the app with a code), then
  ``POST /oauth2/token`` (ID, access and refresh tokens).

One JSON line per minute (requests, errors, p50/p99 overall and per kind, the server's RSS
and CPU, the load generator's CPU), then a summary line with the verdicts: no error, the
last minute's p99 within 20 % of the first's, the server's RSS at the end of the last
minute within 10 % of the first's, and the load generator not saturated. Progress goes to
stderr, the JSON lines to stdout (and ``--json-out``). Exit status 1 when a verdict fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import random
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import servers
from bench.run import boto_client, drain, log

CALLBACK = "http://localhost:8765/callback"
PASSWORD = "Bench-Passw0rd!"
TARGET = "AWSCognitoIdentityProviderService."
AMZ = "application/x-amz-json-1.1"
FORM = "application/x-www-form-urlencoded"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
KINDS = ("signin", "refresh", "getuser", "code")
TOKEN_USERS = 8
P99_TOLERANCE = 0.20
RSS_TOLERANCE = 0.10
IDLE_REUSE_S = 3.0  # a keep-alive connection idle longer is closed, not reused (uvicorn drops them at 5 s)
MAX_IN_FLIGHT = 2000


class Failure(Exception):
    """A transaction that did not end as it should (the first bytes of the answer)."""


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k == name), "")

    def cookies(self) -> dict[str, str]:
        out = {}
        for k, v in self.headers:
            if k == "set-cookie":
                name, _, value = v.split(";", 1)[0].partition("=")
                out[name.strip()] = value.strip()
        return out

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self.body)
        return out


async def _read(reader: asyncio.StreamReader) -> tuple[Response, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = [(k.strip().lower(), v.strip()) for k, v in (x.split(":", 1) for x in lines[1:] if ":" in x)]
    found = dict(headers)
    if "content-length" in found:
        body = await reader.readexactly(int(found["content-length"]))
    elif found.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            body += (await reader.readexactly(size + 2))[:-2]
        await reader.readuntil(b"\r\n")
    else:
        return Response(status, headers, await reader.read()), False
    return Response(status, headers, body), found.get("connection", "").lower() != "close"


class Connections:
    """Keep-alive HTTP/1.1 connections to one server, shared by every transaction."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.requests = 0

    async def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> Response:
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body or method == "POST":
            head.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        now = time.monotonic()
        while self.idle:
            reader, writer, since = self.idle.pop()
            if now - since < IDLE_REUSE_S and not reader.at_eof():
                break
            writer.close()
        else:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(raw)
            resp, keep = await asyncio.wait_for(_read(reader), timeout=120)
        except BaseException:
            writer.close()
            raise
        self.requests += 1
        if keep:
            self.idle.append((reader, writer, time.monotonic()))
        else:
            writer.close()
        return resp

    def close(self) -> None:
        for _, writer, _ in self.idle:
            writer.close()
        self.idle.clear()


@dataclass
class World:
    pool_id: str
    client_id: str
    users: list[str]
    refresh: list[str]
    access: list[str]
    counters: dict[str, itertools.count[int]] = field(default_factory=dict)

    def next(self, kind: str) -> int:
        return next(self.counters.setdefault(kind, itertools.count(random.randrange(1000))))


def set_up(url: str, data_dir: Path, n_users: int) -> World:
    creds = json.loads((data_dir / "credentials.json").read_text())
    c = boto_client(url, creds["AccessKeyId"], creds["SecretAccessKey"])
    pool = c.create_user_pool(PoolName="soak")["UserPool"]["Id"]
    client = c.create_user_pool_client(
        UserPoolId=pool,
        ClientName="soak",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email"],
        CallbackURLs=[CALLBACK],
        SupportedIdentityProviders=["COGNITO"],
    )["UserPoolClient"]["ClientId"]
    users = [f"soak{i:04d}" for i in range(n_users)]
    for name in users:
        c.admin_create_user(UserPoolId=pool, Username=name, MessageAction="SUPPRESS")
        c.admin_set_user_password(UserPoolId=pool, Username=name, Password=PASSWORD, Permanent=True)
    refresh, access = [], []
    for name in users[:TOKEN_USERS]:
        got = c.initiate_auth(
            AuthFlow="USER_PASSWORD_AUTH",
            ClientId=client,
            AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD},
        )["AuthenticationResult"]
        refresh.append(got["RefreshToken"])
        access.append(got["AccessToken"])
    return World(pool, client, users, refresh, access)


def _aws(op: str, body: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    return {"X-Amz-Target": TARGET + op, "Content-Type": AMZ}, json.dumps(body).encode()


def _expect(resp: Response, status: int, what: str) -> None:
    if resp.status != status:
        raise Failure(f"{what}: {resp.status} {resp.body[:200].decode(errors='replace')}")


async def transaction(conns: Connections, world: World, kind: str) -> None:
    """One transaction of ``kind``; Failure (or a socket error) when it did not succeed."""
    if kind in ("signin", "refresh"):
        if kind == "signin":
            user = world.users[world.next(kind) % len(world.users)]
            flow, params = "USER_PASSWORD_AUTH", {"USERNAME": user, "PASSWORD": PASSWORD}
        else:
            token = world.refresh[world.next(kind) % len(world.refresh)]
            flow, params = "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": token}
        headers, body = _aws(
            "InitiateAuth", {"AuthFlow": flow, "ClientId": world.client_id, "AuthParameters": params}
        )
        resp = await conns.request("POST", "/", headers, body)
        _expect(resp, 200, kind)
        if "AuthenticationResult" not in resp.json():
            raise Failure(f"{kind}: no tokens")
    elif kind == "getuser":
        headers, body = _aws("GetUser", {"AccessToken": world.access[world.next(kind) % len(world.access)]})
        _expect(await conns.request("POST", "/", headers, body), 200, kind)
    else:
        await code_flow(conns, world)


async def code_flow(conns: Connections, world: World) -> None:
    user = world.users[world.next("code") % len(world.users)]
    query = urlencode(
        {
            "client_id": world.client_id,
            "redirect_uri": CALLBACK,
            "response_type": "code",
            "scope": "openid email",
        }
    )
    page = await conns.request("GET", f"/login?{query}")
    _expect(page, 200, "code: GET /login")
    fields = dict(HIDDEN.findall(page.body.decode(errors="replace")))
    cookie = "; ".join(f"{k}={v}" for k, v in page.cookies().items())
    form = urlencode({**fields, "username": user, "password": PASSWORD}).encode()
    sent = await conns.request("POST", f"/login?{query}", {"Content-Type": FORM, "Cookie": cookie}, form)
    where = sent.header("location")
    code = parse_qs(urlsplit(where).query).get("code", [""])[0]
    if sent.status not in (302, 303) or not where.startswith(CALLBACK) or not code:
        raise Failure(
            f"code: POST /login {sent.status} {where[:120]} {sent.body[:200].decode(errors='replace')}"
        )
    token = urlencode(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": world.client_id,
        }
    ).encode()
    got = await conns.request("POST", "/oauth2/token", {"Content-Type": FORM}, token)
    _expect(got, 200, "code: POST /oauth2/token")
    if "access_token" not in got.json():
        raise Failure("code: no access token")


def parse_mix(text: str) -> list[str]:
    """``signin:1,refresh:2`` -> a shuffled cycle holding each kind as often as its weight."""
    cycle: list[str] = []
    for part in text.split(","):
        kind, _, weight = part.partition(":")
        if kind not in KINDS:
            raise SystemExit(f"unknown kind {kind!r} in --mix (known: {', '.join(KINDS)})")
        cycle += [kind] * int(weight or 1)
    random.Random(14).shuffle(cycle)
    return cycle


@dataclass
class Record:
    start: float  # scheduled start, seconds from the run's start
    kind: str
    latency: float
    error: str | None


def _uvloop() -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


async def _timed(conns: Connections, world: World, kind: str, t0: float, started: float) -> Record:
    error = None
    try:
        await transaction(conns, world, kind)
    except Failure as exc:
        error = str(exc)
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError) as exc:
        error = f"{kind}: {type(exc).__name__} {exc}"
    return Record(t0 - started, kind, time.perf_counter() - t0, error)


async def closed_loop(
    port: int, world: World, mix: list[str], connections: int, seconds: float
) -> list[Record]:
    conns = Connections("127.0.0.1", port)
    records: list[Record] = []
    kinds = itertools.cycle(mix)
    started = time.perf_counter()
    deadline = started + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            rec = await _timed(conns, world, next(kinds), time.perf_counter(), started)
            if rec.start + rec.latency <= seconds:
                records.append(rec)

    await asyncio.gather(*(worker() for _ in range(connections)))
    conns.close()
    return records


@dataclass
class Sample:
    """The server and the load generator at one minute's end."""

    rss_mb: float
    server_cpu_s: float
    loadgen_cpu_s: float
    core_busy_s: float  # the server core's busy time, whoever used it
    at: float


def rss_mb(server: servers.Server) -> float:
    total = 0
    for pid in server.pids():
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def sample(server: servers.Server, started: float) -> Sample:
    return Sample(
        rss_mb(server),
        server.cpu_seconds(),
        time.process_time(),
        servers.core_busy_seconds(server.cores),
        time.perf_counter() - started,
    )


async def open_loop(
    server: servers.Server, world: World, mix: list[str], rate: float, seconds: float, minute_s: float
) -> tuple[list[Record], list[Sample], int]:
    """Start transactions at ``rate`` per second for ``seconds`` whatever the server does."""
    conns = Connections("127.0.0.1", server.port)
    loop = asyncio.get_running_loop()
    records: list[Record] = []
    tasks: set[asyncio.Task[Record]] = set()
    samples: list[Sample] = []
    started = time.perf_counter()
    samples.append(sample(server, started))
    kinds = itertools.cycle(mix)
    n_minutes = math.ceil(seconds / minute_s)

    async def sampler() -> None:
        for m in range(1, n_minutes + 1):
            await asyncio.sleep(max(0.0, started + min(m * minute_s, seconds) - time.perf_counter()))
            s = sample(server, started)
            samples.append(s)
            done = [r for r in records if r.start < s.at]
            errors = sum(1 for r in done if r.error)
            busy = len(tasks)
            log(f"minute {m}: {len(done)} done, {errors} errors, {busy} in flight, RSS {s.rss_mb:.0f} MB")

    def finished(task: asyncio.Task[Record]) -> None:
        tasks.discard(task)
        records.append(task.result())

    watch = asyncio.create_task(sampler())
    dropped = 0
    for k in itertools.count():
        due = started + k / rate
        if due - started >= seconds:
            break
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(tasks) >= MAX_IN_FLIGHT:
            dropped += 1
            records.append(Record(due - started, "dropped", 0.0, "too many transactions in flight"))
            continue
        task = loop.create_task(_timed(conns, world, next(kinds), due, started))
        tasks.add(task)
        task.add_done_callback(finished)
    await watch
    while tasks:
        await asyncio.gather(*list(tasks))
    conns.close()
    return records, samples, conns.requests


def _pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def minute_lines(records: list[Record], samples: list[Sample], minute_s: float) -> list[dict[str, Any]]:
    lines = []
    for m in range(1, len(samples)):
        lo, hi = samples[m - 1].at, samples[m].at
        recs = [r for r in records if lo <= r.start < hi]
        wall = hi - lo
        ok = [r.latency for r in recs if not r.error]
        lines.append(
            {
                "minute": m,
                "seconds": round(wall, 1),
                "transactions": len(recs),
                "tps": round(len(recs) / wall, 2) if wall else 0.0,
                "errors": sum(1 for r in recs if r.error),
                "p50_ms": round(_pct(ok, 50), 1),
                "p99_ms": round(_pct(ok, 99), 1),
                "p99_by_kind_ms": {
                    k: round(_pct([r.latency for r in recs if r.kind == k and not r.error], 99), 1)
                    for k in KINDS
                    if any(r.kind == k for r in recs)
                },
                "server_rss_mb": round(samples[m].rss_mb, 1),
                "server_cpu": round((samples[m].server_cpu_s - samples[m - 1].server_cpu_s) / wall, 3),
                "loadgen_cpu": round((samples[m].loadgen_cpu_s - samples[m - 1].loadgen_cpu_s) / wall, 3),
                # the server core's time taken by other processes: high, and the server waited for it
                "core_other_cpu": round(
                    (
                        (samples[m].core_busy_s - samples[m - 1].core_busy_s)
                        - (samples[m].server_cpu_s - samples[m - 1].server_cpu_s)
                    )
                    / wall,
                    3,
                ),
            }
        )
    return lines


def summary(
    lines: list[dict[str, Any]],
    records: list[Record],
    capacity: float,
    fraction: float,
    http_requests: int,
    seconds: float,
) -> dict[str, Any]:
    first, last = lines[0], lines[-1]
    errors = [r.error for r in records if r.error]
    p99_ratio = last["p99_ms"] / first["p99_ms"] if first["p99_ms"] else None
    rss_ratio = last["server_rss_mb"] / first["server_rss_mb"] if first["server_rss_mb"] else None
    loadgen = max(line["loadgen_cpu"] for line in lines)
    out: dict[str, Any] = {
        "workload": "soak",
        "minutes": len(lines),
        "capacity_tps": round(capacity, 2),
        "fraction": fraction,
        "target_tps": round(capacity * fraction, 2),
        "achieved_tps": round(len(records) / seconds, 2),
        "transactions": len(records),
        "transactions_by_kind": {k: sum(1 for r in records if r.kind == k) for k in KINDS},
        "http_requests": http_requests,
        "errors": len(errors),
        "error_samples": errors[:5],
        "p99_first_ms": first["p99_ms"],
        "p99_last_ms": last["p99_ms"],
        "p99_ratio": round(p99_ratio, 3) if p99_ratio else None,
        "p99_flat": p99_ratio is not None and p99_ratio <= 1 + P99_TOLERANCE,
        "rss_first_mb": first["server_rss_mb"],
        "rss_last_mb": last["server_rss_mb"],
        "rss_ratio": round(rss_ratio, 3) if rss_ratio else None,
        "rss_flat": rss_ratio is not None and rss_ratio <= 1 + RSS_TOLERANCE,
        "loadgen_cpu_max": loadgen,
        "loadgen_saturated": loadgen > 0.8,
    }
    out["met"] = bool(
        not errors
        and out["p99_flat"]
        and out["rss_flat"]
        and not out["loadgen_saturated"]
        and len(lines) >= 2
    )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=10.0, help="length of the soak (default 10)")
    p.add_argument(
        "--fraction", type=float, default=0.7, help="share of the measured capacity held (default 0.7)"
    )
    p.add_argument(
        "--mix", default="signin:1,refresh:2,getuser:4,code:1", help="kind:weight,... (default %(default)s)"
    )
    p.add_argument("--capacity-seconds", type=float, default=20.0)
    p.add_argument("--capacity-connections", type=int, default=16)
    p.add_argument("--capacity", type=float, help="skip the measurement: transactions/s of the mix")
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument("--users", type=int, default=32)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument(
        "--minute-seconds", type=float, default=60.0, help=argparse.SUPPRESS
    )  # short tests of the tool
    p.add_argument("--json-out", type=Path)
    p.add_argument("--keep", action="store_true", help="keep the data dir and the server log")
    args = p.parse_args(argv)
    mix = parse_mix(args.mix)
    cores = sorted(os.sched_getaffinity(0))
    server_cores = [1] if 1 in cores and len(cores) > 1 else [cores[-1]]
    client_cores = [c for c in cores if c not in server_cores] or cores
    os.sched_setaffinity(0, client_cores)
    _uvloop()
    work = Path(tempfile.mkdtemp(prefix="cognate-soak-"))
    out_file = args.json_out.open("w") if args.json_out else None

    def emit(line: dict[str, Any]) -> None:
        text = json.dumps(line)
        print(text, flush=True)
        if out_file:
            out_file.write(text + "\n")
            out_file.flush()

    server = servers.start_cognate(work / "data", server_cores, args.workers, work / "cognate.log")
    try:
        log(
            f"setting up {args.users} users (server on core {server_cores}, load generator on {client_cores})"
        )
        world = set_up(server.url, work / "data", args.users)
        if args.capacity:
            capacity = args.capacity
        else:
            log(f"warm-up {args.warmup:g}s, then capacity of the mix over {args.capacity_seconds:g}s")
            asyncio.run(closed_loop(server.port, world, mix, args.capacity_connections, args.warmup))
            drain(server)
            cpu0 = server.cpu_seconds()
            measured = asyncio.run(
                closed_loop(server.port, world, mix, args.capacity_connections, args.capacity_seconds)
            )
            server_cpu = (server.cpu_seconds() - cpu0) / args.capacity_seconds
            bad = [r.error for r in measured if r.error]
            if bad:
                log(f"errors while measuring capacity: {bad[:3]}")
            capacity = len(measured) / args.capacity_seconds
            drain(server)
            emit(
                {
                    "workload": "soak-capacity",
                    "capacity_tps": round(capacity, 2),
                    "connections": args.capacity_connections,
                    "seconds": args.capacity_seconds,
                    "errors": len(bad),
                    "p99_ms": round(_pct([r.latency for r in measured if not r.error], 99), 1),
                    # under 1: the server did not get its whole core (other processes took it)
                    "server_cpu": round(server_cpu, 3),
                }
            )
        rate = capacity * args.fraction
        seconds = args.minutes * args.minute_seconds
        log(f"soak: {rate:.1f} transactions/s ({args.fraction:g} of {capacity:.1f}) for {seconds:g}s")
        records, samples, requests = asyncio.run(
            open_loop(server, world, mix, rate, seconds, args.minute_seconds)
        )
        lines = minute_lines(records, samples, args.minute_seconds)
        for line in lines:
            emit(line)
        result = summary(lines, records, capacity, args.fraction, requests, seconds)
        emit(result)
        if server.proc.poll() is not None:
            log(f"the server exited: {server.tail()}")
            return 1
        return 0 if result["met"] else 1
    finally:
        server.stop()
        if out_file:
            out_file.close()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
