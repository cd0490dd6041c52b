"""`fedledger demo`: a whole federated training on the local network, one process per org.

The demo process is the coordinator (Org1's Admin identity, the key dealer). Each participant
is a separate `fedledger participant run` process with its own org identity, which reports its
progress as JSON lines that the demo reads and turns into a per-round table.
"""

from __future__ import annotations

import argparse
import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from fedledger.cli import demo_enrich, demo_report
from fedledger.cli.demo_network import network_for_demo
from fedledger.cli.demo_predict import run_predict_phase
from fedledger.cli.ledger_cmd import contract_for, kx_private_key
from fedledger.cli.output import log_steps_to, progress, say
from fedledger.cli.paths import Paths
from fedledger.contract import parties
from fedledger.crypto.envelope import public_key_bytes
from fedledger.errors import FedLedgerError
from fedledger.learning.models import get_model_spec
from fedledger.learning.strategy import PRESETS
from fedledger.ledger.identity import identity_from_profile
from fedledger.ledger.profile import load_profile
from fedledger.protocol.assets import party_id
from fedledger.roles.ledger_io import register_party
from fedledger.roles.training.coordinator import (
    Coordinator,
    RoundOutcome,
    TaskPlan,
    generate_task_key,
)
from fedledger.roles.training.round_summary import summarise_round
from fedledger.runner.events import PARTICIPANT_EVENTS, Event, Finished, ParticipantRound, Ready
from fedledger.runner.processes import RoleProcess

E = TypeVar("E", bound=Event)

COORDINATOR_ORG, COORDINATOR_USER = "Org1", "Admin"
STRATEGIES = PRESETS
READY_TIMEOUT = 600.0
ROUND_TIMEOUT = 1200.0


class ParticipantProcesses:
    """One `fedledger participant run --json` process per participant org."""

    def __init__(self, paths: Paths, args: argparse.Namespace, coordinator: str) -> None:
        self.procs: dict[str, RoleProcess] = {}
        for index in range(1, args.participants + 1):
            org = f"Org{index}"
            argv = [
                "participant", "run", "--json", "--org", org, "--state", str(paths.state),
                "--index", str(index), "--participants", str(args.participants),
                "--partition", args.partition, "--seed", str(args.seed),
                "--coordinator", coordinator, "--decryptors", args.decryptors,
                *(["--mnist", args.mnist] if args.mnist else []),
            ]  # fmt: skip
            self.procs[org] = RoleProcess(
                f"participant-{org}", argv, paths.state / "logs", PARTICIPANT_EVENTS
            ).start()

    def collect(self, kind: type[E], timeout: float) -> dict[str, E]:
        """Every participant's next line of ``kind``, by org; RoleProcessError if one fails."""
        deadline = time.monotonic() + timeout
        return {
            org: proc.wait_for(kind, max(1.0, deadline - time.monotonic()))
            for org, proc in self.procs.items()
        }

    def check_alive(self) -> None:
        """Raise RoleProcessError naming a participant that exited before the task finished."""
        for proc in self.procs.values():
            proc.check_running()

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.stop()


def cmd_demo(paths: Paths, args: argparse.Namespace) -> int:
    if args.participants < 2:
        raise FedLedgerError("--participants must be at least 2")
    args.model = args.model or ("mlp32q" if args.predict else "mlp32")
    if args.task and not args.predict:
        raise FedLedgerError("--task names a finished task to serve; it needs --predict")
    if args.predict and not args.task and get_model_spec(args.model).activation != "quadratic":
        raise FedLedgerError(
            f"--predict serves the trained model encrypted, which needs a quadratic activation; "
            f"{args.model} has {get_model_spec(args.model).activation} (use --model mlp32q)"
        )
    args.orgs = max(3, args.participants)
    if args.enrich:  # a label-skewed consortium and one more org for the enricher
        args.orgs = args.participants + 1
        if args.partition == "iid":
            args.partition = "skewed:7,8,9"
    network, fresh, seconds = network_for_demo(paths, args)
    say(
        f"network {'started' if fresh else 'already running'} ({seconds:.1f}s): "
        f"{len(network.topo.orgs)} orgs, channel {network.topo.channel}"
    )
    if args.task:
        report = {"task_id": args.task, "prediction": run_predict_phase(paths, args, args.task)}
        if args.json_file:
            write_json(args.json_file, report)
        return 0
    started = time.monotonic()
    (paths.state / "logs").mkdir(parents=True, exist_ok=True)
    log_steps_to(open(paths.state / "logs" / "coordinator.log", "a"))  # noqa: SIM115
    coordinator = coordinator_party_id(paths)
    participants = ParticipantProcesses(paths, args, coordinator)
    try:
        report = _run(paths, args, participants)
    finally:
        participants.stop()
    if args.enrich:
        enriching = time.monotonic()
        report["enrichment"] = demo_enrich.run_enrichment(paths, args, report["task_id"])
        report["enrichment"]["seconds"] = round(time.monotonic() - enriching, 1)
        demo_enrich.print_enrichment(report["enrichment"])
    report["total_seconds"] = round(time.monotonic() - started, 1)
    models = paths.models("Org1", "User1") / report["task_id"]
    report["models_folder"] = str(models)
    demo_report.finish(args, report)
    say(f"final model: Org1's adopted models are in {models}; write the last one as a Keras "
        f"file with 'fedledger model export --org Org1 --state {paths.state} --task "
        f"{report['task_id']} --out model.keras'")  # fmt: skip
    if args.predict:
        report["prediction"] = run_predict_phase(paths, args, report["task_id"])
        if args.json_file:
            write_json(args.json_file, report)
    return 0


def coordinator_party_id(paths: Paths) -> str:
    """The party id of the demo's coordinator (Org1's Admin), which the participants trust."""
    identity = identity_from_profile(load_profile(paths.state), COORDINATOR_ORG, COORDINATOR_USER)
    return party_id(identity.msp_id, identity.certificate_pem)


def _run(paths: Paths, args: argparse.Namespace, parts: ParticipantProcesses) -> dict[str, Any]:
    from fedledger.learning.models import initial_weights

    plan = TaskPlan(
        model=args.model,
        rounds=args.rounds,
        threshold=args.threshold or args.participants // 2 + 1,
        strategy=STRATEGIES[args.strategy],
    )
    # The safe-prime search takes seconds to minutes; overlap it with the participants' start.
    keygen = ThreadPoolExecutor(max_workers=1)
    key = keygen.submit(generate_task_key, plan, progress)
    keygen.shutdown(wait=False)
    coordinator_args = argparse.Namespace(org=COORDINATOR_ORG, user=COORDINATOR_USER)
    kx_key = kx_private_key(paths, COORDINATOR_ORG, COORDINATOR_USER)
    with contract_for(paths, coordinator_args) as contract:
        register_party(
            contract, ["coordinator"], base64.b64encode(public_key_bytes(kx_key)).decode()
        )
        progress(f"starting {args.participants} participant processes (loading TensorFlow)")
        ready = parts.collect(Ready, READY_TIMEOUT)
        records = []
        for index in range(1, args.participants + 1):
            line = ready[f"Org{index}"]
            party = parties.get_party(contract, line.party)
            records.append({**party.to_dict(), "samples": line.samples})
        coordinator = Coordinator(contract, progress=progress, watchdog=parts.check_alive)
        task_id = coordinator.propose_task(
            plan, records, initial_weights(args.model, seed=args.seed), key.result()
        )
        coordinator.wait_active(task_id, READY_TIMEOUT)
        say(
            f"task {task_id}: {args.model}, {args.participants} participants, "
            f"{plan.threshold}-of-{args.participants} threshold decryption, {args.rounds} rounds, "
            f"{plan.strategy.name}, {'every contributor' if args.decryptors == 'all' else 't'} "
            "decrypting"
        )
        rounds: list[dict[str, Any]] = []

        def on_round(outcome: RoundOutcome) -> None:
            lines = parts.collect(ParticipantRound, ROUND_TIMEOUT)
            row = summarise_round(outcome, [line.fields for line in lines.values()])
            demo_report.print_round(row)
            rounds.append(row)

        coordinator.run_task(task_id, on_round)
        parts.collect(Finished, ROUND_TIMEOUT)
    return {
        "task_id": task_id,
        "rounds": rounds,
        "participants": args.participants,
        "model": args.model,
        "partition": args.partition,
        "strategy": plan.strategy.name,
        "decryptors": args.decryptors,
    }


def write_json(path: str, report: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(report, indent=2))
