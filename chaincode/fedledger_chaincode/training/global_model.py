"""The task's current global model: the weights every later use of the model starts from.

Prediction offers name it, enrichment plans improve it, exports check against it. It is the
result of the task's last accepted round (the initial weights before any round was accepted),
superseded by an adopted enrichment (a plan settled with a paying tier, ``AdoptedModel``) until
a later round is accepted. Round records are small summaries, so one range read over them is
cheap.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from fedledger.protocol.canonical import dumps
from fedledger.protocol.enrichment import ADOPTED_MODEL_TYPE, AdoptedModelRecord
from fedledger.protocol.round_records import RoundRecord
from fedledger.protocol.rounds import ROUND_ACCEPTED, ROUND_TYPE
from fedledger.protocol.task_records import TaskRecord
from fedledger_chaincode.core.context import TransactionContext, create_composite_key
from fedledger_chaincode.core.router import Router
from fedledger_chaincode.training.state import load_task

__all__ = [
    "SOURCE_ENRICHMENT",
    "SOURCE_INITIAL",
    "SOURCE_ROUND",
    "CurrentModel",
    "adopted_model_key",
    "current_model",
    "register",
]

SOURCE_INITIAL = "initial"
SOURCE_ROUND = "round"
SOURCE_ENRICHMENT = "enrichment"


@dataclass(frozen=True)
class CurrentModel:
    """A task's current global model: its weights digest, and where it comes from.

    ``round`` is the last accepted round (0 for the initial weights; for an enrichment, the last
    accepted round when it was adopted); ``median_bp`` the median accuracy the participants
    reported for it (None for the initial weights); ``plan_id`` the plan of an adopted enrichment.
    """

    weights_hash: str
    source: str  # "initial", "round" or "enrichment"
    round: int
    median_bp: int | None = None
    plan_id: str | None = None


def adopted_model_key(task: str) -> str:
    """Return the state key of the task's latest adopted enrichment."""
    return create_composite_key(ADOPTED_MODEL_TYPE, (task,))


async def current_model(ctx: TransactionContext, task: TaskRecord) -> CurrentModel:
    """Return ``task``'s current global model: its last accepted round's, or the adopted
    enrichment adopted after that round, or the initial weights."""
    entries = await ctx.get_range(ROUND_TYPE, (task.id,))
    accepted = [
        (record.round, record.result.weights_hash, record.result.median_bp)
        for record in (RoundRecord.from_bytes(value) for _, value in entries)
        if record.status == ROUND_ACCEPTED and record.result is not None
    ]
    last = max(accepted) if accepted else None
    stored = await ctx.get_state(adopted_model_key(task.id))
    if stored:
        adopted = AdoptedModelRecord.from_bytes(stored)
        if last is None or last[0] <= adopted.base_round:
            return CurrentModel(
                adopted.weights_hash,
                SOURCE_ENRICHMENT,
                adopted.base_round,
                adopted.median_bp,
                adopted.plan_id,
            )
    if last is None:
        return CurrentModel(task.initial_weights_hash, SOURCE_INITIAL, 0)
    number, weights_hash, median = last
    return CurrentModel(weights_hash, SOURCE_ROUND, number, median)


async def get_current_model(ctx: TransactionContext, task_id: str) -> bytes:
    """GetCurrentModel: ``{"task_id", "weights_hash", "source", "round", "median_bp",
    "plan_id"}`` of the task's current global model. Raises ``NotFoundError`` for an unknown
    task."""
    task = await load_task(ctx, task_id)
    model = await current_model(ctx, task)
    return dumps({"task_id": task.id, **dataclasses.asdict(model)})


def register(router: Router) -> None:
    """Route the global-model query."""
    router.add_object_type(ADOPTED_MODEL_TYPE)
    router.add("GetCurrentModel", get_current_model)
