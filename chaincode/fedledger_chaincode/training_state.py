"""State access shared by the training transactions: keys, loaders and the checks they all make.

Keys are Fabric composite keys (object types in ``fedledger.protocol.rounds``); a round number is
six zero-padded digits so that a range read returns rounds, and parties within a round, in order.
Every loader raises ``ProtocolError`` with the message the client sees.
"""

from __future__ import annotations

import json
from typing import Any

from fedledger.protocol.canonical import dumps
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.rounds import ROUND_TYPE, parse_round, round_key
from fedledger.protocol.training import (
    TASK_ACTIVE,
    TASK_FINISHED,
    TASK_SUMMARY_TYPE,
    TASK_TYPE,
    parse_task_id,
    task_summary,
)
from fedledger_chaincode.context import (
    TransactionContext,
    TxTimestamp,
    create_composite_key,
    load_record,
)
from fedledger_chaincode.parties import require_registered_caller

__all__ = [
    "caller_party",
    "check_high_water",
    "declared_samples",
    "finish_if_last",
    "is_past",
    "key",
    "load_round",
    "load_task",
    "participant_ids",
    "put_record",
    "put_task",
    "read_records",
    "require_active",
    "require_participant",
    "require_steward",
    "task_key",
]


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


def put_task(ctx: TransactionContext, record: dict[str, Any]) -> bytes:
    """Write a task and its summary (what listings read); return the task's bytes."""
    put_record(ctx, key(TASK_SUMMARY_TYPE, record["id"]), task_summary(record))
    return put_record(ctx, task_key(record["id"]), record)


def put_record(ctx: TransactionContext, state_key: str, record: dict[str, Any]) -> bytes:
    """Write ``record`` as canonical JSON under ``state_key``; return the bytes written."""
    payload = dumps(record)
    ctx.put_state(state_key, payload)
    return payload


async def read_records(
    ctx: TransactionContext, object_type: str, task: str, number: int
) -> list[dict[str, Any]]:
    """Return the records of (object_type, task, round, *) in key order, i.e. by party id."""
    entries = await ctx.get_range(object_type, (task, round_key(number)))
    return [json.loads(value) for _, value in entries]


async def caller_party(ctx: TransactionContext) -> str:
    """Return the registered creator's party id (raises as ``require_registered_caller``)."""
    party: dict[str, Any] = await require_registered_caller(ctx)
    return str(party["id"])


async def load_task(ctx: TransactionContext, task: str) -> dict[str, Any]:
    """Return the stored task; raises "task task-… does not exist" or a malformed-id message."""
    parse_task_id(task)
    return await load_record(ctx, task_key(task), f"task {task} does not exist")


def participant_ids(task: dict[str, Any]) -> list[str]:
    """Return the task's participant party ids in the proposed order."""
    return [entry["party"] for entry in task["participants"]]


def require_participant(task: dict[str, Any], party: str) -> None:
    """Raise "party X is not a participant of task-…" unless ``party`` is listed."""
    if party not in participant_ids(task):
        raise ProtocolError(f"party {party} is not a participant of {task['id']}")


def require_steward(task: dict[str, Any], party: str, action: str) -> None:
    """Raise unless ``party`` is a participant or the proposer of ``task``.

    Only they may fail a round, or close one before everybody submitted: an outsider could
    otherwise cut a round short with a timestamp forged within the peers' time window.
    """
    if party != task["proposer"] and party not in participant_ids(task):
        raise ProtocolError(
            f"only the participants and the proposer of {task['id']} may {action}; "
            f"{party} is neither"
        )


def declared_samples(task: dict[str, Any], party: str) -> int:
    """Return the sample count the task declares for ``party`` (a participant)."""
    for entry in task["participants"]:
        if entry["party"] == party:
            count: int = entry["samples"]
            return count
    raise ProtocolError(f"party {party} is not a participant of {task['id']}")


def check_high_water(ctx: TransactionContext, record: dict[str, Any], *later: int) -> None:
    """Refuse a transaction stamped before the round's high-water mark.

    The mark is the latest timestamp (whole seconds) of the transactions that moved the round
    (open, close, decide, fail), together with ``later``: timestamps of records the caller has
    read (submissions, shares, reports). Nothing can then claim a time before something the
    ledger already accepted, so a deadline that has visibly passed cannot be un-passed by a
    backdated proposal. Raises ``ProtocolError`` naming both times.
    """
    mark = max([record["high_water"], *later])
    if ctx.tx_timestamp.seconds < mark:
        raise ProtocolError(
            f"the transaction timestamp {ctx.tx_timestamp.seconds} is before the high-water mark "
            f"{mark} of round {record['round']} of {record['task_id']}: a later time was already "
            "accepted for it"
        )


def require_active(task: dict[str, Any]) -> None:
    """Raise "task-… is proposed, not active" (or "finished, not active") unless it is active."""
    if task["status"] != TASK_ACTIVE:
        raise ProtocolError(f"{task['id']} is {task['status']}, not active")


async def load_round(
    ctx: TransactionContext, task: dict[str, Any], round_text: str
) -> dict[str, Any]:
    """Return the stored round ``round_text`` of ``task``.

    Raises ``ProtocolError``: the round-number message of ``parse_round``, "task-… has 3 rounds,
    got round 4", "round 2 of task-… has not been opened".
    """
    number = parse_round(round_text)
    if number > task["rounds"]:
        raise ProtocolError(f"{task['id']} has {task['rounds']} rounds, got round {number}")
    return await load_record(
        ctx,
        key(ROUND_TYPE, task["id"], number),
        f"round {number} of {task['id']} has not been opened",
    )


def is_past(timestamp: TxTimestamp, deadline: int) -> bool:
    """True when the transaction timestamp is after second ``deadline`` (deadline itself is on
    time, the first nanosecond after it is late)."""
    return timestamp > TxTimestamp(deadline, 0)


def finish_if_last(ctx: TransactionContext, task: dict[str, Any], number: int) -> str:
    """Finish ``task`` when round ``number``, just decided or failed, is its last round.

    Writes the finished task (status "finished", ``finished_at`` the transaction's second) only in
    that case. Returns the task's status after this transaction.
    """
    if number != task["rounds"]:
        return str(task["status"])
    finished = {**task, "status": TASK_FINISHED, "finished_at": ctx.tx_timestamp.seconds}
    put_task(ctx, finished)
    return TASK_FINISHED
