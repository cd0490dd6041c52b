"""`fedledger network build|up|down|status|compose`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from fedledger.cli.output import answer, emit_json, progress, say, table
from fedledger.cli.paths import Paths
from fedledger.network.build import build_fabric
from fedledger.network.compose import compose_file
from fedledger.network.local import LocalNetwork, status_as_dicts
from fedledger.network.topology import (
    DEFAULT_BASE_PORT,
    DEFAULT_ORDERERS,
    DEFAULT_ORGS,
    ORDERER_COUNTS,
    make_topology,
)


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    net = sub.add_parser("network", help="the local Fabric network (native processes, no Docker)")
    nsub = net.add_subparsers(dest="network_command", required=True)
    build = nsub.add_parser("build", parents=[common], help="build Fabric's binaries once")
    build.add_argument("--force", action="store_true", help="rebuild even if current")
    build.set_defaults(func=cmd_build)
    up = nsub.add_parser("up", parents=[common], help="start the network, deploy the chaincode")
    up.add_argument("--orgs", type=int, default=None, help="peer organisations (default 3)")
    up.add_argument(
        "--orderers",
        type=int,
        default=None,
        choices=ORDERER_COUNTS,
        help=f"Raft orderer nodes (default {DEFAULT_ORDERERS}); 2f+1 nodes tolerate f crashes",
    )
    up.add_argument("--base-port", type=int, default=None, help="first port (default 7050)")
    up.add_argument(
        "--time-window",
        type=int,
        default=None,
        metavar="SECONDS",
        help="how far a client's timestamp may be from a peer's clock (default 60); rounds "
        "must last at least 5 windows",
    )
    up.add_argument(
        "--minter-msp",
        default=None,
        metavar="MSP",
        help="the organisation whose identities may mint credits (default Org1MSP)",
    )
    up.set_defaults(func=cmd_up)
    down = nsub.add_parser("down", parents=[common], help="stop the processes 'up' started")
    down.add_argument("--purge", action="store_true", help="also delete the state folder")
    down.set_defaults(func=cmd_down)
    status = nsub.add_parser("status", parents=[common], help="nodes, pids, ports, health")
    status.set_defaults(func=cmd_status)
    compose = nsub.add_parser(
        "compose",
        parents=[common],
        help="print docker-compose.yaml for a topology (no Docker here)",
    )
    compose.add_argument("--orgs", type=int, default=DEFAULT_ORGS, help="peer organisations")
    compose.add_argument(
        "--orderers", type=int, default=DEFAULT_ORDERERS, choices=ORDERER_COUNTS, help="Raft nodes"
    )
    compose.add_argument("--base-port", type=int, default=DEFAULT_BASE_PORT, help="first port")
    compose.add_argument("--output", default=None, help="write to this file instead of stdout")
    compose.set_defaults(func=cmd_compose)


def open_network(paths: Paths, args: argparse.Namespace) -> LocalNetwork:
    return LocalNetwork.open(
        paths.state,
        paths.bin_dir,
        paths.builder_dir,
        orgs=getattr(args, "orgs", None),
        orderers=getattr(args, "orderers", None),
        base_port=getattr(args, "base_port", None),
        time_window_seconds=getattr(args, "time_window", None),
        minter_msp=getattr(args, "minter_msp", None),
    )


def ensure_built(paths: Paths, *, force: bool = False) -> bool:
    """Build Fabric if needed, showing progress; return True when it built."""
    started = time.monotonic()
    built = build_fabric(paths.module_dir, paths.bin_dir, force=force, progress=progress)
    if built:
        progress(f"built Fabric in {time.monotonic() - started:.0f}s into {paths.bin_dir}")
    return built


def cmd_build(paths: Paths, args: argparse.Namespace) -> int:
    built = ensure_built(paths, force=args.force)
    answer(
        args.json,
        {"built": built, "bin_dir": str(paths.bin_dir)},
        "built Fabric binaries" if built else f"Fabric binaries are current in {paths.bin_dir}",
    )
    return 0


def bring_up(paths: Paths, args: argparse.Namespace) -> tuple[LocalNetwork, bool, float]:
    """Build if needed and start the network; return it, whether it started, and seconds."""
    ensure_built(paths)
    network = open_network(paths, args)
    started = time.monotonic()
    fresh = network.up(progress=progress)
    return network, fresh, time.monotonic() - started


def cmd_up(paths: Paths, args: argparse.Namespace) -> int:
    restarted = open_network(paths, args).dead_nodes()
    network, fresh, seconds = bring_up(paths, args)
    orgs = [o.name for o in network.topo.orgs]
    orderers = len(network.topo.orderers)
    if args.json:
        emit_json(
            {
                "started": fresh,
                "restarted": restarted,
                "seconds": round(seconds, 1),
                "orgs": orgs,
                "orderers": orderers,
                "profile": str(network.layout.profile_file),
            }
        )
    elif restarted:
        say(f"restarted {', '.join(restarted)} in {seconds:.1f}s; the network serves again")
    elif fresh:
        say(
            f"network up in {seconds:.1f}s: {len(orgs)} orgs ({', '.join(orgs)}), {orderers} "
            f"Raft orderer{'s' if orderers > 1 else ''}, channel {network.topo.channel}, "
            f"chaincode {network.topo.chaincode} (MAJORITY endorsement)"
        )
        say(f"connection profile: {network.layout.profile_file}")
    else:
        say(f"the network in {paths.state} is already running; 'fedledger network status' shows it")
    return 0


def cmd_down(paths: Paths, args: argparse.Namespace) -> int:
    network = open_network(paths, args)
    stopped = network.down(purge=args.purge, progress=progress)
    answer(
        args.json,
        {"stopped": stopped, "purged": args.purge},
        f"stopped {len(stopped)} processes" + (" and removed the state" if args.purge else ""),
    )
    return 0


def cmd_status(paths: Paths, args: argparse.Namespace) -> int:
    network = open_network(paths, args)
    statuses = network.status()
    if args.json:
        leader = next((s.name for s in statuses if s.raft_leader), None)
        total = sum(s.memory_bytes or 0 for s in statuses)
        emit_json(
            {
                "state": str(paths.state),
                "raft_leader": leader,
                "memory_bytes": total,
                "nodes": status_as_dicts(statuses),
            }
        )
        return 0 if statuses and all(s.healthy for s in statuses) else 1
    if not statuses:
        say(f"no network is running from {paths.state}; start one with 'fedledger network up'")
        return 1
    rows = [
        (
            s.name,
            s.kind + (" (Raft leader)" if s.raft_leader else ""),
            s.pid,
            "yes" if s.alive else "NO",
            "ok" if s.healthy else "DOWN",
            ",".join(f"{k}={v}" for k, v in s.ports.items()),
            "" if s.block_height is None else s.block_height,
            "" if s.memory_bytes is None else f"{s.memory_bytes / 2**20:.0f} MiB",
        )
        for s in statuses
    ]
    table(["node", "kind", "pid", "alive", "health", "ports", "height", "memory"], rows)
    total = sum(s.memory_bytes or 0 for s in statuses)
    say(f"total resident memory of the network: {total / 2**20:.0f} MiB")
    leaders = [s.name for s in statuses if s.raft_leader]
    say(
        f"Raft leader: {', '.join(leaders)}" if leaders else "Raft leader: none (election running?)"
    )
    down = [s.name for s in statuses if not s.healthy]
    if down:
        say("not healthy: " + ", ".join(down) + " (see logs in " + str(paths.state / "logs") + ")")
        return 1
    return 0


def cmd_compose(paths: Paths, args: argparse.Namespace) -> int:
    topo = make_topology(args.orgs, orderers=args.orderers, base_port=args.base_port)
    text = compose_file(topo)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    Path(args.output).write_text(text)
    if args.json:
        emit_json(
            {
                "output": args.output,
                "orgs": args.orgs,
                "orderers": args.orderers,
                "base_port": args.base_port,
            }
        )
    else:
        services = len(topo.orderers) + 2 * len(topo.orgs)
        say(f"wrote {args.output}: {services} services for {args.orgs} orgs")
    return 0
