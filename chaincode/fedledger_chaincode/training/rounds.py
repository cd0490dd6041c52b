"""Round transactions: OpenRound, CloseRound (the homomorphic aggregation), and round queries.

The proposer opens round 1 (OpenRound); every later round opens in the transaction that decides
or fails the one before it (``training_state.end_round``: no commit between rounds), so rounds
run one at a time and ``base_round`` — the last accepted round, 0 for the initial weights — says
which global weights its updates start from. CloseRound
lists the round's submissions with a composite-key range over their summaries (phantom-protected:
a submission racing the close conflicts with it), reads each vector by its own key, and
aggregates them in party-id order with the task's encryption scheme (for Paillier, their
homomorphic product), so every endorsing peer computes the same bytes.

Time: a round records a high-water mark (``high_water``), the latest timestamp of the
transactions that moved it; see ``training_state.check_high_water``. Closing before every
participant submitted is for the task's participants and proposer only, since its only
justification is a deadline that a client's timestamp claims has passed.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib

from fedledger.protocol import events
from fedledger.protocol.canonical import dumps
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.round_records import (
    AggregateRecord,
    AggregateSummary,
    ReportRecord,
    RoundRecord,
    RoundView,
    ShareSummary,
    UpdateRecord,
    UpdateSummary,
)
from fedledger.protocol.rounds import (
    ACCURACY_REPORT_TYPE,
    AGGREGATE_TYPE,
    DECRYPTION_SHARE_TYPE,
    MODEL_WEIGHTS_TYPE,
    ROUND_CLOSED,
    ROUND_OPEN,
    ROUND_TYPE,
    UPDATE_TYPE,
    UPDATE_VECTOR_TYPE,
    parse_round,
)
from fedledger.protocol.schemes import ledger_scheme
from fedledger.protocol.task_records import TaskRecord
from fedledger_chaincode.core.context import TransactionContext, load_bytes
from fedledger_chaincode.core.router import Router
from fedledger_chaincode.training.state import (
    caller_party,
    check_high_water,
    is_past,
    key,
    load_round,
    load_task,
    opened_round,
    proposers_task,
    put_record,
    put_round,
    read_range,
    require_active,
    require_steward,
)

__all__ = ["register"]


async def _check_openable(ctx: TransactionContext, task: TaskRecord, number: int) -> None:
    """Check that round ``number`` may be opened by OpenRound now: only round 1, once, after the
    initial weights are stored (every later round opens when its predecessor ends)."""
    if await ctx.get_state(key(ROUND_TYPE, task.id, number)):
        raise ProtocolError(f"round {number} of {task.id} was already opened")
    if number != 1:
        raise ProtocolError(
            f"round {number} of {task.id} opens by itself when round {number - 1} is decided "
            f"or fails; OpenRound opens round 1 only"
        )
    if not await ctx.get_state(key(MODEL_WEIGHTS_TYPE, task.id)):
        raise ProtocolError(
            f"round 1 of {task.id} cannot open before the initial weights are stored "
            f"(PutModelWeights)"
        )


async def open_round(ctx: TransactionContext, task_id: str, round_number: str) -> bytes:
    """OpenRound: open round 1 of an active task; its proposer only.

    Returns the stored round record. Raises ``ProtocolError`` for a wrong caller, an inactive
    task, a round out of range, any round but 1 (later rounds open when their predecessor ends),
    a second opening, or round 1 before the initial weights.
    """
    task = await proposers_task(ctx, task_id, "open rounds")
    require_active(task)
    number = parse_round(round_number)
    if number > task.rounds:
        raise ProtocolError(f"{task_id} has {task.rounds} rounds, got round {number}")
    await _check_openable(ctx, task, number)
    record = opened_round(ctx, task, number, 0)
    payload = put_round(ctx, record)
    event = {"task_id": task_id, "round": number, "deadline": record.deadline,
             "base_round": 0}  # fmt: skip
    ctx.set_event(events.ROUND_OPENED, dumps(event))
    return payload


def _check_closable(task: TaskRecord, record: RoundRecord, count: int, late: bool) -> None:
    where = f"round {record.round} of {task.id}"
    expected = len(task.participants)
    if count == expected:
        return
    if not late:
        raise ProtocolError(
            f"{where} cannot close yet: {count} of {expected} participants submitted and the "
            f"deadline {record.deadline} has not passed"
        )
    if count < task.quorum:
        raise ProtocolError(
            f"{where} cannot close: the deadline {record.deadline} has passed with {count} of "
            f"{expected} participants submitted, fewer than the quorum {task.quorum}"
        )


async def _vectors(
    ctx: TransactionContext, task_id: str, number: int, parties: tuple[str, ...]
) -> list[str]:
    """Read the submitted vectors (base64) one key at a time (each read is one bounded
    message)."""
    vectors = []
    for party in parties:
        stored = UpdateRecord.from_bytes(
            await ctx.get_state(key(UPDATE_VECTOR_TYPE, task_id, number, party))
        )
        vectors.append(stored.vector)
    return vectors


async def close_round(ctx: TransactionContext, task_id: str, round_number: str) -> bytes:
    """CloseRound: aggregate the round's updates.

    Allowed to any registered party when every participant submitted; after the deadline with at
    least the quorum, to the task's participants and proposer only. Returns the stored round
    record (status "closed", with the aggregate's digest, contributors and total samples).
    Raises ``ProtocolError`` saying how many submitted and why it cannot close, or naming a
    caller who may not close early or a timestamp before the round's high-water mark.
    """
    party = await caller_party(ctx)
    task = await load_task(ctx, task_id)
    record = await load_round(ctx, task, round_number)
    number = record.round
    if record.status != ROUND_OPEN:
        raise ProtocolError(f"round {number} of {task_id} is {record.status}, not open")
    updates = await read_range(ctx, UpdateSummary, UPDATE_TYPE, task_id, number)
    if len(updates) < len(task.participants):
        require_steward(task, party, "close a round before every participant submitted")
    _check_closable(task, record, len(updates), is_past(ctx.tx_timestamp, record.deadline))
    check_high_water(ctx, record, *(u.submitted_at for u in updates))
    contributors = tuple(u.party for u in updates)
    raw = ledger_scheme(task).aggregate(task, await _vectors(ctx, task_id, number, contributors))
    now = ctx.tx_timestamp.seconds
    aggregate = AggregateSummary(
        hashlib.sha256(raw).hexdigest(), len(raw), contributors, sum(u.samples for u in updates)
    )
    stored = AggregateRecord(
        task_id, number, aggregate.digest, aggregate.size, contributors,
        aggregate.total_samples, now, ctx.tx_id, base64.b64encode(raw).decode("ascii"),
    )  # fmt: skip
    put_record(ctx, key(AGGREGATE_TYPE, task_id, number), stored)
    closed = dataclasses.replace(
        record, status=ROUND_CLOSED, closed_at=now, closed_tx=ctx.tx_id, aggregate=aggregate,
        high_water=now,
    )  # fmt: skip
    payload = put_round(ctx, closed)
    event = {"task_id": task_id, "round": number, **aggregate.to_dict()}
    ctx.set_event(events.ROUND_CLOSED, dumps(event))
    return payload


async def get_round(ctx: TransactionContext, task_id: str, round_number: str) -> bytes:
    """GetRound: the round with what has been submitted to it so far, as a RoundView.

    Returns ``{"round": RoundRecord, "submissions": [UpdateSummary], "shares": [ShareSummary],
    "reports": [ReportRecord]}``, each list in party-id order; never a vector or a share.
    """
    task = await load_task(ctx, task_id)
    record = await load_round(ctx, task, round_number)
    number = record.round
    view = RoundView(
        record,
        tuple(await read_range(ctx, UpdateSummary, UPDATE_TYPE, task_id, number)),
        tuple(await read_range(ctx, ShareSummary, DECRYPTION_SHARE_TYPE, task_id, number)),
        tuple(await read_range(ctx, ReportRecord, ACCURACY_REPORT_TYPE, task_id, number)),
    )
    return view.to_bytes()


async def list_rounds(ctx: TransactionContext, task_id: str) -> bytes:
    """ListRounds: a JSON array of the task's round records, in round order."""
    await load_task(ctx, task_id)
    entries = await ctx.get_range(ROUND_TYPE, (task_id,))
    return dumps([RoundRecord.from_bytes(value).to_dict() for _, value in entries])


async def get_aggregate(ctx: TransactionContext, task_id: str, round_number: str) -> bytes:
    """GetAggregate: the stored AggregateRecord with its ``"vector"`` (base64 cipher vector).

    Raises ``NotFoundError`` "round 2 of task-… has no aggregate yet; it is open".
    """
    task = await load_task(ctx, task_id)
    record = await load_round(ctx, task, round_number)
    return await load_bytes(
        ctx,
        key(AGGREGATE_TYPE, task_id, record.round),
        f"round {record.round} of {task_id} has no aggregate yet; it is {record.status}",
    )


def register(router: Router) -> None:
    """Route the round transactions."""
    router.add_object_type(ROUND_TYPE)
    router.add_object_type(AGGREGATE_TYPE)
    router.add("OpenRound", open_round)
    router.add("CloseRound", close_round)
    router.add("GetRound", get_round)
    router.add("ListRounds", list_rounds)
    router.add("GetAggregate", get_aggregate)
