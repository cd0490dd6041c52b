"""The task's current global model: the weights every later use of the model starts from.

Prediction offers name it, enrichment plans improve it, exports check against it. It is the
result of the task's last accepted round (the initial weights before any round was accepted).
Round records are small summaries, so one range read over them is cheap.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from fedledger.protocol.canonical import dumps
from fedledger.protocol.round_records import RoundRecord
from fedledger.protocol.rounds import ROUND_ACCEPTED, ROUND_TYPE
from fedledger.protocol.task_records import TaskRecord
from fedledger_chaincode.context import TransactionContext
from fedledger_chaincode.router import Router
from fedledger_chaincode.training_state import load_task

__all__ = ["CurrentModel", "current_model", "register"]

SOURCE_INITIAL = "initial"
SOURCE_ROUND = "round"


@dataclass(frozen=True)
class CurrentModel:
    """A task's current global model: its weights digest, and where it comes from."""

    weights_hash: str
    source: str  # "initial" or "round"
    round: int  # the accepted round it comes from; 0 for the initial weights


async def current_model(ctx: TransactionContext, task: TaskRecord) -> CurrentModel:
    """Return ``task``'s current global model (its last accepted round's, or the initial one)."""
    entries = await ctx.get_range(ROUND_TYPE, (task.id,))
    accepted = [
        (record.round, record.result.weights_hash)
        for record in (RoundRecord.from_bytes(value) for _, value in entries)
        if record.status == ROUND_ACCEPTED and record.result is not None
    ]
    if not accepted:
        return CurrentModel(task.initial_weights_hash, SOURCE_INITIAL, 0)
    number, weights_hash = max(accepted)
    return CurrentModel(weights_hash, SOURCE_ROUND, number)


async def get_current_model(ctx: TransactionContext, task_id: str) -> bytes:
    """GetCurrentModel: ``{"task_id", "weights_hash", "source", "round"}`` of the task's current
    global model. Raises ``NotFoundError`` for an unknown task."""
    task = await load_task(ctx, task_id)
    model = await current_model(ctx, task)
    return dumps({"task_id": task.id, **dataclasses.asdict(model)})


def register(router: Router) -> None:
    """Route the global-model query."""
    router.add("GetCurrentModel", get_current_model)
