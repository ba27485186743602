"""Where one workload's server time goes: instruction counts (callgrind) or a cProfile.

    python -m bench.profile getuser                          # instructions per request
    python -m bench.profile srp --connections 16             # per whole SRP sign-in
    python -m bench.profile refresh --cognate-src /work/main/src   # the same, another checkout
    python -m bench.profile jwks --mode cprofile --out /tmp/jwks   # /tmp/jwks.prof for pstats

The bench's own set-up (a pool, a client, 16 users, their tokens) is made on a normal
start; the server is then started again on the same data dir and port (the tokens'
issuer names the port) under the tool, pinned to the server core like every bench
server. After a warm-up the load runs for ``--seconds``, measured alone:

- ``callgrind``: ``valgrind --tool=callgrind --instr-atstart=no``, its counting switched
  on for the load only (``callgrind_control -i on``). Instruction counts do not depend
  on what else runs on the machine, so two checkouts can be compared on a busy one.
  The line gives the instructions per request (per sign-in for srp and srp1), in all
  and outside the cryptographic libraries (``cryptography``'s OpenSSL and GMP), whose
  code takes another path under valgrind than on the real CPU (no AVX-512).
- ``cprofile``: ``cProfile`` with the main thread's CPU clock, on for the load only
  (signals to ``bench._profiled``); ``--out``.prof for ``pstats`` or snakeviz.

The load runs slowly under valgrind (about 50 times): the counts are per request.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import run, servers

CRYPTO_OBJECTS = ("_rust.abi3.so", "libcrypto", "libgmp", "gmpy2")
_LINE = re.compile(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)")


def _instructions(out_file: Path) -> tuple[int, int]:
    """(all instructions, those in the cryptographic libraries) of a callgrind output file."""
    text = subprocess.run(
        ["callgrind_annotate", "--threshold=100", str(out_file)], capture_output=True, text=True, check=True
    ).stdout
    total = crypto = 0
    for line in text.splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        count, where = int(match[1].replace(",", "")), match[2]
        if "PROGRAM TOTALS" in where:
            total = count
        elif any(name in where for name in CRYPTO_OBJECTS):
            crypto += count
    return total, crypto


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workload", choices=[w for w in run.WORKLOADS if w not in ("hello", "startup", "signin")])
    p.add_argument("--mode", choices=("callgrind", "cprofile"), default="callgrind")
    p.add_argument("--seconds", type=float, default=8.0, help="measured load (default 8)")
    p.add_argument("--connections", type=int, help="default: 16 for srp and srp1, else 4")
    p.add_argument("--out", type=Path, help="output file prefix (default: a temporary directory)")
    p.add_argument("--cognate-src", help="the src directory of the checkout to run (default: this one's)")
    p.add_argument("--server-core", type=int, default=1)
    args = p.parse_args(argv)
    if args.mode == "callgrind" and not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        print("callgrind needs valgrind (apt-get install valgrind)", file=sys.stderr)
        return 2
    servers.session_nice()
    cores = [args.server_core]
    client_cores = [c for c in sorted(os.sched_getaffinity(0)) if c not in cores] or cores
    os.sched_setaffinity(0, client_cores)
    conns = args.connections or (16 if args.workload in ("srp", "srp1") else 4)
    work = Path(tempfile.mkdtemp(prefix="cognate-profile-"))
    out = args.out or work / args.workload
    env = {"PYTHONPATH": os.pathsep.join([str(servers.REPO), args.cognate_src])} if args.cognate_src else {}
    data = work / "data"

    port = servers.free_port()
    serve = ["-m", "cognate.cli", "serve", "--port", str(port), "--data-dir", str(data)]
    setup = servers.Server(
        "cognate", [sys.executable, *serve], port, cores, "/health", work / "setup.log", env=env
    )
    setup.wait_ready()
    target = run.Target("cognate", setup)
    creds = json.loads((data / "credentials.json").read_text())
    run.setup_api(target, creds["AccessKeyId"], creds["SecretAccessKey"], run.SRP_USERS)
    run.fetch_tokens(target)
    setup.stop()

    if args.mode == "callgrind":
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}.cg", "--instr-atstart=no"]
        cmd += [sys.executable, *serve]
    else:
        cmd = [sys.executable, "-m", "bench._profiled", *serve[2:]]
        env = {**env, "BENCH_PROFILE_OUT": f"{out}.prof"}
    server = servers.Server("cognate", cmd, port, cores, "/health", work / "profiled.log", env=env)
    server.wait_ready(timeout=600)
    target.server = server
    load_args = argparse.Namespace(no_wrk=False)
    run.run_load(target, args.workload, conns, 2.0, load_args, client_cores)  # warm-up
    pid = server.proc.pid
    if args.mode == "callgrind":
        subprocess.run(["callgrind_control", "-i", "on", str(pid)], check=True, capture_output=True)
    else:
        os.kill(pid, signal.SIGUSR1)
    res = run.run_load(target, args.workload, conns, args.seconds, load_args, client_cores)
    if args.mode == "callgrind":
        subprocess.run(["callgrind_control", "-i", "off", str(pid)], check=True, capture_output=True)
    else:
        os.kill(pid, signal.SIGUSR2)
        time.sleep(1.0)
    os.killpg(pid, signal.SIGTERM)
    server.proc.wait(timeout=300)
    line: dict[str, Any] = {
        "workload": args.workload,
        "mode": args.mode,
        "connections": conns,
        "requests": res.requests,  # sign-ins for srp and srp1
        "errors": res.errors + res.socket_errors,
    }
    if args.mode == "callgrind" and res.requests:
        total, crypto = _instructions(Path(f"{out}.cg"))
        line["instructions_per_request"] = round(total / res.requests)
        line["outside_crypto_per_request"] = round((total - crypto) / res.requests)
        line["file"] = f"{out}.cg"
    else:
        line["file"] = f"{out}.prof"
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
