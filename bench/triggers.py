"""What a Lambda trigger adds: refresh (REFRESH_TOKEN_AUTH) with and without a PreTokenGeneration
``python:`` handler that returns its event, at one connection, in the same run.

    python -m bench.triggers [--requests 2000] [--json-out FILE]

One ``cognate serve`` (pinned to one core, default argon2 cost, a functions file naming
bench/echo_handler.py) holds two pools that differ only in their LambdaConfig. Requests
alternate between them on one keep-alive connection each, so drift and noise fall on
both alike. Prints one JSON line: p50/p90/p99 in milliseconds for each, and what the
trigger adds (the goal: no more than 2 ms at p50). Not a timed test; CI does not run it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import servers
from bench.run import boto_client

ARN = "arn:aws:lambda:us-east-1:123456789012:function:echo"
PASSWORD = "Bench-Passw0rd!1"
FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


def pool_with(c: Any, lambda_config: dict[str, str]) -> tuple[str, str]:
    pool_id = c.create_user_pool(PoolName="bench", LambdaConfig=lambda_config)["UserPool"]["Id"]
    client_id = c.create_user_pool_client(UserPoolId=pool_id, ClientName="bench", ExplicitAuthFlows=FLOWS)[
        "UserPoolClient"
    ]["ClientId"]
    c.admin_create_user(UserPoolId=pool_id, Username="u", MessageAction="SUPPRESS")
    c.admin_set_user_password(UserPoolId=pool_id, Username="u", Password=PASSWORD, Permanent=True)
    token = c.initiate_auth(
        AuthFlow="USER_PASSWORD_AUTH",
        ClientId=client_id,
        AuthParameters={"USERNAME": "u", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["RefreshToken"]
    body = {
        "AuthFlow": "REFRESH_TOKEN_AUTH",
        "ClientId": client_id,
        "AuthParameters": {"REFRESH_TOKEN": token},
    }
    return client_id, json.dumps(body)


def one(conn: http.client.HTTPConnection, body: str) -> float:
    headers = {
        "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        "Content-Type": "application/x-amz-json-1.1",
    }
    started = time.perf_counter()
    conn.request("POST", "/", body, headers)
    response = conn.getresponse()
    data = response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"refresh failed: {response.status} {data[:200]!r}")
    return elapsed * 1000


def summary(ms: list[float]) -> dict[str, float]:
    q = statistics.quantiles(ms, n=100)
    return {"p50": round(q[49], 3), "p90": round(q[89], 3), "p99": round(q[98], 3)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=2000, help="measured refreshes per pool (default 2000)")
    p.add_argument("--warmup", type=int, default=200, help="unmeasured refreshes per pool first")
    p.add_argument("--server-cores", default="", help="cores for the server (default: 1, or the last one)")
    p.add_argument("--json-out", type=Path, help="also append the JSON line to this file")
    args = p.parse_args(argv)
    cores = sorted(os.sched_getaffinity(0))
    server_cores = (
        [int(c) for c in args.server_cores.split(",")]
        if args.server_cores
        else ([1] if 1 in cores and len(cores) > 1 else [cores[-1]])
    )
    with tempfile.TemporaryDirectory(prefix="cognate-bench-") as work_dir:
        work = Path(work_dir)
        functions = work / "functions.json"
        functions.write_text(json.dumps({"echo": "python:bench.echo_handler:handler"}))
        port = servers.free_port()
        cmd = [sys.executable, "-m", "cognate.cli", "serve", "--port", str(port)]
        cmd += ["--data-dir", str(work / "data"), "--functions", str(functions)]
        server = servers.Server("cognate", cmd, port, server_cores, "/health", work / "cognate.log")
        try:
            server.wait_ready()
            creds = json.loads((work / "data" / "credentials.json").read_text())
            c = boto_client(server.url, creds["AccessKeyId"], creds["SecretAccessKey"])
            _, plain = pool_with(c, {})
            _, triggered = pool_with(c, {"PreTokenGeneration": ARN})
            conns = {
                name: http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                for name in ("plain", "trigger")
            }
            bodies = {"plain": plain, "trigger": triggered}
            times: dict[str, list[float]] = {"plain": [], "trigger": []}
            for i in range(args.warmup + args.requests):
                for name in ("plain", "trigger") if i % 2 else ("trigger", "plain"):
                    ms = one(conns[name], bodies[name])
                    if i >= args.warmup:
                        times[name].append(ms)
        finally:
            server.stop()
    without, with_ = summary(times["plain"]), summary(times["trigger"])
    line = {
        "bench": "pre-token-generation-on-refresh",
        "connections": 1,
        "requests_each": args.requests,
        "without_trigger_ms": without,
        "with_trigger_ms": with_,
        "added_p50_ms": round(with_["p50"] - without["p50"], 3),
        # Each trigger request against the plain one next to it: steadier on a busy machine.
        "added_median_of_pairs_ms": round(
            statistics.median(t - p for t, p in zip(times["trigger"], times["plain"], strict=True)), 3
        ),
        "ratio_p50": round(with_["p50"] / without["p50"], 3),
        "goal_added_p50_ms": 2.0,
    }
    text = json.dumps(line)
    print(text, flush=True)
    if args.json_out:
        with args.json_out.open("a") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
