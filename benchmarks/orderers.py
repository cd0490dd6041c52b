"""Benchmark: what a Raft cluster of 3 or 5 orderers costs over 1, in start-up time and memory.

For each orderer count, ``--repeat`` times: a fresh network (3 orgs) in a temporary folder is
brought up (the same LocalNetwork.up that ``fedledger network up`` times: crypto material,
channel block, every node started and healthy, channel joins, chaincode deployed, every org's
gateway able to gather MAJORITY endorsements), its nodes' resident memory is read as
``fedledger network status --json`` reports it, and it is taken down and removed. The machine
is shared, so the load average is reported with each run. Progress goes to stdout; with
``--json`` the last line is one JSON object.

Usage: python benchmarks/orderers.py [--json] [--orderers 1,3,5] [--repeat 3] [--base-port 7050]
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import benchmark_parser, print_json

from fedledger.cli.paths import resolve_paths
from fedledger.network.local import LocalNetwork
from fedledger.network.topology import DEFAULT_BASE_PORT

MIB = 2**20


def one_run(orderers: int, base_port: int) -> dict[str, Any]:
    """Bring a network up and down once; return its start-up seconds and memory by kind."""
    paths = resolve_paths(None)
    with tempfile.TemporaryDirectory(prefix="fedledger-orderers-") as folder:
        network = LocalNetwork.open(
            Path(folder) / "network",
            paths.bin_dir,
            paths.builder_dir,
            orderers=orderers,
            base_port=base_port,
        )
        load = os.getloadavg()[0]
        started = time.monotonic()
        try:
            network.up()
            seconds = time.monotonic() - started
            time.sleep(2.0)  # let the nodes settle after the readiness probe
            memory: dict[str, int] = {}
            for status in network.status(heights=False):
                memory[status.kind] = memory.get(status.kind, 0) + (status.memory_bytes or 0)
        finally:
            network.down(purge=True)
    return {"seconds": seconds, "memory": memory, "loadavg_1min": load}


def summary(orderers: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    kinds = sorted({kind for run in runs for kind in run["memory"]})
    memory = {k: round(statistics.median(r["memory"].get(k, 0) for r in runs) / MIB) for k in kinds}
    return {
        "orderers": orderers,
        "up_seconds": [round(r["seconds"], 1) for r in runs],
        "up_seconds_median": round(statistics.median(r["seconds"] for r in runs), 1),
        "memory_mib_median": {**memory, "total": sum(memory.values())},
        "loadavg_1min": [round(r["loadavg_1min"], 2) for r in runs],
    }


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--orderers", default="1,3,5")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--base-port", type=int, default=DEFAULT_BASE_PORT)
    args = parser.parse_args()
    counts = [int(c) for c in args.orderers.split(",")]
    print(f"orderers: {counts}, {args.repeat} runs each, 3 orgs, {os.cpu_count()} CPUs", flush=True)
    rows = []
    for count in counts:
        runs = []
        for _ in range(args.repeat):
            run = one_run(count, args.base_port)
            runs.append(run)
            memory = ", ".join(f"{k} {v / MIB:.0f} MiB" for k, v in run["memory"].items())
            print(f"  {count} orderers: up in {run['seconds']:.1f}s, memory {memory}", flush=True)
        rows.append(summary(count, runs))
    base = rows[0]
    for row in rows:
        row["added_over_first"] = {
            "up_seconds": round(row["up_seconds_median"] - base["up_seconds_median"], 1),
            "memory_mib": row["memory_mib_median"]["total"] - base["memory_mib_median"]["total"],
        }
    print_json(args.json, {"benchmark": "orderers", "orgs": 3, "rows": rows})


if __name__ == "__main__":
    main()
