"""Cognate's benchmark (issue 3, "Speed"): one JSON line per workload run.

    python bench/run.py [--moto] [--users N] [--only signin,refresh,getuser,hello,jwks]
                        [--duration S] [--connections 4,32] [--workers N] [--json-out FILE]

A real ``cognate serve`` (fresh data dir, default argon2id cost) runs pinned to one core;
the load generator (wrk, else our own asyncio one) runs on the other cores. Before each
run, the core's RSA-2048 signing rate (and, for sign-in, the argon2id verify rate) is
measured in a process pinned to the server's core, and the goals are scaled by it.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import loadgen, servers, srp_load
from bench.load_users import CLIENT_FLOWS, PASSWORD, username
from bench.loadgen import Request

WORKLOADS = ("signin", "srp", "srp1", "refresh", "getuser", "hello", "jwks", "startup")
MOTO_WORKLOADS = ("signin", "refresh", "getuser", "jwks")
# --peers: the node servers each workload is compared with, back to back
PEER_OF = {"jwks": "oidc-provider", "getuser": "cognito-local"}
SRP_USERS = 16  # "srp": this many users on --srp-connections; "srp1": one user on them all
LOADGEN_SATURATED = 0.8  # a figure taken with the load generator over this share of its core does not count
TARGET = "AWSCognitoIdentityProviderService."
JSON_CT = "application/x-amz-json-1.1"
QUIET_CORE_SIGN_RATE = 1450.0  # the "quiet core of about 1,450 signs/s"
KEYCLOAK_PER_CORE = 15.0  # sign-ins/s per vCPU, Keycloak's published figure
GETUSER_PER_QUIET_CORE = 3000.0
LATENCY_P99_MS = 50.0
LATENCY_CONNECTIONS = 4
SRP1_P99_MS = 250.0
STARTUP_GOALS_S = {"existing": 1.0, "new": 2.0}
TOKEN_USERS = 8  # users whose refresh/access tokens the refresh and GetUser loads rotate over
API_USERS = 64  # users created through the API when --users is not given
SIGNIN_SAMPLE = 5000  # with --users N, sign-ins cycle over this many users drawn at random from the N


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


@dataclass
class Target:
    """A server set up for the workloads: a pool, a client, users, tokens."""

    name: str
    server: servers.Server
    pool_id: str = ""
    client_id: str = ""
    usernames: list[str] = field(default_factory=list)
    users_total: int = 0
    refresh_tokens: list[str] = field(default_factory=list)
    access_tokens: list[str] = field(default_factory=list)
    signin_users: int = 0  # 0: all of usernames


def boto_client(url: str, key: str = "bench", secret: str = "bench") -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "cognito-idp",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, read_timeout=120),
    )


def setup_api(target: Target, key: str, secret: str, n_users: int, *, emails: bool = False) -> None:
    """Pool, client and a handful of users through the API (boto3), as an app would.

    ``emails``: usernames are email addresses (cognito-local's pools take no others)."""
    c = boto_client(target.server.url, key, secret)
    target.pool_id = c.create_user_pool(PoolName="bench")["UserPool"]["Id"]
    target.client_id = c.create_user_pool_client(
        UserPoolId=target.pool_id, ClientName="bench", ExplicitAuthFlows=CLIENT_FLOWS
    )["UserPoolClient"]["ClientId"]
    for i in range(n_users):
        name = f"{username(i)}@example.com" if emails else username(i)
        c.admin_create_user(
            UserPoolId=target.pool_id,
            Username=name,
            TemporaryPassword="Tmp-Passw0rd!1",
            MessageAction="SUPPRESS",
        )
        c.admin_set_user_password(UserPoolId=target.pool_id, Username=name, Password=PASSWORD, Permanent=True)
        target.usernames.append(name)
    target.users_total = n_users


def fetch_tokens(target: Target) -> None:
    c = boto_client(target.server.url)
    for name in target.usernames[:TOKEN_USERS]:
        r = c.initiate_auth(
            AuthFlow="USER_PASSWORD_AUTH",
            ClientId=target.client_id,
            AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD},
        )["AuthenticationResult"]
        target.refresh_tokens.append(r["RefreshToken"])
        target.access_tokens.append(r["AccessToken"])


def _op(op: str, body: dict[str, Any]) -> Request:
    return Request("POST", "/", {"X-Amz-Target": TARGET + op, "Content-Type": JSON_CT}, json.dumps(body))


def requests_for(workload: str, t: Target) -> tuple[list[Request], str]:
    """The requests a workload rotates over, and how it picks them."""
    if workload == "signin":
        names = t.usernames[: t.signin_users] if t.signin_users else t.usernames
        reqs = [
            _op(
                "InitiateAuth",
                {
                    "AuthFlow": "USER_PASSWORD_AUTH",
                    "ClientId": t.client_id,
                    "AuthParameters": {"USERNAME": u, "PASSWORD": PASSWORD},
                },
            )
            for u in names
        ]
        # Cycled, not drawn with replacement: one user is never signing in on several connections
        # at once (the server counts attempts in flight towards the lockout; see README).
        return reqs, "cycle"
    if workload == "refresh":
        reqs = [
            _op(
                "InitiateAuth",
                {
                    "AuthFlow": "REFRESH_TOKEN_AUTH",
                    "ClientId": t.client_id,
                    "AuthParameters": {"REFRESH_TOKEN": rt},
                },
            )
            for rt in t.refresh_tokens
        ]
        return reqs, "cycle"
    if workload == "getuser":
        return [_op("GetUser", {"AccessToken": at}) for at in t.access_tokens], "cycle"
    if workload == "jwks":
        if t.name == "oidc-provider":
            return [Request("GET", "/jwks")], "cycle"
        return [Request("GET", f"/{t.pool_id}/.well-known/jwks.json")], "cycle"
    if workload == "hello":
        return [Request("GET", "/")], "cycle"
    raise ValueError(workload)


def probe(url: str, req: Request) -> tuple[int, str]:
    """One request, for the status and the body (error reports)."""
    r = urllib.request.Request(
        url + req.path, data=req.body.encode() if req.body else None, headers=req.headers, method=req.method
    )
    try:
        with urllib.request.urlopen(r, timeout=60) as resp:
            return resp.status, resp.read(400).decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(400).decode(errors="replace")


def reference(cores: list[int], seconds: float, argon2: bool, srp: bool = False) -> dict[str, Any]:
    """The core's signing (and argon2id, gmpy2) rates, measured by a process pinned to the server's core."""
    cmd = [sys.executable, "-m", "bench.reference", "--seconds", str(seconds)]
    if argon2:
        cmd.append("--argon2")
    if srp:
        cmd.append("--srp")
    out = subprocess.run(
        cmd,
        cwd=servers.REPO,
        env=servers.clean_env(),
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=servers.pinned(cores),
    )
    return dict(json.loads(out.stdout))


# The workloads whose goal is a ratio to the core's own rates: their reference is taken just
# before and just after the run, and the goal uses the mean (these cores' speed moves by a
# quarter from one minute to the next).
BRACKETED = ("signin", "srp", "srp1", "refresh", "getuser")
RATES = ("sign_rate", "sign_rate_cpu", "argon2_verify_rate", "modexp_rate", "modexp_rate_cpu")


def bracketed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The reference taken before a run, its rates replaced by the mean of before and after."""
    mean = dict(before)
    for name in RATES:
        if name in before and name in after:
            mean[name] = (before[name] + after[name]) / 2
    mean["sign_rate_before"], mean["sign_rate_after"] = before["sign_rate"], after["sign_rate"]
    return mean


def srp_users(target: Target, workload: str) -> list[str]:
    return target.usernames[: 1 if workload == "srp1" else SRP_USERS]


def run_load(
    target: Target,
    workload: str,
    connections: int,
    duration: float,
    args: argparse.Namespace,
    cores: list[int],
) -> loadgen.Result:
    host, port = "127.0.0.1", target.server.port
    if workload in ("srp", "srp1"):
        return asyncio.run(
            srp_load.run(
                host,
                port,
                pool_id=target.pool_id,
                client_id=target.client_id,
                usernames=srp_users(target, workload),
                password=PASSWORD,
                connections=connections,
                duration=duration,
            )
        )
    reqs, pick = requests_for(workload, target)
    return loadgen.run(
        host,
        port,
        reqs,
        connections=connections,
        duration=duration,
        pick=pick,
        cores=cores,
        use_wrk=False if args.no_wrk else None,
    )


def measure(
    target: Target, workload: str, connections: int, args: argparse.Namespace, client_cores: list[int]
) -> dict[str, Any]:
    if workload in ("srp", "srp1"):
        return measure_srp(target, workload, connections, args, client_cores)
    reqs, pick = requests_for(workload, target)
    status, body = probe(target.server.url, reqs[0])
    if not 200 <= status < 300:
        log(f"{target.name} {workload}: probe got HTTP {status}: {body}")
    host, port = "127.0.0.1", target.server.port
    use_wrk = False if args.no_wrk else None
    if args.warmup > 0:
        loadgen.run(
            host,
            port,
            reqs,
            connections=connections,
            duration=args.warmup,
            pick=pick,
            cores=client_cores,
            use_wrk=use_wrk,
        )
        drain(target.server)
    cores = target.server.cores
    lg0 = servers.core_busy_seconds(client_cores)
    busy0, cpu0, t0 = servers.core_busy_seconds(cores), target.server.cpu_seconds(), time.perf_counter()
    res = loadgen.run(
        host,
        port,
        reqs,
        connections=connections,
        duration=args.duration,
        pick=pick,
        cores=client_cores,
        use_wrk=use_wrk,
    )
    cpu1, t1, busy1 = target.server.cpu_seconds(), time.perf_counter(), servers.core_busy_seconds(cores)
    lg1 = servers.core_busy_seconds(client_cores)
    drain(target.server)
    out: dict[str, Any] = {
        "workload": workload,
        "server": target.name,
        "connections": connections,
        "users": target.users_total if workload == "signin" else None,
        "signin_users": len(reqs) if workload == "signin" else None,
        "rps": round(res.rps, 1),
        "p50_ms": round(res.p50_ms, 2),
        "p99_ms": round(res.p99_ms, 2),
        "errors": res.errors,
        "socket_errors": res.socket_errors,
        "requests": res.requests,
        "duration_s": round(res.duration_s, 2),
        "server_cpu": round((cpu1 - cpu0) / (t1 - t0), 3),
        # requests per second of server CPU: less sensitive to other processes taking the core
        "rps_per_cpu": round(res.requests / (cpu1 - cpu0), 1) if cpu1 > cpu0 else None,
        # the server core's time taken by anything else (other processes, steal): noise indicator
        "core_other_cpu": round(max(0.0, (busy1 - busy0) - (cpu1 - cpu0)) / (t1 - t0), 3),
        # busy fraction of the load generator's core(s), itself included: near 1 per core = saturated
        "loadgen_core_busy": round((lg1 - lg0) / (t1 - t0), 3),
        "loadgen": res.loadgen,
    }
    add_loadgen_cpu(out, res)
    for k in ("users", "signin_users"):
        if out[k] is None:
            del out[k]
    if res.error_samples:
        out["error_samples"] = res.error_samples
    elif res.errors:
        st, b = probe(target.server.url, reqs[0])
        out["error_samples"] = [f"(probe after the run) {st} {b}"]
    if res.errors or res.socket_errors:
        log(f"{target.name} {workload} x{connections}: errors; server log tail:\n{target.server.tail(1500)}")
    return out


def add_loadgen_cpu(out: dict[str, Any], res: loadgen.Result) -> None:
    """The load generator's own CPU per wall second (1.0 = one core): over 0.8, the figure does not count."""
    if res.cpu_s is None or res.duration_s <= 0:
        return
    out["loadgen_cpu"] = round(res.cpu_s / res.duration_s, 3)
    out["loadgen_saturated"] = out["loadgen_cpu"] > LOADGEN_SATURATED


def measure_srp(
    target: Target, workload: str, connections: int, args: argparse.Namespace, client_cores: list[int]
) -> dict[str, Any]:
    """Whole SRP sign-ins (two requests each) with our own generator; same fields as measure()."""
    if args.warmup > 0:
        run_load(target, workload, connections, args.warmup, args, client_cores)
        drain(target.server)
    cores = target.server.cores
    lg0 = servers.core_busy_seconds(client_cores)
    busy0, cpu0, t0 = servers.core_busy_seconds(cores), target.server.cpu_seconds(), time.perf_counter()
    res = run_load(target, workload, connections, args.duration, args, client_cores)
    cpu1, t1, busy1 = target.server.cpu_seconds(), time.perf_counter(), servers.core_busy_seconds(cores)
    lg1 = servers.core_busy_seconds(client_cores)
    drain(target.server)
    out: dict[str, Any] = {
        "workload": workload,
        "server": target.name,
        "connections": connections,
        "signin_users": len(srp_users(target, workload)),
        "rps": round(res.rps, 1),
        "p50_ms": round(res.p50_ms, 2),
        "p99_ms": round(res.p99_ms, 2),
        "errors": res.errors,
        "socket_errors": res.socket_errors,
        "requests": res.requests,
        "duration_s": round(res.duration_s, 2),
        "server_cpu": round((cpu1 - cpu0) / (t1 - t0), 3),
        "rps_per_cpu": round(res.requests / (cpu1 - cpu0), 1) if cpu1 > cpu0 else None,
        "core_other_cpu": round(max(0.0, (busy1 - busy0) - (cpu1 - cpu0)) / (t1 - t0), 3),
        "loadgen_core_busy": round((lg1 - lg0) / (t1 - t0), 3),
        "loadgen": res.loadgen,
    }
    add_loadgen_cpu(out, res)
    if res.error_samples:
        out["error_samples"] = res.error_samples
    if res.errors or res.socket_errors:
        log(f"{target.name} {workload} x{connections}: errors; server log tail:\n{target.server.tail(1500)}")
    return out


def add_goals(
    line: dict[str, Any],
    ref: dict[str, Any],
    hello: dict[str, Any] | None,
    moto: dict[str, Any] | None,
    peer: dict[str, Any] | None = None,
) -> None:
    s = ref["sign_rate"]
    line["sign_rate"] = round(s, 1)
    w, rps = line["workload"], line["rps"]
    goals: dict[str, float] = {}
    if w == "signin":
        v = ref["argon2_verify_rate"]
        bound = 1.0 / (1.0 / v + 2.0 / s)
        line["argon2_verify_rate"] = round(v, 2)
        line["argon2_params"] = ref.get("argon2_params")
        line["bound"] = round(bound, 2)
        goals["0.8*bound"] = 0.8 * bound
        goals["15/s*sign_rate/1450"] = KEYCLOAK_PER_CORE * s / QUIET_CORE_SIGN_RATE
        # each run as a ratio to the hashing reference just before it (issue 12: 32 vs 4 connections)
        line["per_argon2"] = round(rps / v, 4)
    elif w in ("srp", "srp1"):
        m = ref["modexp_rate"]
        bound = 1.0 / (3.0 / m + 2.0 / s)  # three exponentiations and two signatures per sign-in
        line["modexp_rate"] = round(m, 1)
        line["srp_bound"] = round(bound, 1)
        line["ratio_to_bound"] = round(rps / bound, 3)
        if line.get("rps_per_cpu") and ref.get("modexp_rate_cpu"):
            bound_cpu = 1.0 / (3.0 / ref["modexp_rate_cpu"] + 2.0 / ref["sign_rate_cpu"])
            line["srp_bound_per_cpu"] = round(bound_cpu, 1)
            line["ratio_to_bound_per_cpu"] = round(line["rps_per_cpu"] / bound_cpu, 3)
        goals["0.7*srp_bound" if w == "srp" else "0.5*srp_bound"] = (0.7 if w == "srp" else 0.5) * bound
    elif w == "refresh":
        goals["0.8*sign_rate/2"] = 0.8 * s / 2.0
        if line.get("rps_per_cpu") and ref.get("sign_rate_cpu"):
            line["ratio_to_half_sign_rate_per_cpu"] = round(
                line["rps_per_cpu"] / (ref["sign_rate_cpu"] / 2), 3
            )
        if moto is not None:
            goals["2.5*moto"] = 2.5 * moto["rps"]
    elif w == "getuser":
        goals["3000/s*sign_rate/1450"] = GETUSER_PER_QUIET_CORE * s / QUIET_CORE_SIGN_RATE
        if peer is not None:
            goals["2.5*cognito-local"] = 2.5 * peer["rps"]
    elif w == "jwks" and hello is not None:
        line["hello_rps"] = hello["rps"]
        if hello.get("rps_per_cpu") and line.get("rps_per_cpu"):
            # the same comparison per server CPU second: robust when the client side is the limit
            line["ratio_to_hello_per_cpu"] = round(line["rps_per_cpu"] / hello["rps_per_cpu"], 3)
        goals["0.7*hello"] = 0.7 * hello["rps"]
    if w == "jwks" and peer is not None:
        goals["1.5*oidc-provider"] = 1.5 * peer["rps"]
    if peer is not None:
        line["peer"] = peer["server"]
        line["peer_rps"] = peer["rps"]
        line["ratio_to_peer"] = round(rps / peer["rps"], 2) if peer["rps"] else None
        if line.get("rps_per_cpu") and peer.get("rps_per_cpu"):
            line["ratio_to_peer_per_cpu"] = round(line["rps_per_cpu"] / peer["rps_per_cpu"], 2)
    if moto is not None:
        line["moto_rps"] = moto["rps"]
        line["ratio_to_moto"] = round(rps / moto["rps"], 2) if moto["rps"] else None
    if not goals:
        return
    goal = max(goals.values())
    line["goals"] = {k: round(v, 1) for k, v in goals.items()}
    line["goal"] = round(goal, 1)
    line["ratio_to_goal"] = round(rps / goal, 3)
    met = rps >= goal and line["errors"] == 0 and line["socket_errors"] == 0
    if w in ("refresh", "getuser", "jwks") and line["connections"] == LATENCY_CONNECTIONS:
        line["p99_goal_ms"] = LATENCY_P99_MS
        line["latency_met"] = line["p99_ms"] < LATENCY_P99_MS
        met = met and line["latency_met"]
    if w == "srp1":
        line["p99_goal_ms"] = SRP1_P99_MS
        line["latency_met"] = line["p99_ms"] < SRP1_P99_MS
        met = met and line["latency_met"]
    # a figure taken with the load generator (or a peer's) saturated does not count
    counts = not line.get("loadgen_saturated") and not (peer or {}).get("loadgen_saturated")
    line["counts"] = counts
    line["met"] = met and counts


def drain(server: servers.Server, max_wait: float = 60.0) -> float:
    """Wait until the server has finished the requests of connections that are gone.

    When a load ends, its last requests are still queued in the server (32 password
    checks take a while): they would be counted against the next run, or the reference
    taken before it. Returns the seconds waited (the server's own CPU stayed under 5 %
    of a core for 0.3 s)."""
    start = time.monotonic()
    while time.monotonic() - start < max_wait:
        c0 = server.cpu_seconds()
        time.sleep(0.3)
        if server.cpu_seconds() - c0 < 0.015:
            break
    return time.monotonic() - start


def settle(cores: list[int], max_wait: float, threshold: float = 0.10) -> tuple[float, float]:
    """Wait (up to max_wait) until the server's core(s) are nearly idle; the busy fraction and the wait."""
    start = time.monotonic()
    while True:
        b0 = servers.core_busy_seconds(cores)
        time.sleep(0.5)
        frac = (servers.core_busy_seconds(cores) - b0) / 0.5 / len(cores)
        waited = time.monotonic() - start
        if frac < threshold or waited >= max_wait:
            return frac, waited


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=10.0, help="seconds of load per run (default 10)")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds of unmeasured load before each run")
    p.add_argument("--only", default=",".join(WORKLOADS), help="comma-separated workloads")
    p.add_argument("--connections", default="4,32", help="connection counts to run each workload at")
    p.add_argument("--workers", type=int, default=1, help="passed to cognate serve --workers")
    p.add_argument("--users", type=int, default=0, help="bulk-load N users before the server starts")
    p.add_argument("--moto", action="store_true", help="also run moto's server on the same workloads")
    p.add_argument(
        "--peers",
        action="store_true",
        help="also run node's oidc-provider (jwks) and cognito-local (getuser), back to back",
    )
    p.add_argument(
        "--server-log-level",
        help="cognate serve --log-level (default: the server's, info: one log line per request)",
    )
    p.add_argument(
        "--srp-connections", type=int, default=16, help="connections for srp and srp1 (default 16)"
    )
    p.add_argument("--starts", type=int, default=5, help="startup: starts of each kind (default 5)")
    p.add_argument(
        "--signin-users",
        type=int,
        default=0,
        help="sign in only the first K of the users (K < connections puts one user on several at once)",
    )
    p.add_argument("--json-out", type=Path, help="also write the JSON lines to this file")
    p.add_argument("--server-cores", default="", help="cores for the server (default: 1, or the last one)")
    p.add_argument(
        "--settle",
        type=float,
        default=15.0,
        help="before each run, wait up to S seconds for the server core to be idle (shared machines)",
    )
    p.add_argument("--ref-seconds", type=float, default=1.0, help="seconds per reference measurement")
    p.add_argument("--no-wrk", action="store_true", help="use our own load generator even if wrk is there")
    p.add_argument("--keep", action="store_true", help="keep the temporary data dir and server logs")
    args = p.parse_args(argv)
    args.workloads = [w.strip() for w in args.only.split(",") if w.strip()]
    bad = set(args.workloads) - set(WORKLOADS)
    if bad:
        p.error(f"unknown workloads: {', '.join(sorted(bad))} (known: {', '.join(WORKLOADS)})")
    args.conns = [int(c) for c in args.connections.split(",")]
    return args


def plan(workloads: list[str], conns: list[int], srp_conns: int = 16) -> list[tuple[str, int]]:
    """Runs in order; the hello run goes just before the JWKS run it is compared with."""
    runs: list[tuple[str, int]] = []
    if "signin" in workloads:
        runs += [("signin", c) for c in conns]
    for w in ("srp", "srp1"):
        if w in workloads:
            runs.append((w, srp_conns))
    for w in ("refresh", "getuser"):
        if w in workloads:
            runs += [(w, c) for c in conns]
    for c in conns:
        if "hello" in workloads or "jwks" in workloads:
            runs.append(("hello", c))
        if "jwks" in workloads:
            runs.append(("jwks", c))
    return runs


def signin_scaling(lines: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Password sign-in at the most connections against the fewest, each per argon2 reference."""
    runs = {ln["connections"]: ln for ln in lines if ln.get("workload") == "signin" and "per_argon2" in ln}
    if len(runs) < 2:
        return None
    lo, hi = runs[min(runs)], runs[max(runs)]
    ratio = hi["per_argon2"] / lo["per_argon2"] if lo["per_argon2"] else 0.0
    counts = not lo.get("loadgen_saturated") and not hi.get("loadgen_saturated")
    return {
        "workload": "signin-scaling",
        "server": "cognate",
        "connections": [lo["connections"], hi["connections"]],
        "per_argon2": [lo["per_argon2"], hi["per_argon2"]],
        "ratio": round(ratio, 3),
        "goal": 0.9,
        "counts": counts,
        "met": ratio >= 0.9 and counts,
    }


def startup(cores: list[int], starts: int, work: Path) -> list[dict[str, Any]]:
    """Seconds from ``cognate serve`` being started to its first 200 on /health (median of ``starts``):
    on a new data dir each time, and again on one that already exists."""
    import statistics

    out = []
    existing = work / "startup-existing"
    for kind in ("new", "existing"):
        times, cpus = [], []
        for i in range(starts + (1 if kind == "existing" else 0)):
            data = work / f"startup-new-{i}" if kind == "new" else existing
            busy0 = servers.core_busy_seconds(cores)
            t0 = time.perf_counter()
            srv = servers.start_cognate(data, cores, 1, work / f"startup-{kind}.log")
            elapsed = time.perf_counter() - t0
            cpu = srv.cpu_seconds()  # the server's own CPU until it answered: robust to a busy core
            other = max(0.0, servers.core_busy_seconds(cores) - busy0 - cpu) / elapsed
            srv.stop()
            if kind == "existing" and i == 0:
                continue  # this start made the data dir
            times.append(elapsed)
            cpus.append((cpu, other))
        median = statistics.median(times)
        goal = STARTUP_GOALS_S[kind]
        out.append(
            {
                "workload": "startup",
                "server": "cognate",
                "data_dir": kind,
                "seconds": [round(t, 3) for t in times],
                "median_s": round(median, 3),
                "cpu_s": [round(c, 2) for c, _ in cpus],
                "median_cpu_s": round(statistics.median(c for c, _ in cpus), 3),
                "core_other_cpu": round(statistics.median(o for _, o in cpus), 3),
                "goal_s": goal,
                "met": median <= goal,
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    servers.session_nice()  # the reference processes run in this session
    if os.environ.get("COGNATE_TEST_PASSWORD_HASH_COST"):
        log("COGNATE_TEST_PASSWORD_HASH_COST is set in this shell; it is NOT passed to the servers")
    cores = sorted(os.sched_getaffinity(0))
    if args.server_cores:
        server_cores = [int(c) for c in args.server_cores.split(",")]
    else:
        server_cores = [1] if 1 in cores and len(cores) > 1 else [cores[-1]]
    client_cores = [c for c in cores if c not in server_cores] or cores
    os.sched_setaffinity(0, client_cores)
    log(
        f"server on core(s) {server_cores}, load generator on {client_cores}; "
        f"load generator: {'wrk' if loadgen.have_wrk() and not args.no_wrk else 'asyncio (own)'}"
    )
    if len(cores) < 2:
        log("only one core: server and load generator share it; figures are not comparable")

    work = Path(tempfile.mkdtemp(prefix="cognate-bench-"))
    data_dir = work / "data"
    runs = plan(args.workloads, args.conns, args.srp_connections)
    need_cognate = any(w != "hello" for w, _ in runs)
    if args.peers and (why := servers.node_peers_missing()):
        log(f"--peers: {why}")
        return 2
    started: list[servers.Server] = []
    lines: list[dict[str, Any]] = []
    out_file = args.json_out.open("w") if args.json_out else None
    try:
        cognate = hello_t = moto = None
        peers: dict[str, Target] = {}
        if need_cognate:
            loaded = None
            if args.users:
                from bench.load_users import load

                t0 = time.perf_counter()
                loaded = asyncio.run(load(data_dir, args.users))
                log(f"bulk-loaded {loaded['users']} users in {time.perf_counter() - t0:.1f}s: {loaded}")
            srv = servers.start_cognate(
                data_dir, server_cores, args.workers, work / "cognate.log", args.server_log_level
            )
            started.append(srv)
            cognate = Target("cognate", srv)
            if loaded:
                cognate.pool_id, cognate.client_id = loaded["pool_id"], loaded["client_id"]
                cognate.users_total = loaded["users"]
                k = min(loaded["users"], SIGNIN_SAMPLE)
                cognate.usernames = [username(i) for i in random.sample(range(loaded["users"]), k)]
            else:
                creds = json.loads((data_dir / "credentials.json").read_text())
                setup_api(cognate, creds["AccessKeyId"], creds["SecretAccessKey"], API_USERS)
                random.shuffle(cognate.usernames)
            fetch_tokens(cognate)
            cognate.signin_users = args.signin_users
            log(f"cognate ready at {srv.url}: pool {cognate.pool_id}, {cognate.users_total} users")
        if any(w == "hello" for w, _ in runs):
            body_file = None
            if cognate is not None and any(w == "jwks" for w, _ in runs):
                # the bare app answers with the very bytes Cognate serves
                status, _ = probe(cognate.server.url, requests_for("jwks", cognate)[0][0])
                assert status == 200, status
                url = f"{cognate.server.url}/{cognate.pool_id}/.well-known/jwks.json"
                with urllib.request.urlopen(url) as resp:
                    (work / "jwks.json").write_bytes(resp.read())
                body_file = work / "jwks.json"
            srv = servers.start_hello(server_cores, args.workers, work / "hello.log", body_file)
            started.append(srv)
            hello_t = Target("hello", srv)
        if args.moto and any(w in MOTO_WORKLOADS for w, _ in runs):
            srv = servers.start_moto(server_cores, work / "moto.log")
            started.append(srv)
            moto = Target("moto", srv)
            setup_api(moto, "bench", "bench", API_USERS)
            random.shuffle(moto.usernames)
            fetch_tokens(moto)
            moto.signin_users = args.signin_users
            log(f"moto ready at {srv.url}: pool {moto.pool_id}")
        if args.peers and any(w == "jwks" for w, _ in runs):
            srv = servers.start_oidc_provider(server_cores, work / "oidc-provider.log")
            started.append(srv)
            peers["jwks"] = Target("oidc-provider", srv)
            log(f"oidc-provider ready at {srv.url}")
        if args.peers and any(w == "getuser" for w, _ in runs):
            srv = servers.start_cognito_local(
                server_cores, work / "cognito-local.log", work / "cognito-local"
            )
            started.append(srv)
            peer = Target("cognito-local", srv)
            setup_api(peer, "bench", "bench", TOKEN_USERS, emails=True)
            fetch_tokens(peer)
            peers["getuser"] = peer
            log(f"cognito-local ready at {srv.url}: pool {peer.pool_id}")

        hello_by_conns: dict[int, dict[str, Any]] = {}

        def emit(line: dict[str, Any]) -> None:
            lines.append(line)
            text = json.dumps(line)
            print(text, flush=True)
            if out_file:
                out_file.write(text + "\n")
                out_file.flush()

        for workload, conns in runs:
            target = hello_t if workload == "hello" else cognate
            assert target is not None
            if args.settle > 0:
                busy, waited = settle(server_cores, args.settle)
                if busy >= 0.10:
                    log(f"server core still {busy:.0%} busy with other work after {waited:.0f}s; going on")
            srp_ref = workload in ("srp", "srp1")
            ref = reference(server_cores, args.ref_seconds, argon2=workload == "signin", srp=srp_ref)
            log(f"{workload} x{conns}: sign_rate {ref['sign_rate']:.0f}/s; loading {args.duration:g}s")
            try:
                line = measure(target, workload, conns, args, client_cores)
            except Exception as exc:
                emit({"workload": workload, "server": target.name, "connections": conns, "failed": repr(exc)})
                continue
            if workload in BRACKETED:
                after = reference(server_cores, args.ref_seconds, argon2=workload == "signin", srp=srp_ref)
                ref = bracketed(ref, after)
                line["sign_rate_before"] = round(ref["sign_rate_before"], 1)
                line["sign_rate_after"] = round(ref["sign_rate_after"], 1)
            moto_line = None
            if moto is not None and workload in MOTO_WORKLOADS:
                log(f"{workload} x{conns}: moto, back to back")
                try:
                    moto_line = measure(moto, workload, conns, args, client_cores)
                    moto_line["sign_rate"] = round(ref["sign_rate"], 1)
                except Exception as exc:
                    moto_line = None
                    log(f"moto {workload} failed: {exc!r}")
            peer_line = None
            if workload in peers:
                log(f"{workload} x{conns}: {peers[workload].name}, back to back")
                try:
                    peer_line = measure(peers[workload], workload, conns, args, client_cores)
                    peer_line["sign_rate"] = round(ref["sign_rate"], 1)
                except Exception as exc:
                    log(f"{peers[workload].name} {workload} failed: {exc!r}")
            if workload == "hello":
                hello_by_conns[conns] = line
                line["sign_rate"] = round(ref["sign_rate"], 1)
            else:
                add_goals(line, ref, hello_by_conns.get(conns), moto_line, peer_line)
            emit(line)
            if moto_line is not None:
                emit(moto_line)
            if peer_line is not None:
                emit(peer_line)
        scaling = signin_scaling(lines)
        if scaling is not None:
            emit(scaling)
        if "startup" in args.workloads:
            for line in startup(server_cores, args.starts, work):
                emit(line)
    finally:
        for srv in reversed(started):
            srv.stop()
        if out_file:
            out_file.close()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
