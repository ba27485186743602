"""Load generators: wrk (with a generated Lua script) when installed, else our own.

Both take the same input -- a list of requests (method, path, headers, body) that the
connections rotate over, round-robin or at random -- keep N HTTP/1.1 keep-alive
connections busy for a fixed time and return the same figures: requests, rps, p50 and
p99 latency, non-2xx responses and socket errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


@dataclass
class Result:
    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx responses
    socket_errors: int  # connect/read/write errors and timeouts
    loadgen: str
    error_samples: list[str] = field(default_factory=list)  # first non-2xx responses, status and body
    cpu_s: float | None = None  # the load generator's own CPU time (user + system) over the run

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def run(
    host: str,
    port: int,
    requests: list[Request],
    *,
    connections: int,
    duration: float,
    pick: str = "cycle",
    cores: list[int] | None = None,
    use_wrk: bool | None = None,
) -> Result:
    if use_wrk is None:
        use_wrk = have_wrk()
    if use_wrk:
        return run_wrk(
            host, port, requests, connections=connections, duration=duration, pick=pick, cores=cores
        )
    return asyncio.run(
        run_asyncio(host, port, requests, connections=connections, duration=duration, pick=pick)
    )


# --- wrk ------------------------------------------------------------------------


def _lua_str(s: str) -> str:
    out = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return '"' + out + '"'


_LUA_DONE = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '@@RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"status": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
"""

_LUA_DYNAMIC = """
local reqs = {}
local i = 0
local pick_random = PICK_RANDOM

function init(args)
  for k, s in ipairs(specs) do
    reqs[k] = wrk.format(s[1], s[2], s[3], s[4])
  end
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
  i = math.random(#reqs) - 1
end

function request()
  if pick_random then
    return reqs[math.random(#reqs)]
  end
  i = i % #reqs + 1
  return reqs[i]
end

local shown = 0
function response(status, headers, body)
  if (status < 200 or status > 299) and shown < 3 then
    shown = shown + 1
    local text = string.gsub(string.sub(body or "", 1, 300), "[\\r\\n]", " ")
    io.write("@@ERROR " .. status .. " " .. text .. "\\n")
  end
end
"""


def _lua_script(requests: list[Request], pick: str) -> str:
    """One request: wrk's static fast path (no Lua per request). Several: rotate in Lua."""
    if len(requests) == 1:
        r = requests[0]
        lines = [f"wrk.method = {_lua_str(r.method)}", f"wrk.path = {_lua_str(r.path)}"]
        lines += [f"wrk.headers[{_lua_str(k)}] = {_lua_str(v)}" for k, v in r.headers.items()]
        if r.body:
            lines.append(f"wrk.body = {_lua_str(r.body)}")
        return "\n".join(lines) + "\n" + _LUA_DONE
    lines = ["local specs = {"]
    for r in requests:
        hdrs = ", ".join(f"[{_lua_str(k)}] = {_lua_str(v)}" for k, v in r.headers.items())
        body = _lua_str(r.body) if r.body else "nil"
        lines.append(f"  {{{_lua_str(r.method)}, {_lua_str(r.path)}, {{{hdrs}}}, {body}}},")
    lines.append("}")
    dynamic = _LUA_DYNAMIC.replace("PICK_RANDOM", "true" if pick == "random" else "false")
    return "\n".join(lines) + "\n" + dynamic + _LUA_DONE


def run_wrk(
    host: str,
    port: int,
    requests: list[Request],
    *,
    connections: int,
    duration: float,
    pick: str,
    cores: list[int] | None,
) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(_lua_script(requests, pick))
        script = f.name
    try:
        threads = max(1, min(connections, len(cores) if cores else 1))
        cmd = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--timeout",
            "60s",
            "-s",
            script,
            f"http://{host}:{port}/",
        ]
        if cores:
            cmd = ["taskset", "-c", ",".join(map(str, cores)), *cmd]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    finally:
        os.unlink(script)
    doc = None
    samples = []
    for line in proc.stdout.splitlines():
        if line.startswith("@@RESULT "):
            doc = json.loads(line[len("@@RESULT ") :])
        elif line.startswith("@@ERROR ") and len(samples) < 5:
            samples.append(line[len("@@ERROR ") :])
    if doc is None or "lua" in proc.stderr.lower():
        raise RuntimeError(f"wrk failed (exit {proc.returncode}): {proc.stdout}\n{proc.stderr}")
    return Result(
        requests=doc["requests"],
        duration_s=doc["duration_us"] / 1e6,
        p50_ms=doc["p50_us"] / 1000.0,
        p99_ms=doc["p99_us"] / 1000.0,
        errors=doc["status"],
        socket_errors=doc["connect"] + doc["read"] + doc["write"] + doc["timeout"],
        loadgen="wrk",
        error_samples=samples,
        cpu_s=cpu,
    )


# --- our own: asyncio streams, keep-alive HTTP/1.1 ----------------------------------


def _raw(host: str, port: int, r: Request) -> bytes:
    body = r.body.encode()
    head = [f"{r.method} {r.path} HTTP/1.1", f"Host: {host}:{port}"]
    head += [f"{k}: {v}" for k, v in r.headers.items()]
    if body or r.method in ("POST", "PUT"):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """Status, whether the server keeps the connection open, and the body."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    version, status = lines[0].split(" ", 2)[:2]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    conn = headers.get("connection", "").lower()
    keep = conn != "close" and (version == "HTTP/1.1" or conn == "keep-alive")
    body = b""
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            body += (await reader.readexactly(size + 2))[:-2]
            if size == 0:
                break
    else:
        body = await reader.read()  # until close
        keep = False
    return int(status), keep, body


async def run_asyncio(
    host: str,
    port: int,
    requests: list[Request],
    *,
    connections: int,
    duration: float,
    pick: str,
) -> Result:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    raws = [_raw(host, port, r) for r in requests]
    latencies: list[float] = []
    counts = {"errors": 0, "socket": 0}
    samples: list[str] = []
    start = time.perf_counter()
    deadline = start + duration

    shared = itertools.count(random.randrange(len(raws)))  # one cycle over all connections
    cpu0 = time.process_time()

    async def worker(n: int) -> None:
        rng = random.Random(n)
        reader: Any = None
        writer: Any = None
        while time.perf_counter() < deadline:
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                raw = raws[rng.randrange(len(raws))] if pick == "random" else raws[next(shared) % len(raws)]
                t0 = time.perf_counter()
                writer.write(raw)
                status, keep, body = await asyncio.wait_for(_read_response(reader), timeout=60)
                t1 = time.perf_counter()
                if t1 > deadline:
                    break  # completed after the end: not counted, as wrk does
                latencies.append(t1 - t0)
                if not 200 <= status < 300:
                    counts["errors"] += 1
                    if len(samples) < 5:
                        samples.append(f"{status} {body[:300].decode(errors='replace')}")
                if not keep:
                    writer.close()
                    writer = None
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                counts["socket"] += 1
                if writer is not None:
                    writer.close()
                writer = None
                await asyncio.sleep(0.01)
        if writer is not None:
            writer.close()

    await asyncio.gather(*(worker(n) for n in range(connections)))
    elapsed = min(time.perf_counter(), deadline) - start
    cpu = time.process_time() - cpu0
    latencies.sort()

    def pct(p: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(p / 100.0 * len(latencies)))] * 1000.0

    return Result(
        requests=len(latencies),
        duration_s=elapsed,
        p50_ms=pct(50),
        p99_ms=pct(99),
        errors=counts["errors"],
        socket_errors=counts["socket"],
        loadgen="asyncio",
        error_samples=samples,
        cpu_s=cpu,
    )
