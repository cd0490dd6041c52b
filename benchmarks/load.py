"""Benchmark: concurrent clients writing small transactions to the real local network.

For each client count (default 4, 16, 32 and 64), that many clients, spread over the
organisations with identities of their own (cryptogen's User1..User12 of each org; beyond 36
clients identities repeat), each with its own Gateway connection,
write advertisements (a create, then three updates of it, each read back) for a bounded time
(fedledger.ledger.workload). Reported per count: acknowledged writes per second, write and
read latency (median, p95, p99, max), failures, MVCC conflicts and how they ended (rebuilt and
committed, or given up), the CPU seconds each kind of process used, and the load average.
Afterwards the ledger is audited: every acknowledged write must be there exactly once and VALID
on every peer, and every peer must hold the same chain.

A contention run (``--contention K``) has K identities with two writers each updating one
shared advertisement, so their updates conflict at commit (MVCC_READ_CONFLICT) and the client's
rebuild resolves them.

The network is started in a temporary folder on ``--base-port`` and removed afterwards, unless
``--state DIR`` names a running network to use. The 2-core machine is shared: other processes'
CPU load is in the load average reported with each count. Progress goes to stdout; with
``--json`` the last line is one JSON object.

Usage: python benchmarks/load.py [--json] [--clients 4,16,32,64] [--seconds 20] [--contention 4]
                                 [--base-port 7050] [--state DIR] [--orderers 3]
"""

from __future__ import annotations

import argparse
import base64
import itertools
import os
import secrets
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from _common import benchmark_parser, print_json

from fedledger.cli.paths import resolve_paths
from fedledger.contract import parties
from fedledger.errors import ContractError
from fedledger.ledger.gateway import GatewayContract, connect
from fedledger.ledger.workload import WriterReport, audit, run_writers
from fedledger.network import consistency, faults, processes
from fedledger.network.local import LocalNetwork
from fedledger.network.material import USERS_PER_ORG
from fedledger.network.topology import DEFAULT_BASE_PORT, DEFAULT_ORDERERS
from fedledger.protocol.asset_requests import AdvertisementRequest, PartyRequest

Writers = list[tuple[str, GatewayContract, str | None]]


def percentiles(values: list[float]) -> dict[str, float | None]:
    """Median, p95, p99 and max in milliseconds (None without values)."""
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {
        "p50": round(statistics.median(ordered) * 1000, 1),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(ordered[-1] * 1000, 1),
    }


def identities(network: LocalNetwork, count: int) -> list[tuple[str, str]]:
    """``count`` (org, user) pairs, round-robin over the orgs: User1 of each, then User2, ...

    Beyond the network's USERS_PER_ORG users per org, identities repeat (each writer still has
    its own connection and its own advertisements, so repeats do not conflict).
    """
    orgs = [org.name for org in network.topo.orgs]
    distinct = len(orgs) * USERS_PER_ORG
    return [(orgs[i % len(orgs)], f"User{1 + (i % distinct) // len(orgs)}") for i in range(count)]


def client(network: LocalNetwork, org: str, user: str) -> GatewayContract:
    """A registered party's contract (registering it unless an earlier run did)."""
    contract = connect(network.layout.profile_file, org=org, user=user)
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    try:
        parties.register_party(contract, PartyRequest(("provider",), key))
    except ContractError as exc:
        if "is already registered" not in exc.message:
            raise
    return contract


def cpu_by_kind(network: LocalNetwork) -> dict[str, float]:
    """CPU seconds used so far by the network's processes, summed per kind, and this client."""
    totals: dict[str, float] = {}
    for node in processes.load(network.layout.processes_file):
        seconds = processes.cpu_seconds(node) or 0.0
        totals[node.kind] = totals.get(node.kind, 0.0) + seconds
    times = os.times()
    totals["client"] = times.user + times.system
    return totals


def measure(network: LocalNetwork, writers: Writers, seconds: float) -> dict[str, Any]:
    """Run the writers for ``seconds``, audit the ledger, and return the level's figures."""
    cpu_before, load_before = cpu_by_kind(network), os.getloadavg()
    started = time.monotonic()
    reports = run_writers(writers, seconds)
    elapsed = time.monotonic() - started
    cpu_after, load_after = cpu_by_kind(network), os.getloadavg()
    contracts = [contract for _, contract, _ in writers]
    return {
        "clients": len(writers),
        "seconds": round(elapsed, 1),
        **writes_and_latency(reports, elapsed),
        **conflicts(contracts, reports),
        **ledger_check(network, contracts[0], reports),
        "cpu_seconds": {k: round(cpu_after[k] - cpu_before.get(k, 0.0), 1) for k in cpu_after},
        "loadavg_1min": [round(load_before[0], 2), round(load_after[0], 2)],
    }


def writes_and_latency(reports: list[WriterReport], elapsed: float) -> dict[str, Any]:
    acks = [ack for report in reports for ack in report.acks]
    reads = [latency for report in reports for latency in report.read_latencies]
    return {
        "writes": len(acks),
        "creates": sum(1 for ack in acks if ack.kind == "create"),
        "throughput_tps": round(len(acks) / elapsed, 2),
        "write_latency_ms": percentiles([ack.latency for ack in acks]),
        "read_latency_ms": percentiles(reads),
        "failures": sum(len(report.failures) for report in reports),
        "failure_examples": sorted({f.error[:160] for r in reports for f in r.failures})[:3],
        "stale_reads": sum(report.stale_reads for report in reports),
        "stale_endorsements": sum(report.stale_endorsements for report in reports),
    }


def conflicts(contracts: list[GatewayContract], reports: list[WriterReport]) -> dict[str, Any]:
    given_up = sum(1 for r in reports for f in r.failures if "MVCC_READ_CONFLICT" in f.error)
    return {
        "mvcc_conflicts": sum(c.retries.conflicts for c in contracts),
        "conflicts_given_up": given_up,
        "divergent_endorsements": sum(c.retries.divergent for c in contracts),
        "resubmits": sum(c.retries.resubmits for c in contracts),
        "failovers": sum(c.retries.failovers for c in contracts),
    }


def ledger_check(
    network: LocalNetwork, contract: GatewayContract, reports: list[WriterReport]
) -> dict[str, Any]:
    ledgers = faults.wait_peers_consistent(network, timeout=120)
    result = audit(contract, reports)
    acked = [ack.tx_id for report in reports for ack in report.acks]
    orgs = [org.name for org in network.topo.orgs]
    invalid = consistency.invalid_on_peers(network.layout.profile_file, orgs, acked)
    return {
        "lost": len(result.lost),
        "duplicated": len(result.duplicated),
        "not_valid_on_every_peer": len(invalid),
        "height": ledgers[0].height,
    }


def contended(network: LocalNetwork, pairs: int, run: str, stack: ExitStack) -> Writers:
    """``pairs`` identities, each with two writers (two connections) on one shared advertisement."""
    writers: Writers = []
    for org, user in identities(network, pairs):
        first = stack.enter_context(client(network, org, user))
        second = stack.enter_context(connect(network.layout.profile_file, org=org, user=user))
        request = AdvertisementRequest(description="shared", samples=1, goal="load")
        ad = parties.create_advertisement(first, request)
        name = f"{run}-shared-{org}-{user}"
        writers += [(f"{name}-a", first, ad.id), (f"{name}-b", second, ad.id)]
    return writers


def report(label: str, row: dict[str, Any]) -> None:
    lat = row["write_latency_ms"]
    print(
        f"  {label}: {row['writes']} writes in {row['seconds']}s = {row['throughput_tps']} tx/s;"
        f" write latency p50 {lat['p50']} p95 {lat['p95']} p99 {lat['p99']} ms;"
        f" {row['failures']} failures, {row['mvcc_conflicts']} MVCC conflicts rebuilt;"
        f" lost {row['lost']}, duplicated {row['duplicated']}; load {row['loadavg_1min']}",
        flush=True,
    )


def saturation(levels: list[dict[str, Any]]) -> dict[str, Any]:
    """The first client count whose throughput is under 10% above the previous count's."""
    for previous, row in itertools.pairwise(levels):
        if row["throughput_tps"] < 1.10 * previous["throughput_tps"]:
            return {"clients": previous["clients"], "throughput_tps": previous["throughput_tps"]}
    best = max(levels, key=lambda row: row["throughput_tps"]) if levels else None
    return {
        "clients": best and best["clients"],
        "throughput_tps": best and best["throughput_tps"],
        "note": "throughput still grew at the largest count measured",
    }


def open_network(args: argparse.Namespace, stack: ExitStack) -> LocalNetwork:
    paths = resolve_paths(args.state)
    if args.state:
        network = LocalNetwork.open(paths.state, paths.bin_dir, paths.builder_dir)
        network.up()
        return network
    state = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fedledger-load-")))
    network = LocalNetwork.open(
        state / "network",
        paths.bin_dir,
        paths.builder_dir,
        base_port=args.base_port,
        orderers=args.orderers,
    )
    stack.callback(network.down, purge=True)
    started = time.monotonic()
    network.up()
    print(f"  network up in {time.monotonic() - started:.1f}s in {state}", flush=True)
    return network


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--clients", default="4,16,32,64", help="client counts, comma-separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="writing time per count")
    parser.add_argument("--contention", type=int, default=4, help="identities with 2 writers each")
    parser.add_argument("--base-port", type=int, default=DEFAULT_BASE_PORT)
    parser.add_argument("--orderers", type=int, default=DEFAULT_ORDERERS)
    parser.add_argument("--state", default=None, help="use the running network in this folder")
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",") if c]
    run = secrets.token_hex(3)
    print(f"load: clients {counts}, {args.seconds}s each, {os.cpu_count()} CPUs", flush=True)
    with ExitStack() as stack:
        network = open_network(args, stack)
        levels = []
        for count in counts:
            with ExitStack() as clients:
                # Names unique to the run and the level: the audit counts markers by writer name.
                writers: Writers = [
                    (
                        f"{run}-{count}-{index}-{org}-{user}",
                        clients.enter_context(client(network, org, user)),
                        None,
                    )
                    for index, (org, user) in enumerate(identities(network, count))
                ]
                levels.append(measure(network, writers, args.seconds))
            report(f"{count} clients", levels[-1])
        contention = None
        if args.contention:
            with ExitStack() as clients:
                contention = measure(
                    network, contended(network, args.contention, run, clients), args.seconds
                )
            report(f"{args.contention} shared advertisements x 2 writers", contention)
    result = {
        "benchmark": "load",
        "cpus": os.cpu_count(),
        "orgs": len(network.topo.orgs),
        "orderers": len(network.topo.orderers),
        "transaction": "CreateAdvertisement / UpdateAdvertisement (~200 bytes), read back",
        "levels": levels,
        "contention": contention,
        "saturation": saturation(levels),
    }
    print(f"  throughput stops growing at {result['saturation']}", flush=True)
    print_json(args.json, result)


if __name__ == "__main__":
    main()
