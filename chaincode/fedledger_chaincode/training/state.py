"""State access shared by the training transactions: keys, typed loaders and the checks they share.

Keys are Fabric composite keys (object types in ``fedledger.protocol.rounds``); a round number is
six zero-padded digits so that a range read returns rounds, and parties within a round, in order.
Records are the typed records of ``fedledger.protocol.task_records`` and ``round_records``. Every
loader raises ``ProtocolError`` (``NotFoundError`` for a missing asset) with the message the
client sees.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from fedledger.protocol.assets import parse_party_id
from fedledger.protocol.codec import Record
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.round_records import RoundRecord
from fedledger.protocol.rounds import ROUND_ACCEPTED, ROUND_OPEN, ROUND_TYPE, parse_round, round_key
from fedledger.protocol.task_records import TaskRecord
from fedledger.protocol.training import (
    TASK_ACTIVE,
    TASK_FINISHED,
    TASK_SUMMARY_TYPE,
    TASK_TYPE,
    parse_task_id,
)
from fedledger_chaincode.core.context import (
    TransactionContext,
    TxTimestamp,
    create_composite_key,
    load,
    load_bytes,
)
from fedledger_chaincode.core.parties import require_registered_caller

__all__ = [
    "caller_party",
    "check_high_water",
    "end_round",
    "is_past",
    "key",
    "load_party_part",
    "load_round",
    "load_task",
    "opened_round",
    "participant_round",
    "proposers_task",
    "put_record",
    "put_round",
    "put_task",
    "read_range",
    "require_active",
    "require_participant",
    "require_steward",
    "task_key",
]

_R = TypeVar("_R", bound=Record)


def key(object_type: str, task: str, number: int | None = None, party: str | None = None) -> str:
    """Return the composite key (object_type, task[, round[, party]])."""
    parts = [task]
    if number is not None:
        parts.append(round_key(number))
    if party is not None:
        parts.append(party)
    return create_composite_key(object_type, parts)


def task_key(task: str) -> str:
    """Return the state key of a TrainingTask."""
    return key(TASK_TYPE, task)


def put_record(ctx: TransactionContext, state_key: str, record: Record) -> bytes:
    """Write ``record`` as canonical JSON under ``state_key``; return the bytes written."""
    payload = record.to_bytes()
    ctx.put_state(state_key, payload)
    return payload


def put_task(ctx: TransactionContext, task: TaskRecord) -> bytes:
    """Write a task and its summary (what listings read); return the task's bytes."""
    put_record(ctx, key(TASK_SUMMARY_TYPE, task.id), task.summary())
    return put_record(ctx, task_key(task.id), task)


def put_round(ctx: TransactionContext, record: RoundRecord) -> bytes:
    """Write a round record; return its bytes."""
    return put_record(ctx, key(ROUND_TYPE, record.task_id, record.round), record)


async def read_range(
    ctx: TransactionContext, kind: type[_R], object_type: str, task: str, number: int
) -> list[_R]:
    """Return the records of (object_type, task, round, *) in key order, i.e. by party id."""
    entries = await ctx.get_range(object_type, (task, round_key(number)))
    return [kind.from_bytes(value) for _, value in entries]


async def caller_party(ctx: TransactionContext) -> str:
    """Return the registered creator's party id (raises as ``require_registered_caller``)."""
    return (await require_registered_caller(ctx)).id


async def load_task(ctx: TransactionContext, task: str) -> TaskRecord:
    """Return the stored task; raises "task task-… does not exist" or a malformed-id message."""
    parse_task_id(task)
    return await load(ctx, TaskRecord, task_key(task), f"task {task} does not exist")


async def proposers_task(ctx: TransactionContext, task_id: str, action: str) -> TaskRecord:
    """Return task ``task_id`` once the caller is checked to be its proposer.

    Raises what ``caller_party`` and ``load_task`` raise, and ``ProtocolError`` "only the proposer
    X of task-… may <action>".
    """
    party = await caller_party(ctx)
    task = await load_task(ctx, task_id)
    if party != task.proposer:
        raise ProtocolError(f"only the proposer {task.proposer} of {task_id} may {action}")
    return task


async def participant_round(
    ctx: TransactionContext, task_id: str, round_text: str
) -> tuple[str, TaskRecord, RoundRecord]:
    """Return the caller's party id, task ``task_id`` and its round ``round_text``, once the
    caller is checked to be a participant (before the round is read).

    Raises what ``caller_party``, ``load_task``, ``require_participant`` and ``load_round`` raise.
    """
    party = await caller_party(ctx)
    task = await load_task(ctx, task_id)
    require_participant(task, party)
    return party, task, await load_round(ctx, task, round_text)


def require_participant(task: TaskRecord, party: str) -> None:
    """Raise "party X is not a participant of task-…" unless ``party`` is listed."""
    if party not in task.participant_ids:
        raise ProtocolError(f"party {party} is not a participant of {task.id}")


def require_steward(task: TaskRecord, party: str, action: str) -> None:
    """Raise unless ``party`` is a participant or the proposer of ``task``.

    Only they may fail a round, or close one before everybody submitted: an outsider could
    otherwise cut a round short with a timestamp forged within the peers' time window.
    """
    if party != task.proposer and party not in task.participant_ids:
        raise ProtocolError(
            f"only the participants and the proposer of {task.id} may {action}; {party} is neither"
        )


def check_high_water(ctx: TransactionContext, record: RoundRecord, *later: int) -> None:
    """Refuse a transaction stamped before the round's high-water mark.

    The mark is the latest timestamp (whole seconds) of the transactions that moved the round
    (open, close, decide, fail), together with ``later``: timestamps of records the caller has
    read (submissions, shares, reports). Nothing can then claim a time before something the
    ledger already accepted, so a deadline that has visibly passed cannot be un-passed by a
    backdated proposal. Raises ``ProtocolError`` naming both times.
    """
    mark = max([record.high_water, *later])
    if ctx.tx_timestamp.seconds < mark:
        raise ProtocolError(
            f"the transaction timestamp {ctx.tx_timestamp.seconds} is before the high-water mark "
            f"{mark} of round {record.round} of {record.task_id}: a later time was already "
            "accepted for it"
        )


def require_active(task: TaskRecord) -> None:
    """Raise "task-… is proposed, not active" (or "finished, not active") unless it is active."""
    if task.status != TASK_ACTIVE:
        raise ProtocolError(f"{task.id} is {task.status}, not active")


async def load_round(ctx: TransactionContext, task: TaskRecord, round_text: str) -> RoundRecord:
    """Return the stored round ``round_text`` of ``task``.

    Raises ``ProtocolError``: the round-number message of ``parse_round``, "task-… has 3 rounds,
    got round 4"; ``NotFoundError`` "round 2 of task-… has not been opened".
    """
    number = parse_round(round_text)
    if number > task.rounds:
        raise ProtocolError(f"{task.id} has {task.rounds} rounds, got round {number}")
    return await load(
        ctx,
        RoundRecord,
        key(ROUND_TYPE, task.id, number),
        f"round {number} of {task.id} has not been opened",
    )


async def load_party_part(
    ctx: TransactionContext, object_type: str, what: str, task_id: str, round_text: str, party: str
) -> bytes:
    """Return the bytes ``party`` stored as ``object_type`` for a round: a Get's whole answer.

    Raises what ``load_task`` and ``load_round`` raise, ``parse_party_id``'s ``ProtocolError``,
    and ``NotFoundError`` "no <what> from X for round 2 of task-…" when ``party`` stored none.
    """
    task = await load_task(ctx, task_id)
    record = await load_round(ctx, task, round_text)
    parse_party_id(party)
    return await load_bytes(
        ctx,
        key(object_type, task_id, record.round, party),
        f"no {what} from {party} for round {record.round} of {task_id}",
    )


def is_past(timestamp: TxTimestamp, deadline: int) -> bool:
    """True when the transaction timestamp is after second ``deadline`` (deadline itself is on
    time, the first nanosecond after it is late)."""
    return timestamp > TxTimestamp(deadline, 0)


def end_round(ctx: TransactionContext, task: TaskRecord, ended: RoundRecord) -> dict[str, Any]:
    """Follow a round that this transaction decided or failed: open the next one, or finish.

    The next round opens in the same transaction, from the last accepted round (this one if it
    was accepted), with its deadline counted from now, so no separate OpenRound costs a commit
    between rounds. After the last round the task is finished instead. Returns the fields the
    transaction's event adds: ``task_status`` and ``next_round`` (None after the last round).
    """
    now = ctx.tx_timestamp.seconds
    if ended.round == task.rounds:
        put_task(ctx, dataclasses.replace(task, status=TASK_FINISHED, finished_at=now))
        return {"task_status": TASK_FINISHED, "next_round": None}
    base = ended.round if ended.status == ROUND_ACCEPTED else ended.base_round
    put_round(ctx, opened_round(ctx, task, ended.round + 1, base))
    return {"task_status": task.status, "next_round": ended.round + 1}


def opened_round(ctx: TransactionContext, task: TaskRecord, number: int, base: int) -> RoundRecord:
    """The record of round ``number`` opening now from round ``base``'s global model."""
    now = ctx.tx_timestamp.seconds
    return RoundRecord(
        task_id=task.id,
        round=number,
        status=ROUND_OPEN,
        base_round=base,
        opened_at=now,
        opened_tx=ctx.tx_id,
        deadline=now + task.round_seconds,
        high_water=now,
    )
