"""`fedledger model export --task T [--round R] --out model.keras`: a participant's global model.

A participant keeps every global model it adopted (``roles.checkpoints.ModelStore`` under its
wallet, ``Paths.models``). Export takes one of them — round R, or by default the task's current
model as the ledger names it (GetCurrentModel) — and checks its weights' SHA-256 against the
digest the ledger recorded for that round (the initial weights' digest for round 0) before it
writes anything: a stale or tampered file is refused with both digests. The file is Keras' own
format and opens with ``keras.models.load_model``.
"""

from __future__ import annotations

import argparse
import base64

from fedledger.cli import ledger_cmd
from fedledger.cli.output import emit_json, say
from fedledger.cli.paths import Paths
from fedledger.contract import training
from fedledger.contract.training import get_task
from fedledger.errors import FedLedgerError
from fedledger.ledger.interface import Contract
from fedledger.protocol.rounds import ROUND_ACCEPTED
from fedledger.protocol.task_records import TaskRecord
from fedledger.roles.model_io import FloatVector, weights_from_bytes, weights_hash
from fedledger.roles.training.checkpoints import ModelStore


class ModelMismatch(FedLedgerError):
    """The stored model's digest is not the one the ledger recorded for its round."""


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    model = sub.add_parser("model", help="the global models this participant adopted")
    msub = model.add_subparsers(dest="model_command", required=True)
    export = msub.add_parser(
        "export", parents=[common], help="write an adopted global model as a .keras file"
    )
    export.add_argument("--task", required=True)
    export.add_argument(
        "--round", type=int, default=None, help="an accepted round (default: the current model)"
    )
    export.add_argument("--out", required=True, help="the file to write (ends in .keras)")
    export.set_defaults(func=cmd_model_export)


def ledger_digest(contract: Contract, task: TaskRecord, number: int | None) -> tuple[int, str]:
    """The round to export and the weights digest the ledger recorded for it.

    Raises FedLedgerError when the round is not an accepted one.
    """
    if number is None:
        current = training.get_current_model(contract, task.id)
        return current.round, current.weights_hash
    if number == 0:
        return 0, task.initial_weights_hash
    view = training.find_round(contract, task.id, number)
    if view is None or view.round.status != ROUND_ACCEPTED or view.round.result is None:
        status = "not opened" if view is None else view.round.status
        raise FedLedgerError(f"round {number} of {task.id} is {status}, not accepted: no model")
    return number, view.round.result.weights_hash


def checked_weights(
    contract: Contract, store: ModelStore, task: TaskRecord, number: int, expected: str
) -> FloatVector:
    """The weights of round ``number`` (the stored model, or the initial weights from the ledger
    for round 0), checked against ``expected``; raises ModelMismatch or CheckpointError."""
    if number == 0:
        stored = training.get_model_weights(contract, task.id)
        weights = weights_from_bytes(base64.b64decode(stored.weights))
    else:
        weights = store.load(task.id, number).weights
    actual = weights_hash(weights)
    if actual != expected:
        raise ModelMismatch(
            f"the model of round {number} of {task.id} hashes to {actual}, the ledger records "
            f"{expected}: not exported"
        )
    return weights


def cmd_model_export(paths: Paths, args: argparse.Namespace) -> int:
    from fedledger.learning.export import save_keras_model

    store = ModelStore(paths.models(args.org, args.user))
    with ledger_cmd.contract_for(paths, args) as contract:
        task = get_task(contract, args.task)
        number, expected = ledger_digest(contract, task, args.round)
        weights = checked_weights(contract, store, task, number, expected)
    written = save_keras_model(task.model, weights, args.out)
    if args.json:
        emit_json({"task": task.id, "round": number, "model": task.model,
                   "weights_hash": expected, "file": str(written.resolve())})  # fmt: skip
    else:
        say(f"wrote the {task.model} model of round {number} of {task.id} to {written.resolve()}")
        say(f"its weights hash to {expected}, as the ledger records")
    return 0
