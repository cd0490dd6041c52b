"""`fedledger simulate`: a consortium of N participants in one process, encrypted or plaintext.

The encrypted run is the real coordinator and participants over the in-memory ledger with the
real contract and threshold Paillier (:mod:`fedledger.simulation.encrypted`); ``--plaintext`` runs
only the plaintext twin, ``--compare`` both on the same data, seeds and initial weights.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path
from typing import Any

from fedledger.cli import simulate_report
from fedledger.cli.output import progress, say
from fedledger.cli.paths import Paths
from fedledger.crypto.keys import PrivateKey, PublicKey
from fedledger.learning.models import MODELS
from fedledger.learning.strategy import PRESETS
from fedledger.protocol.bigint import HAVE_GMP
from fedledger.simulation.config import DEFAULT_THRESHOLD, SimulationConfig, encoding_report

KEY_BITS = 2048


def add_parser(sub: argparse._SubParsersAction) -> None:
    """The `simulate` command."""
    sim = sub.add_parser(
        "simulate",
        help="N participants in one process on the in-memory ledger (no network)",
        description="Run the coordinator and N participants as objects in one process over the "
        "in-memory ledger (the real contract and roles, real threshold Paillier), or their "
        "plaintext twin (plain FedAvg of the same training, no encryption, no ledger), or both.",
    )
    sim.add_argument("--participants", type=int, default=10)
    sim.add_argument("--rounds", type=int, default=3)
    sim.add_argument("--model", choices=sorted(MODELS), default="mlp32")
    sim.add_argument("--partition", default="iid", help="iid or dirichlet:ALPHA")
    sim.add_argument(
        "--threshold",
        type=int,
        default=DEFAULT_THRESHOLD,
        help=f"decryption shares needed (default {DEFAULT_THRESHOLD}: each share costs one "
        "4,100-bit exponentiation per ciphertext, so t stays small whatever N is)",
    )
    sim.add_argument(
        "--strategy", default="fedavg", help=f"one of {', '.join(PRESETS)} (default fedavg)"
    )
    sim.add_argument("--data", default=None, help="full MNIST: mnist.npz or a folder of IDX files")
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument(
        "--frac-bits",
        type=int,
        default=None,
        help="fractional bits of the encoding (default: the demo's 14, plus one per doubling of "
        "N beyond 3, so that N rounded shares are off by no more than the demo's 3)",
    )
    mode = sim.add_mutually_exclusive_group()
    mode.add_argument(
        "--plaintext", action="store_true", help="plain FedAvg only: no encryption, no ledger"
    )
    mode.add_argument(
        "--compare",
        action="store_true",
        help="run encrypted and plaintext on the same data, seeds and initial weights and "
        "compare accuracy and global weights per round",
    )
    sim.add_argument(
        "--key",
        default=None,
        metavar="FILE",
        help="reuse the task key in FILE, or generate one and save it there (it holds the "
        "private key: for simulations only)",
    )
    sim.add_argument(
        "--json", dest="json_file", default=None, metavar="FILE", help="write the results as JSON"
    )
    sim.add_argument("--plot", default=None, metavar="FILE", help="write accuracy per round (PNG)")
    sim.set_defaults(func=cmd_simulate)


def cmd_simulate(paths: Paths, args: argparse.Namespace) -> int:
    """Run the simulation the arguments describe; print rounds, write JSON and plot if asked."""
    config = SimulationConfig(
        participants=args.participants,
        rounds=args.rounds,
        model=args.model,
        partition=args.partition,
        threshold=args.threshold,
        strategy=args.strategy,
        data_path=args.data,
        seed=args.seed,
        frac_bits=args.frac_bits,
    )
    config.check()  # before TensorFlow loads or a key is searched for
    started = time.monotonic()
    report = _run(args, config)
    report["total_seconds"] = round(time.monotonic() - started, 1)
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    report["load_average"] = [round(x, 2) for x in os.getloadavg()]  # shared machine: context
    simulate_report.finish(args, report)
    return 0


def _run(args: argparse.Namespace, config: SimulationConfig) -> dict[str, Any]:
    from fedledger.learning.models import initial_weights
    from fedledger.learning.runtime import configure_tensorflow
    from fedledger.simulation.compare import compare_runs
    from fedledger.simulation.data import load_simulation_data
    from fedledger.simulation.encrypted import SimulatedConsortium
    from fedledger.simulation.plaintext import run_plaintext

    configure_tensorflow()
    mode = "plaintext" if args.plaintext else "compare" if args.compare else "encrypted"
    progress(f"loading and partitioning the data for {config.participants} participants")
    data = load_simulation_data(config)
    initial = initial_weights(config.model, seed=config.seed)
    report: dict[str, Any] = {
        "mode": mode,
        "participants": config.participants,
        "model": config.model,
        "partition": config.partition,
        "strategy": config.strategy,
        "threshold": config.threshold,
        "samples": data.samples,
        "seconds": {},
    }
    encrypted = []
    if mode != "plaintext":
        report["encoding"] = encoding_report(config, KEY_BITS)
        report["chaincode_bigint"] = "gmpy2" if HAVE_GMP else "pure Python"
        simulate_report.print_encoding(config, report["encoding"])
        key_started = time.monotonic()
        keypair = _keypair(args)
        report["seconds"]["key"] = round(time.monotonic() - key_started, 1)
        say(f"encrypted: {config.participants} participants, {config.threshold}-of-"
            f"{config.participants} threshold decryption, {config.rounds} rounds, "
            f"{config.strategy}, {config.partition}; the chaincode checks proofs and shares "
            f"with {report['chaincode_bigint']} arithmetic")  # fmt: skip
        run_started = time.monotonic()
        consortium = SimulatedConsortium(
            config, data, keypair, record_updates=mode == "compare", progress=progress
        )
        encrypted = consortium.run(initial, lambda r: simulate_report.print_round(r.row, True))
        report["seconds"]["encrypted"] = round(time.monotonic() - run_started, 1)
        report["rounds"] = [r.row for r in encrypted]
    if mode != "encrypted":
        say(f"plaintext: {config.participants} participants, plain FedAvg, {config.rounds} rounds")
        run_started = time.monotonic()
        plain = run_plaintext(
            config, data, initial, lambda r: simulate_report.print_round(r.row, False)
        )
        report["seconds"]["plaintext"] = round(time.monotonic() - run_started, 1)
        report["plaintext_rounds" if encrypted else "rounds"] = [r.row for r in plain]
        if encrypted:
            encoding = config.encoding(KEY_BITS)
            report["comparison"] = compare_runs(config, encoding, encrypted, plain, data.samples)
    return report


def _keypair(args: argparse.Namespace) -> tuple[PublicKey, PrivateKey]:
    from fedledger.crypto.paillier_scheme import PaillierScheme
    from fedledger.roles.training.coordinator import TaskPlan
    from fedledger.simulation.keyfile import load_key, save_key

    path = Path(args.key) if args.key else None
    if path is not None and path.exists():
        progress(f"reusing the task key in {path}")
        return load_key(path)
    keypair = PaillierScheme().make_keys(TaskPlan(key_bits=KEY_BITS), progress)  # a key file
    if path is not None:
        save_key(path, keypair[1])
        progress(f"saved the task key to {path}")
    return keypair
