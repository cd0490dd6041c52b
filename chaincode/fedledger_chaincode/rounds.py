"""Round transactions: OpenRound, CloseRound (the homomorphic aggregation), and round queries.

A round opens only after the previous one was decided (accepted or rejected) or failed
(FailRound, ``failures.py``), so rounds run one at a time and ``base_round`` — the last accepted
round, 0 for the initial weights — says which global weights its updates start from. CloseRound
lists the round's submissions with a composite-key range over their summaries (phantom-protected:
a submission racing the close conflicts with it), reads each vector by its own key, and
multiplies them in party-id order, so every endorsing peer computes the same bytes.

Time: a round records a high-water mark (``high_water``), the latest timestamp of the
transactions that moved it; see ``training_state.check_high_water``. Closing before every
participant submitted is for the task's participants and proposer only, since its only
justification is a deadline that a client's timestamp claims has passed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fedledger.protocol.canonical import dumps
from fedledger.protocol.ciphervec import CipherVector, homomorphic_sum
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.rounds import (
    ACCURACY_REPORT_TYPE,
    AGGREGATE_TYPE,
    DECRYPTION_SHARE_TYPE,
    MODEL_WEIGHTS_TYPE,
    ROUND_ACCEPTED,
    ROUND_CLOSED,
    ROUND_FAILED,
    ROUND_OPEN,
    ROUND_REJECTED,
    ROUND_TYPE,
    UPDATE_TYPE,
    UPDATE_VECTOR_TYPE,
    parse_round,
)
from fedledger_chaincode.context import TransactionContext, load_record
from fedledger_chaincode.router import Router
from fedledger_chaincode.training_state import (
    caller_party,
    check_high_water,
    is_past,
    key,
    load_round,
    load_task,
    put_record,
    read_records,
    require_active,
    require_steward,
)

__all__ = ["register"]

OPENED = "RoundOpened"
CLOSED = "RoundClosed"
# Final states: a failed round counts like a rejected one, its base carries forward.
_FINAL = (ROUND_ACCEPTED, ROUND_REJECTED, ROUND_FAILED)


async def _base_round(ctx: TransactionContext, task: dict[str, Any], number: int) -> int:
    """Check that round ``number`` may open now; return the round its updates start from."""
    task_id = task["id"]
    if await ctx.get_state(key(ROUND_TYPE, task_id, number)):
        raise ProtocolError(f"round {number} of {task_id} was already opened")
    if number == 1:
        if not await ctx.get_state(key(MODEL_WEIGHTS_TYPE, task_id)):
            raise ProtocolError(
                f"round 1 of {task_id} cannot open before the initial weights are stored "
                f"(PutModelWeights)"
            )
        return 0
    previous = await load_record(
        ctx,
        key(ROUND_TYPE, task_id, number - 1),
        f"round {number} of {task_id} cannot open before round {number - 1}",
    )
    if previous["status"] not in _FINAL:
        raise ProtocolError(
            f"round {number} of {task_id} cannot open while round {number - 1} is "
            f"{previous['status']}; it must be accepted, rejected or failed first"
        )
    check_high_water(ctx, previous)
    if previous["status"] == ROUND_ACCEPTED:
        return number - 1
    base: int = previous["base_round"]
    return base


async def open_round(ctx: TransactionContext, task_id: str, round_number: str) -> bytes:
    """OpenRound: open round ``round_number`` of an active task; its proposer only.

    Returns the stored round record. Raises ``ProtocolError`` for a wrong caller, an inactive
    task, a round out of range or out of order, or round 1 before the initial weights.
    """
    party = await caller_party(ctx)
    task = await load_task(ctx, task_id)
    if party != task["proposer"]:
        raise ProtocolError(f"only the proposer {task['proposer']} of {task_id} may open rounds")
    require_active(task)
    number = parse_round(round_number)
    if number > task["rounds"]:
        raise ProtocolError(f"{task_id} has {task['rounds']} rounds, got round {number}")
    base_round = await _base_round(ctx, task, number)
    opened_at = ctx.tx_timestamp.seconds
    record = {
        "task_id": task_id,
        "round": number,
        "status": ROUND_OPEN,
        "base_round": base_round,
        "opened_at": opened_at,
        "opened_tx": ctx.tx_id,
        "deadline": opened_at + task["round_seconds"],
        "high_water": opened_at,
        "closed_at": None,
        "closed_tx": None,
        "aggregate": None,
        "result": None,
    }
    payload = put_record(ctx, key(ROUND_TYPE, task_id, number), record)
    event = {"task_id": task_id, "round": number, "deadline": record["deadline"],
             "base_round": base_round}  # fmt: skip
    ctx.set_event(OPENED, dumps(event))
    return payload


def _check_closable(task: dict[str, Any], record: dict[str, Any], count: int, late: bool) -> None:
    where = f"round {record['round']} of {task['id']}"
    expected = len(task["participants"])
    if count == expected:
        return
    if not late:
        raise ProtocolError(
            f"{where} cannot close yet: {count} of {expected} participants submitted and the "
            f"deadline {record['deadline']} has not passed"
        )
    if count < task["quorum"]:
        raise ProtocolError(
            f"{where} cannot close: the deadline {record['deadline']} has passed with {count} of "
            f"{expected} participants submitted, fewer than the quorum {task['quorum']}"
        )


async def _vectors(
    ctx: TransactionContext, task_id: str, number: int, parties: list[str]
) -> list[CipherVector]:
    """Read the submitted vectors one key at a time (each read is one bounded message)."""
    vectors = []
    for party in parties:
        stored = json.loads(await ctx.get_state(key(UPDATE_VECTOR_TYPE, task_id, number, party)))
        vectors.append(CipherVector.from_base64(stored["vector"]))
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
    number = record["round"]
    if record["status"] != ROUND_OPEN:
        raise ProtocolError(f"round {number} of {task_id} is {record['status']}, not open")
    updates = await read_records(ctx, UPDATE_TYPE, task_id, number)
    if len(updates) < len(task["participants"]):
        require_steward(task, party, "close a round before every participant submitted")
    _check_closable(task, record, len(updates), is_past(ctx.tx_timestamp, record["deadline"]))
    check_high_water(ctx, record, *(u["submitted_at"] for u in updates))
    n = int(task["public_key"]["n"])
    contributors = [u["party"] for u in updates]
    total = homomorphic_sum(await _vectors(ctx, task_id, number, contributors), n)
    raw = total.to_bytes()
    aggregate = {
        "digest": hashlib.sha256(raw).hexdigest(),
        "size": len(raw),
        "contributors": contributors,
        "total_samples": sum(u["samples"] for u in updates),
    }
    closed = {"closed_at": ctx.tx_timestamp.seconds, "closed_tx": ctx.tx_id}
    put_record(
        ctx,
        key(AGGREGATE_TYPE, task_id, number),
        {"task_id": task_id, "round": number, **aggregate, **closed, "vector": total.to_base64()},
    )
    record = {**record, **closed, "status": ROUND_CLOSED, "aggregate": aggregate,
              "high_water": ctx.tx_timestamp.seconds}  # fmt: skip
    payload = put_record(ctx, key(ROUND_TYPE, task_id, number), record)
    ctx.set_event(CLOSED, dumps({"task_id": task_id, "round": number, **aggregate}))
    return payload


async def get_round(ctx: TransactionContext, task_id: str, round_number: str) -> bytes:
    """GetRound: the round record plus what has been submitted to it so far (no vectors).

    Returns the record with ``"submissions": [{"party", "samples", "size", "digest",
    "submitted_at"}]``, ``"shares": [party ids]`` and ``"reports": [{"party", "weights_hash",
    "accuracy_bp", "reported_at"}]``, each in party-id order.
    """
    task = await load_task(ctx, task_id)
    record = await load_round(ctx, task, round_number)
    number = record["round"]
    updates = await read_records(ctx, UPDATE_TYPE, task_id, number)
    shares = await read_records(ctx, DECRYPTION_SHARE_TYPE, task_id, number)
    reports = await read_records(ctx, ACCURACY_REPORT_TYPE, task_id, number)
    submission_fields = ("party", "samples", "size", "digest", "submitted_at")
    report_fields = ("party", "weights_hash", "accuracy_bp", "decode_error", "reported_at")
    return dumps(
        {
            **record,
            "submissions": [{f: u[f] for f in submission_fields} for u in updates],
            "shares": [s["party"] for s in shares],
            "reports": [{f: r[f] for f in report_fields} for r in reports],
        }
    )


async def list_rounds(ctx: TransactionContext, task_id: str) -> bytes:
    """ListRounds: a JSON array of the task's round records, in round order."""
    await load_task(ctx, task_id)
    entries = await ctx.get_range(ROUND_TYPE, (task_id,))
    return dumps([json.loads(value) for _, value in entries])


async def get_aggregate(ctx: TransactionContext, task_id: str, round_number: str) -> bytes:
    """GetAggregate: the stored aggregate with its ``"vector"`` (base64 cipher vector).

    Raises ``ProtocolError`` "round 2 of task-… has no aggregate yet; it is open".
    """
    task = await load_task(ctx, task_id)
    record = await load_round(ctx, task, round_number)
    stored = await ctx.get_state(key(AGGREGATE_TYPE, task_id, record["round"]))
    if not stored:
        raise ProtocolError(
            f"round {record['round']} of {task_id} has no aggregate yet; it is {record['status']}"
        )
    return stored


def register(router: Router) -> None:
    """Route the round transactions."""
    router.add_object_type(ROUND_TYPE)
    router.add_object_type(AGGREGATE_TYPE)
    router.add("OpenRound", open_round)
    router.add("CloseRound", close_round)
    router.add("GetRound", get_round)
    router.add("ListRounds", list_rounds)
    router.add("GetAggregate", get_aggregate)
