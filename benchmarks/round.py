"""Benchmark: what a training round costs on the real local network, beyond local training.

For each model (mlp32, mlp128) and each decryption mode (``all``: every contributor decrypts, the
old flow; ``t``: only t chosen contributors, the default), runs ``fedledger demo`` on one local
network — participants are separate processes with their own Gateway connections, as in a real
deployment — and reads the demo's per-round JSON. Per round: wall seconds (the coordinator's,
from opening to decision), the slowest participant's training seconds, the overhead (wall minus
training), ledger round trips and bytes. Both modes run in the same invocation on the same
network, so the old and the new flow are compared under the same conditions.

Targets (issue 8, 2-core machine): median overhead ≤ 5 s for mlp32 and ≤ 20 s for mlp128 with
3 participants. Progress lines go to stdout; with ``--json`` the last line is one JSON object.

Usage: python benchmarks/round.py [--json] [--models mlp32,mlp128] [--modes all,t] [--rounds 3]
       [--orgs 3] [--base-port 44050] [--state DIR] [--keep-network]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import benchmark_parser, print_json

TARGETS = {"mlp32": 5.0, "mlp128": 20.0}


def fedledger(*args: str) -> list[str]:
    return [sys.executable, "-m", "fedledger.cli.main", *args]


def run_demo(args: argparse.Namespace, state: Path, model: str, mode: str) -> dict[str, Any]:
    """Run one demo and return its JSON report."""
    out = state.parent / f"round-{model}-{mode}.json"
    command = fedledger(
        "demo", "--state", str(state), "--base-port", str(args.base_port),
        "--participants", str(args.orgs), "--model", model, "--rounds", str(args.rounds),
        "--decryptors", mode, "--no-baseline", "--json", str(out),
    )  # fmt: skip
    started = time.monotonic()
    subprocess.run(command, check=True)
    print(f"  {model}, decryptors {mode}: {time.monotonic() - started:.0f}s", flush=True)
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def summarise(model: str, mode: str, report: dict[str, Any]) -> dict[str, Any]:
    rows = report["rounds"]

    def median(key: str) -> float:
        return round(statistics.median(r["seconds"][key] for r in rows), 3)

    summary = {
        "model": model,
        "decryptors": mode,
        "participants": report["participants"],
        "rounds": len(rows),
        "statuses": [r["status"] for r in rows],
        "median_wall_s": median("wall"),
        "median_training_s": median("training"),
        "median_overhead_s": median("overhead"),
        "median_decryption_s": median("decryption"),
        "median_ledger_s": median("ledger"),
        "ledger_calls_per_round": round(statistics.median(r["ledger_calls"] for r in rows)),
        "ledger_bytes_per_round": round(statistics.median(r["ledger_bytes"] for r in rows)),
        "decryptors_per_round": [r["decryptors"] for r in rows],
        "per_round": [{"round": r["round"], "status": r["status"], **r["seconds"]} for r in rows],
    }
    print(
        f"    median overhead {summary['median_overhead_s']}s of wall {summary['median_wall_s']}s"
        f" (training {summary['median_training_s']}s)",
        flush=True,
    )
    return summary


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--models", default="mlp32,mlp128")
    parser.add_argument("--modes", default="all,t")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--orgs", type=int, default=3)
    parser.add_argument("--base-port", type=int, default=44050)
    parser.add_argument("--state", default=None, help="network state folder (default: temporary)")
    parser.add_argument("--keep-network", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fedledger-round-") as scratch:
        state = Path(args.state) if args.state else Path(scratch) / "network"
        print(f"round benchmark: {args.orgs} participants, {args.rounds} rounds", flush=True)
        runs = []
        try:
            for model in args.models.split(","):
                for mode in args.modes.split(","):
                    runs.append(summarise(model, mode, run_demo(args, state, model, mode)))
        finally:
            if not args.keep_network:
                subprocess.run(fedledger("network", "down", "--purge", "--state", str(state)))
    print_json(args.json, {"runs": runs, "targets_median_overhead_s": TARGETS})


if __name__ == "__main__":
    main()
