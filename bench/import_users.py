"""User import jobs: users imported per second, and the database's bytes per user.

Starts a real ``cognate serve`` (fresh data dir, pinned to ``--server-cores``), makes a pool
and a user import job through boto3, PUTs a CSV of N users to the job's pre-signed URL,
starts the job and polls DescribeUserImportJob until it ends. The figure is the imported
users over the seconds from StartUserImportJob to the end (the time the server's run
took, as the job's StartDate and CompletionDate say it), and over the server's own CPU
seconds in that time (the figure a quiet core would give); the database grows by
``db_bytes_per_user`` for each (SQLite: the file after a WAL checkpoint; PostgreSQL: the
database's size), measured from the pool's creation to the job's end. With
``--algorithm``, every row carries a password hash of that algorithm (one hash reused:
an import never hashes, so the cost of making N hashes would only slow the bench down).

    nice -n 19 python bench/import_users.py --users 100000
    python bench/import_users.py --users 100000 --algorithm BCRYPT
    python bench/import_users.py --users 100000 --database-url postgresql://postgres@127.0.0.1:5432/bench

One JSON line on stdout; progress on stderr.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import sqlite3
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import boto_client
from bench.servers import Server, free_port

PASSWORD = "Bench-Passw0rd!"
ROLE = "arn:aws:iam::123456789012:role/CognitoImport"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def sample_hash(algorithm: str) -> str:
    import base64
    import hashlib
    import os

    if algorithm == "BCRYPT":
        import bcrypt

        return bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=10)).decode()
    if algorithm == "ARGON2ID":
        import argon2

        return argon2.PasswordHasher().hash(PASSWORD)
    salt = os.urandom(16)

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode().rstrip("=")

    if algorithm == "SCRYPT":
        digest = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
        return f"$scrypt$ln=14,r=8,p=1${b64(salt)}${b64(digest)}"
    digest = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), salt, 600_000)
    return f"$pbkdf2-sha256$600000${b64(salt)}${b64(digest)}"


def make_csv(header: list[str], n: int, password_hash: str | None) -> bytes:
    out = io.StringIO()
    columns = [*header, "cognito:password_hash"] if password_hash else header
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", restval="")
    writer.writeheader()
    for i in range(n):
        row = {
            "cognito:username": f"user{i:07d}",
            "cognito:mfa_enabled": "false",
            "email": f"user{i:07d}@example.com",
            "email_verified": "true",
            "name": f"User {i}",
        }
        if password_hash:
            row["cognito:password_hash"] = password_hash
        writer.writerow(row)
    return out.getvalue().encode()


def database_bytes(data_dir: Path, database_url: str | None) -> int:
    if database_url:
        import asyncio

        import asyncpg

        async def size() -> int:
            conn = await asyncpg.connect(database_url)
            try:
                return int(await conn.fetchval("SELECT pg_database_size(current_database())"))
            finally:
                await conn.close()

        return asyncio.run(size())
    db = data_dir / "cognate.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--algorithm", choices=["ARGON2ID", "BCRYPT", "SCRYPT", "PBKDF2_SHA256"])
    parser.add_argument("--server-cores", default="1", help="cores the server runs on (default: core 1)")
    parser.add_argument("--database-url", help="a PostgreSQL database for the server (default: SQLite)")
    parser.add_argument("--keep", action="store_true", help="keep the data dir and the server log")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cognate-import-bench-"))
    data_dir = work / "data"
    port = free_port()
    env = {"COGNATE_DATABASE_URL": args.database_url} if args.database_url else {}
    cores = [int(c) for c in args.server_cores.split(",")]
    cmd = [sys.executable, "-m", "cognate.cli", "serve", "--port", str(port), "--data-dir", str(data_dir)]
    server = Server("cognate", cmd, port, cores, "/health", work / "server.log", env=env)
    try:
        server.wait_ready()
        creds = json.loads((data_dir / "credentials.json").read_text())
        idp = boto_client(server.url, creds["AccessKeyId"], creds["SecretAccessKey"])
        pool = idp.create_user_pool(
            PoolName=f"import-{uuid.uuid4().hex[:6]}", AutoVerifiedAttributes=["email"]
        )
        pool_id = pool["UserPool"]["Id"]
        before = database_bytes(data_dir, args.database_url)
        header = idp.get_csv_header(UserPoolId=pool_id)["CSVHeader"]
        body = make_csv(header, args.users, sample_hash(args.algorithm) if args.algorithm else None)
        extra = {"PasswordHashingAlgorithm": args.algorithm} if args.algorithm else {}
        job = idp.create_user_import_job(
            JobName="bench", UserPoolId=pool_id, CloudWatchLogsRoleArn=ROLE, **extra
        )["UserImportJob"]
        t0 = time.perf_counter()
        put = urllib.request.Request(job["PreSignedUrl"], data=body, method="PUT")
        with urllib.request.urlopen(put, timeout=600) as r:
            assert r.status == 200
        upload_s = time.perf_counter() - t0
        log(f"uploaded {len(body) / 1e6:.1f} MB in {upload_s:.2f} s; starting the job")
        cpu0 = server.cpu_seconds()
        t0 = time.perf_counter()
        idp.start_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])
        while True:
            done: dict[str, Any] = idp.describe_user_import_job(UserPoolId=pool_id, JobId=job["JobId"])[
                "UserImportJob"
            ]
            if done["Status"] in ("Succeeded", "Failed", "Stopped"):
                break
            time.sleep(0.02)
        wall_s = time.perf_counter() - t0
        cpu_s = server.cpu_seconds() - cpu0
        after = database_bytes(data_dir, args.database_url)
        if done["Status"] != "Succeeded" or done["ImportedUsers"] != args.users:
            raise SystemExit(f"the job did not import every user: {done}")
        run_s = done["CompletionDate"].timestamp() - done["StartDate"].timestamp()
        print(
            json.dumps(
                {
                    "workload": "import",
                    "database": "postgresql" if args.database_url else "sqlite",
                    "algorithm": args.algorithm,
                    "users": args.users,
                    "csv_bytes": len(body),
                    "job_seconds": round(run_s, 3),
                    "users_per_s": round(args.users / run_s),
                    "wall_seconds": round(wall_s, 3),
                    "users_per_s_wall": round(args.users / wall_s),
                    "server_cpu_seconds": round(cpu_s, 2),
                    # What one core of the server's does when it has the core to itself.
                    "users_per_server_cpu_s": round(args.users / cpu_s) if cpu_s else None,
                    "db_bytes_per_user": round((after - before) / args.users),
                }
            ),
            flush=True,
        )
    finally:
        server.stop()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
