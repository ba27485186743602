"""Capacity at scale (issue 13): ListUsers' filters and sign-in at 1,000 and 1,000,000 users,
server memory, several workers, PostgreSQL against SQLite. One JSON line per run, then
one per figure (the median of ``--repeats`` runs, each a ratio to its reference).

    python -m bench.scale                                  # SQLite, 1,000 and 1,000,000 users, everything
    python -m bench.scale --sizes 1000,100000 --only listusers
    python -m bench.scale --postgres postgresql://postgres@127.0.0.1:5432/postgres   # and PostgreSQL
    python -m bench.scale --only workers

Each pool is bulk-loaded (bench/load_users.py: one argon2id hash and one SRP verifier for
everyone, 16 users spread over the pool with an SRP verifier of their own), then served
by ``cognate serve`` pinned to one core while the load generator runs on the other. The
runs alternate between the sizes (and databases), so drift on a shared machine falls on
both sides of a ratio. See bench/README.md, "Capacity at scale".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import loadgen, servers, srp_load
from bench.load_users import GIVEN_NAMES, PASSWORD, load, sub_of, username
from bench.loadgen import Request
from bench.run import LOADGEN_SATURATED, TARGET, drain, log, reference, settle

JSON_CT = "application/x-amz-json-1.1"
SRP_USERS = 16
VALUES = 400  # distinct filter values (and sign-in users) a run rotates over
LIST_LIMIT = 10  # every ListUsers page asks for 10 users; the prefixes below match exactly 10
LIST_RPS_GOAL = 500.0
LIST_P99_GOAL_MS = 50.0
MEMORY_GOAL_MB = 300.0
SIZE_GOAL = 0.85  # the large pool's figure at least 0.85 of the small one's
POSTGRES_GOAL = 0.75  # PostgreSQL's figure at least 0.75 of SQLite's
WORKERS_GOAL = 1.8

# ListUsers filters: name -> the filter for user i of a pool of n (values that exist at every size:
# "=" finds one user, or ten for given_name; "^=" ten users, user{i//10}0 .. user{i//10}9).
FILTERS: dict[str, Callable[[str, int, int], str]] = {
    "email=": lambda pool, i, n: f'email = "{username(i)}@example.com"',
    "email^=": lambda pool, i, n: f'email ^= "{username(i)[:-1]}"',
    "sub=": lambda pool, i, n: f'sub = "{sub_of(pool, i)}"',
    "username=": lambda pool, i, n: f'username = "{username(i)}"',
    "username^=": lambda pool, i, n: f'username ^= "{username(i)[:-1]}"',
    "phone_number=": lambda pool, i, n: f'phone_number = "+1555{i:07d}"',
    "phone_number^=": lambda pool, i, n: f'phone_number ^= "+1555{i // 10:06d}"',
    "given_name=": lambda pool, i, n: f'given_name = "Name{i % GIVEN_NAMES:03d}"',
    "cognito:user_status=": lambda pool, i, n: 'cognito:user_status = "CONFIRMED"',
    "status=": lambda pool, i, n: 'status = "Enabled"',
}


@dataclass
class Pool:
    """A loaded pool and the server serving it."""

    database: str  # "sqlite" or "postgresql"
    size: int
    server: servers.Server
    pool_id: str
    client_id: str
    key: str
    secret: str
    srp_usernames: list[str]
    load: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.database}-{self.size}"


def signed(pool: Pool, op: str, body: dict[str, Any]) -> Request:
    """An admin request signed now (SigV4, valid for five minutes: sign just before a run)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    data = json.dumps(body)
    headers = {"X-Amz-Target": TARGET + op, "Content-Type": JSON_CT}
    req = AWSRequest(method="POST", url=f"{pool.server.url}/", data=data, headers=headers)
    SigV4Auth(Credentials(pool.key, pool.secret), "cognito-idp", "us-east-1").add_auth(req)
    out = {k: v for k, v in req.headers.items() if k.lower() != "host"}
    return Request("POST", "/", out, data)


def list_requests(pool: Pool, name: str, rnd: random.Random) -> list[Request]:
    make = FILTERS[name]
    picks = rnd.sample(range(pool.size), min(VALUES, pool.size))
    return [
        signed(
            pool,
            "ListUsers",
            {"UserPoolId": pool.pool_id, "Filter": make(pool.pool_id, i, pool.size), "Limit": LIST_LIMIT},
        )
        for i in picks
    ]


def signin_requests(pool: Pool, rnd: random.Random) -> list[Request]:
    picks = rnd.sample(range(pool.size), min(VALUES, pool.size))
    return [
        Request(
            "POST",
            "/",
            {"X-Amz-Target": TARGET + "InitiateAuth", "Content-Type": JSON_CT},
            json.dumps(
                {
                    "AuthFlow": "USER_PASSWORD_AUTH",
                    "ClientId": pool.client_id,
                    "AuthParameters": {"USERNAME": username(i), "PASSWORD": PASSWORD},
                }
            ),
        )
        for i in picks
    ]


def measure(
    server: servers.Server,
    run: Callable[[float], loadgen.Result],
    args: argparse.Namespace,
    client_cores: list[int],
) -> dict[str, Any]:
    """Warm up, then one measured run; the server's CPU, the load generator's own, the core's noise."""
    if args.warmup > 0:
        run(args.warmup)
        drain(server)
    lg0 = servers.core_busy_seconds(client_cores)
    busy0, cpu0, t0 = servers.core_busy_seconds(server.cores), server.cpu_seconds(), time.perf_counter()
    res = run(args.duration)
    cpu1, t1, busy1 = server.cpu_seconds(), time.perf_counter(), servers.core_busy_seconds(server.cores)
    lg1 = servers.core_busy_seconds(client_cores)
    drain(server)
    wall = t1 - t0
    loadgen_cpu = round(res.cpu_s / res.duration_s, 3) if res.cpu_s is not None and res.duration_s else None
    out: dict[str, Any] = {
        "rps": round(res.rps, 1),
        "p50_ms": round(res.p50_ms, 2),
        "p99_ms": round(res.p99_ms, 2),
        "errors": res.errors,
        "socket_errors": res.socket_errors,
        "requests": res.requests,
        "server_cpu": round((cpu1 - cpu0) / wall, 3),
        "rps_per_cpu": round(res.requests / (cpu1 - cpu0), 1) if cpu1 > cpu0 else None,
        "core_other_cpu": round(max(0.0, (busy1 - busy0) - (cpu1 - cpu0)) / wall / len(server.cores), 3),
        "loadgen_core_busy": round((lg1 - lg0) / wall, 3),
        "loadgen_cpu": loadgen_cpu,
        "counts": loadgen_cpu is not None and loadgen_cpu <= LOADGEN_SATURATED,
    }
    if res.error_samples:
        out["error_samples"] = res.error_samples[:2]
    return out


def http_run(
    server: servers.Server, reqs: list[Request], connections: int, cores: list[int]
) -> Callable[[float], loadgen.Result]:
    def run(duration: float) -> loadgen.Result:
        return loadgen.run(
            "127.0.0.1",
            server.port,
            reqs,
            connections=connections,
            duration=duration,
            pick="cycle",
            cores=cores,
            use_wrk=False,
        )

    return run


def srp_run(pool: Pool, connections: int) -> Callable[[float], loadgen.Result]:
    def run(duration: float) -> loadgen.Result:
        return asyncio.run(
            srp_load.run(
                "127.0.0.1",
                pool.server.port,
                pool_id=pool.pool_id,
                client_id=pool.client_id,
                usernames=pool.srp_usernames,
                password=PASSWORD,
                connections=connections,
                duration=duration,
            )
        )

    return run


def normalised(workload: str, line: dict[str, Any], ref: dict[str, Any]) -> float:
    """The run's rate as a ratio to its reference, measured just before it on the server's core."""
    if workload == "signin":
        line["argon2_verify_rate"] = round(ref["argon2_verify_rate"], 2)
        return float(line["rps"]) / float(ref["argon2_verify_rate"])
    if workload == "srp":
        bound = 1.0 / (3.0 / float(ref["modexp_rate"]) + 2.0 / float(ref["sign_rate"]))
        line["srp_bound"] = round(bound, 1)
        return float(line["rps"]) / bound
    return float(line["rps"]) / float(ref["sign_rate"])


def rss_mb(server: servers.Server) -> list[dict[str, Any]]:
    """Resident memory (now and peak) of the server's processes, in MB."""
    out = []
    for pid in server.pids():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        out.append(
            {
                "pid": pid,
                "rss_mb": round(int(fields["VmRSS"].split()[0]) / 1024, 1),
                "peak_rss_mb": round(int(fields["VmHWM"].split()[0]) / 1024, 1),
            }
        )
    return out


def db_bytes(pool: Pool, work: Path, pg_url: str | None) -> int | None:
    if pool.database == "sqlite":
        return sum(p.stat().st_size for p in (work / pool.label).glob("cognate.db*"))
    assert pg_url is not None

    async def size() -> int:
        import asyncpg

        conn = await asyncpg.connect(pg_url)
        try:
            return int(await conn.fetchval("SELECT pg_database_size(current_database())"))
        finally:
            await conn.close()

    return asyncio.run(size())


async def _pg(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


def loaded_pool(data: Path, size: int, pg_url: str | None = None) -> dict[str, Any]:
    """Bulk-load a pool into ``data`` (and ``pg_url``), or reuse the one an earlier run loaded there."""
    done = data / "bench-load.json"
    if done.exists():
        log(f"{size} users already loaded in {data}")
        return dict(json.loads(done.read_text()))
    t0 = time.perf_counter()
    loaded = asyncio.run(load(data, size, database_url=pg_url, srp_users=SRP_USERS))
    seconds = time.perf_counter() - t0
    loaded["load_s"] = round(seconds, 1)
    loaded["users_per_s"] = round(size / seconds, 1)
    done.write_text(json.dumps(loaded))
    log(f"{size} users loaded in {data} in {seconds:.1f}s")
    return loaded


def warm(data: Path) -> float:
    """Read the SQLite file once, so that the runs find it in the page cache as a server that has
    been up a while does (the loader's writes may have been evicted since); the seconds taken."""
    t0 = time.perf_counter()
    for path in data.glob("cognate.db*"):
        with path.open("rb") as f:
            while f.read(1 << 20):
                pass
    return time.perf_counter() - t0


def start_pool(
    database: str, size: int, work: Path, cores: list[int], args: argparse.Namespace, pg_url: str | None
) -> Pool:
    data = work / f"{database}-{size}"
    loaded = loaded_pool(data, size, pg_url)
    if pg_url is None:
        log(f"{database}: {size} users' file read into the page cache in {warm(data):.1f}s")
    env = {"COGNATE_SQLITE_CACHE_MIB": str(args.sqlite_cache_mib)}
    if pg_url:
        env["COGNATE_DATABASE_URL"] = pg_url
    server = servers.start_cognate(
        data, cores, 1, work / f"{database}-{size}.log", args.server_log_level, env
    )
    creds = json.loads((data / "credentials.json").read_text())
    return Pool(
        database,
        size,
        server,
        loaded["pool_id"],
        loaded["client_id"],
        creds["AccessKeyId"],
        creds["SecretAccessKey"],
        loaded["srp_usernames"],
        loaded,
    )


def run_capacity(
    pools: list[Pool],
    args: argparse.Namespace,
    server_cores: list[int],
    client_cores: list[int],
    emit: Callable[[dict[str, Any]], None],
) -> list[dict[str, Any]]:
    rnd = random.Random(13)
    lines = []
    workloads = [f"listusers:{f}" for f in args.filters] if "listusers" in args.workloads else []
    workloads += [w for w in ("signin", "srp") if w in args.workloads]
    for rep in range(args.repeats):
        for workload in workloads:
            for pool in pools:
                kind = workload.split(":")[0]
                if args.settle > 0:
                    settle(server_cores, args.settle)
                ref = reference(server_cores, args.ref_seconds, argon2=kind == "signin", srp=kind == "srp")
                if kind == "srp":
                    run = srp_run(pool, args.srp_connections)
                elif kind == "signin":
                    run = http_run(pool.server, signin_requests(pool, rnd), args.connections, client_cores)
                else:
                    reqs = list_requests(pool, workload.split(":", 1)[1], rnd)
                    run = http_run(pool.server, reqs, args.connections, client_cores)
                log(f"run {rep + 1}: {workload} on {pool.label}")
                line: dict[str, Any] = {
                    "workload": workload,
                    "database": pool.database,
                    "users": pool.size,
                    "run": rep + 1,
                    "connections": args.srp_connections if kind == "srp" else args.connections,
                    "sign_rate": round(ref["sign_rate"], 1),
                }
                line.update(measure(pool.server, run, args, client_cores))
                line["per_reference"] = round(normalised(kind, line, ref), 5)
                lines.append(line)
                emit(line)
    return lines


def summarise(lines: list[dict[str, Any]], sizes: list[int], databases: list[str]) -> list[dict[str, Any]]:
    """Per workload: medians of the runs; large pool over small one and PostgreSQL over SQLite,
    each the median of the per-run ratios of the figures normalised by their references."""
    out = []
    small, large = min(sizes), max(sizes)
    by: dict[tuple[str, str, int, int], dict[str, Any]] = {
        (ln["workload"], ln["database"], ln["users"], ln["run"]): ln for ln in lines
    }
    runs = sorted({ln["run"] for ln in lines})
    for workload in dict.fromkeys(ln["workload"] for ln in lines):
        for db in databases:
            for size in sizes:
                got = [by[k] for r in runs if (k := (workload, db, size, r)) in by]
                if not got:
                    continue
                fig: dict[str, Any] = {
                    "figure": workload,
                    "database": db,
                    "users": size,
                    "runs": len(got),
                    "rps": statistics.median(g["rps"] for g in got),
                    "p99_ms": statistics.median(g["p99_ms"] for g in got),
                    "per_reference": statistics.median(g["per_reference"] for g in got),
                    "rps_per_cpu": statistics.median(g["rps_per_cpu"] or 0 for g in got),
                    "loadgen_cpu": statistics.median(g["loadgen_cpu"] or 0 for g in got),
                    "errors": sum(g["errors"] + g["socket_errors"] for g in got),
                    "counts": all(g["counts"] for g in got),
                }
                if workload.startswith("listusers"):
                    fig["met_500_per_s_p99_50ms"] = (
                        fig["rps"] >= LIST_RPS_GOAL and fig["p99_ms"] < LIST_P99_GOAL_MS
                    )
                if size == large and large != small:
                    fig.update(
                        _ratios(by, runs, (workload, db, large), (workload, db, small), f"{small}_users")
                    )
                    fig["size_met"] = fig.get(f"ratio_to_{small}_users", 0) >= SIZE_GOAL
                if db == "postgresql":
                    fig.update(_ratios(by, runs, (workload, db, size), (workload, "sqlite", size), "sqlite"))
                    fig["postgres_met"] = fig.get("ratio_to_sqlite", 0) >= POSTGRES_GOAL
                out.append(fig)
    return out


def _ratios(
    by: dict[tuple[str, str, int, int], dict[str, Any]],
    runs: list[int],
    num: tuple[str, str, int],
    den: tuple[str, str, int],
    name: str,
) -> dict[str, Any]:
    """Median over the runs of num/den: of the figures per reference (``ratio_to_*``), and of the
    requests per server CPU second (``cpu_ratio_to_*``: robust when other work takes the core;
    PostgreSQL's own processes are not in the server's CPU)."""
    out: dict[str, Any] = {}
    for key, field_ in (("ratio_to_", "per_reference"), ("cpu_ratio_to_", "rps_per_cpu")):
        ratios = [
            a[field_] / b[field_]
            for r in runs
            if (a := by.get((*num, r))) and (b := by.get((*den, r))) and a[field_] and b[field_]
        ]
        if ratios:
            out[key + name] = round(statistics.median(ratios), 3)
    return out


def run_workers(work: Path, args: argparse.Namespace, emit: Callable[[dict[str, Any]], None]) -> None:
    """Password sign-in: one worker on one core against two workers on two cores (the load
    generator shares them: a few percent of a core), alternating, each over its argon2 reference."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        emit({"figure": "workers", "unmeasured": "one core"})
        return
    size = min(args.sizes)
    data = work / f"sqlite-{size}"
    loaded = loaded_pool(data, size)
    pool_ids = (loaded["pool_id"], loaded["client_id"])
    one = servers.start_cognate(data, [cores[-1]], 1, work / "workers-1.log", args.server_log_level)
    two = servers.start_cognate(data, cores[-2:], 2, work / "workers-2.log", args.server_log_level)
    rnd = random.Random(2)
    ratios = []
    try:
        for rep in range(args.repeats):
            per: dict[int, dict[str, Any]] = {}
            for n, server in ((1, one), (2, two)):
                if args.settle > 0:
                    settle(server.cores, args.settle)
                ref = reference([cores[-1]], args.ref_seconds, argon2=True)
                pool = Pool("sqlite", size, server, *pool_ids, "", "", [])
                reqs = signin_requests(pool, rnd)
                client = [c for c in cores if c not in server.cores] or cores
                line = {"workload": "signin-workers", "workers": n, "cores": server.cores, "run": rep + 1}
                run = http_run(server, reqs, args.worker_connections, client)
                line.update(measure(server, run, args, client))
                line["per_reference"] = round(line["rps"] / ref["argon2_verify_rate"], 4)
                line["argon2_verify_rate"] = round(ref["argon2_verify_rate"], 2)
                per[n] = line
                emit(line)
            ratios.append(per[2]["per_reference"] / per[1]["per_reference"])
    finally:
        two.stop()
        one.stop()
    ratio = statistics.median(ratios)
    emit(
        {
            "figure": "signin, 2 workers on 2 cores over 1 worker on 1 core",
            "ratio": round(ratio, 3),
            "runs": [round(r, 3) for r in ratios],
            "goal": WORKERS_GOAL,
            "met": ratio >= WORKERS_GOAL,
        }
    )
    cheap = len(cores) > 2 + 1
    emit(
        {
            "figure": "refresh and GetUser, 2 workers over 1",
            "cores": len(cores),
            "ratio": None
            if not cheap
            else "run bench/run.py --workers 2 --server-cores 0,1 --only refresh,getuser",
            "unmeasured": None
            if cheap
            else f"{len(cores)} cores: cheap requests need more cores than workers + 1",
        }
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--sizes", default="1000,1000000", help="pool sizes (users); the smallest is the reference"
    )
    p.add_argument("--only", default="listusers,signin,srp,workers", help="listusers,signin,srp,workers")
    p.add_argument("--filters", default=",".join(FILTERS), help=f"ListUsers filters: {','.join(FILTERS)}")
    p.add_argument("--postgres", help="also on PostgreSQL: an admin URL (a database is made and dropped)")
    p.add_argument("--repeats", type=int, default=3, help="runs of each figure; the median is reported")
    p.add_argument("--duration", type=float, default=5.0, help="seconds of measured load per run")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds of unmeasured load before each run")
    p.add_argument("--connections", type=int, default=4, help="connections for ListUsers and sign-in")
    p.add_argument("--srp-connections", type=int, default=16, help="connections for SRP sign-in")
    p.add_argument("--worker-connections", type=int, default=8, help="connections for the workers figure")
    p.add_argument("--settle", type=float, default=5.0, help="wait up to S s for the server core to be idle")
    p.add_argument("--ref-seconds", type=float, default=1.0, help="seconds per reference measurement")
    p.add_argument("--server-log-level", help="cognate serve --log-level (default: the server's)")
    p.add_argument(
        "--sqlite-cache-mib",
        type=int,
        default=16,
        help="cognate serve --sqlite-cache-mib for the SQLite servers (default 16, for a million users)",
    )
    p.add_argument("--json-out", type=Path, help="also write the JSON lines to this file")
    p.add_argument("--keep", action="store_true", help="keep the temporary data dirs (and databases)")
    p.add_argument(
        "--work",
        type=Path,
        help="keep the loaded pools in this folder (and PostgreSQL databases cognate_scale_N) and reuse them",
    )
    args = p.parse_args(argv)
    args.sizes = sorted(int(s) for s in args.sizes.split(","))
    args.workloads = [w.strip() for w in args.only.split(",") if w.strip()]
    args.filters = [f.strip() for f in args.filters.split(",") if f.strip()]
    bad = set(args.filters) - set(FILTERS)
    if bad:
        p.error(f"unknown filters: {', '.join(sorted(bad))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cores = sorted(os.sched_getaffinity(0))
    server_cores = [1] if 1 in cores and len(cores) > 1 else [cores[-1]]
    client_cores = [c for c in cores if c not in server_cores] or cores
    work = args.work or Path(tempfile.mkdtemp(prefix="cognate-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    keep = args.keep or args.work is not None
    out_file = args.json_out.open("w") if args.json_out else None

    def emit(line: dict[str, Any]) -> None:
        text = json.dumps(line)
        print(text, flush=True)
        if out_file:
            out_file.write(text + "\n")
            out_file.flush()

    pools: list[Pool] = []
    pg_dbs: list[str] = []
    try:
        if any(w in args.workloads for w in ("listusers", "signin", "srp")):
            own = os.sched_getaffinity(0)
            os.sched_setaffinity(0, client_cores)  # the loading (and the generator) off the server core
            databases = ["sqlite"] + (["postgresql"] if args.postgres else [])
            for size in args.sizes:
                for db in databases:
                    url = None
                    if db == "postgresql":
                        name = (
                            f"cognate_scale_{size}" if args.work else f"cognate_scale_{uuid.uuid4().hex[:10]}"
                        )
                        if not (work / f"{db}-{size}" / "bench-load.json").exists():
                            asyncio.run(_pg(args.postgres, f'DROP DATABASE IF EXISTS "{name}"'))
                            asyncio.run(_pg(args.postgres, f'CREATE DATABASE "{name}"'))
                        pg_dbs.append(name)
                        url = with_database(args.postgres, name)
                    pool = start_pool(db, size, work, server_cores, args, url)
                    pools.append(pool)
                    size_b = db_bytes(pool, work, url)
                    emit(
                        {
                            "load": pool.label,
                            **{k: v for k, v in pool.load.items() if k not in ("password", "srp_usernames")},
                            "db_bytes_per_user": round(size_b / size) if size_b else None,
                        }
                    )
            lines = run_capacity(pools, args, server_cores, client_cores, emit)
            for fig in summarise(lines, args.sizes, databases):
                emit(fig)
            for pool in pools:
                procs = rss_mb(pool.server)
                emit(
                    {
                        "memory": pool.label,
                        "processes": procs,
                        "max_rss_mb": max((p["rss_mb"] for p in procs), default=None),
                        "max_peak_rss_mb": max((p["peak_rss_mb"] for p in procs), default=None),
                        "goal_mb": MEMORY_GOAL_MB,
                        "met": all(p["peak_rss_mb"] < MEMORY_GOAL_MB for p in procs),
                    }
                )
            os.sched_setaffinity(0, own)
        if "workers" in args.workloads:
            run_workers(work, args, emit)
    finally:
        for pool in pools:
            pool.server.stop()
        if out_file:
            out_file.close()
        if keep:
            log(f"kept {work} (and PostgreSQL databases {pg_dbs})")
        else:
            shutil.rmtree(work, ignore_errors=True)
            for name in pg_dbs:
                asyncio.run(_pg(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return 0


if __name__ == "__main__":
    sys.exit(main())
