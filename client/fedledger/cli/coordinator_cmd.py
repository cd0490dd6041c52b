"""`fedledger coordinator run`: drive a proposed or active task to its end, as its own process.

The coordinator's role (``roles/training/coordinator.py``) holds no secret after the key ceremony
and keeps no state but the ledger's, so the command can be stopped and started again at any time:
it skips the rounds already decided and picks up the current one where the ledger says it is.
"""

from __future__ import annotations

import argparse
import json
import sys

from fedledger.cli.ledger_cmd import contract_for
from fedledger.cli.output import log_steps_to, progress, say
from fedledger.cli.paths import Paths
from fedledger.errors import FedLedgerError
from fedledger.protocol.training import TASK_FINISHED
from fedledger.roles.ledger_io import get_task
from fedledger.roles.training.coordinator import Coordinator, RoundOutcome

ACTIVE_TIMEOUT = 900.0


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    coordinator = sub.add_parser("coordinator", help="drive a training task's rounds")
    csub = coordinator.add_subparsers(dest="coordinator_command", required=True)
    run = csub.add_parser(
        "run",
        parents=[common],
        help="drive a task to its end (restartable: it resumes from the ledger)",
    )
    run.add_argument("--task", required=True)
    run.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds to wait for any one step of a round (default: three round durations)",
    )
    run.set_defaults(func=cmd_coordinator_run)


def _line(args: argparse.Namespace, event: str, text: str, **fields: object) -> None:
    if args.json:
        print(json.dumps({"event": event, **fields}), flush=True)
    else:
        say(text)


def cmd_coordinator_run(paths: Paths, args: argparse.Namespace) -> int:
    log_steps_to(sys.stderr)
    with contract_for(paths, args) as contract:
        task = get_task(contract, args.task)
        if task.status == TASK_FINISHED:
            _line(args, "finished", f"{task.id} is already finished", task=task.id)
            return 0
        coordinator = Coordinator(contract, progress=progress if not args.json else _quiet)
        if task.status != "active":
            progress(f"waiting for every participant to approve {task.id}")
            task = coordinator.wait_active(task.id, ACTIVE_TIMEOUT)
        _line(args, "started", f"driving {task.id}: {task.rounds} rounds", task=task.id)

        def on_round(outcome: RoundOutcome) -> None:
            result = outcome.view.round.result
            median = None if result is None else result.median_bp
            shown = "" if median is None else f", median accuracy {median / 100:.2f}%"
            _line(
                args, "round", f"round {outcome.round}: {outcome.status}{shown} "
                f"({outcome.seconds:.1f}s, {outcome.ledger.calls} ledger calls)",
                round=outcome.round, status=outcome.status, median_bp=median,
                seconds=outcome.seconds, reason=outcome.view.round.reason,
            )  # fmt: skip

        coordinator.run_task(task.id, on_round, timeout=args.timeout)
        final = get_task(contract, task.id)
    if final.status != TASK_FINISHED:
        raise FedLedgerError(f"{task.id} is {final.status} after its last round")
    _line(args, "finished", f"{task.id} finished", task=task.id)
    return 0


def _quiet(_: str) -> None:
    return None
