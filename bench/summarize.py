"""Medians over several ``bench/run.py --json-out`` files, as the Markdown table of bench/README.md.

    python -m bench.summarize run1.jsonl run2.jsonl run3.jsonl

For each Cognate run (workload and connection count) it prints the median, over the
files, of the rate, the p99, the ratio that its binding goal is judged on, the same
comparison per CPU second where there is one, how many runs met the goal, and the load
seen (the reference rates, the server core's other work, the load generator's own CPU).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

# workload -> (what the ratio compares with, the field with the ratio, its per-CPU form)
RATIOS: dict[str, tuple[str, str, str | None]] = {
    "srp": ("0.7 x SRP bound", "ratio_to_goal", "ratio_to_bound_per_cpu"),
    "srp1": ("0.5 x SRP bound, p99 < 250 ms", "ratio_to_goal", "ratio_to_bound_per_cpu"),
    "refresh": ("0.8 x sign rate / 2", "ratio_to_goal", "ratio_to_half_sign_rate_per_cpu"),
    "getuser": ("2.5 x cognito-local (and 3000/s scaled)", "ratio_to_goal", "ratio_to_peer_per_cpu"),
    "jwks": ("1.5 x oidc-provider, 0.7 x bare ASGI", "ratio_to_goal", "ratio_to_hello_per_cpu"),
    "signin": ("0.8 x argon2 bound", "ratio_to_goal", None),
}


def _median(values: list[Any]) -> float | None:
    nums = [float(v) for v in values if isinstance(v, int | float)]
    return statistics.median(nums) if nums else None


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def summarize(paths: list[Path]) -> str:
    lines: list[dict[str, Any]] = []
    for path in paths:
        lines += [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    runs: dict[tuple[str, Any], list[dict[str, Any]]] = defaultdict(list)
    scaling, startup = [], defaultdict(list)
    for ln in lines:
        if ln.get("workload") == "signin-scaling":
            scaling.append(ln)
        elif ln.get("workload") == "startup":
            startup[ln["data_dir"]].append(ln)
        elif ln.get("server") == "cognate" and "rps" in ln:
            runs[(ln["workload"], ln["connections"])].append(ln)
    out = [
        "| workload | conns | rate/s | p99 ms | goal (binding) | ratio to goal | per-CPU ratio | met | "
        "sign rate/s | core's other work | load generator CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = ["signin", "srp", "srp1", "refresh", "getuser", "jwks"]
    for (w, c), group in sorted(runs.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1])):
        what, field, per_cpu = RATIOS.get(w, ("", "ratio_to_goal", None))
        met = sum(1 for g in group if g.get("met"))
        out.append(
            f"| {w} | {c} | {_fmt(_median([g['rps'] for g in group]), 1)} "
            f"| {_fmt(_median([g['p99_ms'] for g in group]), 1)} | {what} "
            f"| {_fmt(_median([g.get(field) for g in group]))} "
            f"| {_fmt(_median([g.get(per_cpu) for g in group])) if per_cpu else '–'} "
            f"| {met}/{len(group)} | {_fmt(_median([g.get('sign_rate') for g in group]), 0)} "
            f"| {_fmt(_median([g.get('core_other_cpu') for g in group]))} "
            f"| {_fmt(_median([g.get('loadgen_cpu') for g in group]))} |"
        )
    if scaling:
        met = sum(1 for s in scaling if s.get("met"))
        out.append(
            f"| signin 32 vs 4 (per argon2 reference) | 4/32 | – | – | ≥ 0.9 "
            f"| {_fmt(_median([s['ratio'] for s in scaling]))} | – | {met}/{len(scaling)} | – | – | – |"
        )
    for kind, group in startup.items():
        met = sum(1 for s in group if s.get("met"))
        wall = _fmt(_median([s["median_s"] for s in group]))
        cpu = _fmt(_median([s.get("median_cpu_s") for s in group]))
        other = _fmt(_median([s.get("core_other_cpu") for s in group]))
        out.append(
            f"| startup, {kind} data dir | – | median {wall} s (server CPU {cpu} s) | – "
            f"| ≤ {group[0]['goal_s']} s | – | – | {met}/{len(group)} | – | {other} | – |"
        )
    peers = defaultdict(list)
    for ln in lines:
        if ln.get("server") in ("oidc-provider", "cognito-local", "hello", "moto") and "rps" in ln:
            peers[(ln["server"], ln["workload"], ln["connections"])].append(ln["rps"])
    if peers:
        out.append("")
        out.append(
            "Peers and references, same runs (median rate/s): "
            + "; ".join(f"{s} {w} x{c}: {_fmt(_median(v), 0)}" for (s, w, c), v in sorted(peers.items()))
            + "."
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="+", type=Path)
    print(summarize(parser.parse_args().files))


if __name__ == "__main__":
    main()
