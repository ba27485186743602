"""What a test pays for its Cognito fixture: a fresh pool, a client and one signed-in user.

Measures, back to back in alternating rounds, the time from nothing to a signed-in
user's tokens (CreateUserPool, CreateUserPoolClient, AdminCreateUser,
AdminSetUserPassword, AdminInitiateAuth; what ``cognate_pool`` plus ``cognate_user``
do) with:

- ``cognate.testing`` in-process, signing keys made ahead (the plugin's default);
- ``cognate.testing`` in-process with no key reserve (each pool generates its keys, as
  ``cognate serve`` does);
- ``cognate.testing`` as a ``cognate serve`` subprocess;
- the peer users come from: moto's ``mock_aws`` (in-process, no HTTP, nothing signed
  or hashed for real), the same five calls.

Prints one JSON line per configuration (median, p90, in ms, the ratio of the median to
moto's, and for in-process configurations the median CPU time of the whole process,
test and server threads together) and a line with the machine's load. ``pip install -e '.[bench,testing]'``;
``python -m bench.testing_setup --rounds 3 --per-round 20``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

FLOWS = ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
PASSWORD = "Corr3ct-Horse!"


def setup_via_api(idp: Any) -> str:
    """The five calls; returns the pool id (for clean-up, not timed)."""
    pool = idp.create_user_pool(PoolName=f"b{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="c", ExplicitAuthFlows=FLOWS)
    client_id = client["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="u", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="u", Password=PASSWORD, Permanent=True)
    result = idp.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "u", "PASSWORD": PASSWORD},
    )
    assert result["AuthenticationResult"]["IdToken"]
    return str(pool)


CPU: dict[str, list[float]] = {}


def timed(
    n: int, make: Callable[[], str], cleanup: Callable[[str], None], cpu: list[float] | None = None
) -> list[float]:
    """Wall ms of each ``make()``; ``cpu`` gets this process's CPU ms for each (all threads)."""
    out = []
    for _ in range(n):
        start, start_cpu = time.perf_counter(), time.process_time()
        pool = make()
        out.append((time.perf_counter() - start) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - start_cpu) * 1000)
        cleanup(pool)  # what the fixture does after the test; not part of the figure
    return out


@contextlib.contextmanager
def cognate_idp(mode: str, key_cache: Path | None) -> Iterator[Any]:
    from cognate.testing import serve

    with serve(mode, key_cache=key_cache or False, keys_ahead=key_cache is not None) as cognate:
        idp = cognate.client()
        idp.list_user_pools(MaxResults=1)  # connection and client warm
        yield idp


@contextlib.contextmanager
def moto_idp() -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        idp = boto3.client(
            "cognito-idp", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
        )
        idp.list_user_pools(MaxResults=1)
        yield idp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-round", type=int, default=20)
    parser.add_argument("--no-moto", action="store_true")
    args = parser.parse_args()
    if os.environ.get("COGNATE_TEST_PASSWORD_HASH_COST"):
        print("note: COGNATE_TEST_PASSWORD_HASH_COST is ignored; cognate.testing sets it", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="cognate-bench-keys-") as tmp:
        cache = Path(tmp) / "keys.pem"
        # Warm the key cache as an earlier session of the same project would have.
        from cognate.testing.keys import KeyReserve

        reserve = KeyReserve(cache, spare=0)
        reserve.save()
        configs: dict[str, Callable[[], Any]] = {
            "cognate.testing in-process, keys made ahead": lambda: cognate_idp("inprocess", cache),
            "cognate.testing in-process, no key reserve": lambda: cognate_idp("inprocess", None),
            "cognate.testing subprocess, keys made ahead": lambda: cognate_idp("subprocess", cache),
        }
        if not args.no_moto:
            configs["moto mock_aws (peer)"] = moto_idp
        samples: dict[str, list[float]] = {name: [] for name in configs}
        # A first, unmeasured session fills the key cache with what the rounds will use.
        with cognate_idp("inprocess", cache) as idp:
            timed(args.per_round * args.rounds * 2 + 8, lambda: setup_via_api(idp), lambda p: None)
        for _ in range(args.rounds):
            for name, factory in configs.items():
                with factory() as idp:
                    timed(2, lambda: setup_via_api(idp), lambda p: None)  # warm-up
                    samples[name] += timed(
                        args.per_round,
                        lambda: setup_via_api(idp),
                        lambda p: idp.delete_user_pool(UserPoolId=p),
                        CPU.setdefault(name, []) if "subprocess" not in name else None,
                    )
    reference = statistics.median(samples["moto mock_aws (peer)"]) if not args.no_moto else None
    for name, values in samples.items():
        median = statistics.median(values)
        line: dict[str, Any] = {
            "config": name,
            "n": len(values),
            "median_ms": round(median, 1),
            "p90_ms": round(statistics.quantiles(values, n=10)[-1], 1),
        }
        if reference:
            line["ratio_to_moto"] = round(median / reference, 2)
        if CPU.get(name):
            # In-process configurations: the CPU both the test and the server spent, which a
            # busy machine inflates far less than wall time.
            line["cpu_median_ms"] = round(statistics.median(CPU[name]), 1)
        print(json.dumps(line), flush=True)
    load = os.getloadavg()[0]
    print(json.dumps({"cores": os.cpu_count(), "load_average_1min": round(load, 2)}))


if __name__ == "__main__":
    main()
