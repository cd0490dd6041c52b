"""TrainingTask transactions: ProposeTask, ApproveTask, GetTask, ListTasks.

A task is proposed by a registered party (its coordinator and key dealer) and becomes active only
when every listed participant has approved it: initialisation by consensus. Approvals live in the
task record, so two approvals in one block conflict (MVCC) and the later one is resubmitted by its
client; that keeps "the last approval activates the task" exact.
"""

from __future__ import annotations

import json
from typing import Any

from fedledger.protocol.assets import parse_party_id
from fedledger.protocol.canonical import dumps
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.training import (
    TASK_ACTIVE,
    TASK_PROPOSED,
    TASK_TYPE,
    parse_task_request,
    task_id,
    task_record,
)
from fedledger_chaincode.context import TransactionContext, load_record
from fedledger_chaincode.parties import party_key
from fedledger_chaincode.router import Router
from fedledger_chaincode.training_state import (
    caller_party,
    load_task,
    participant_ids,
    put_record,
    require_participant,
    task_key,
)

__all__ = ["register"]

PROPOSED = "TaskProposed"
APPROVED = "TaskApproved"
ACTIVATED = "TaskActivated"


async def _require_trainer(ctx: TransactionContext, party: str) -> None:
    record = await load_record(
        ctx, party_key(*parse_party_id(party)), f"participant {party} is not a registered party"
    )
    if "trainer" not in record["roles"]:
        raise ProtocolError(f"participant {party} does not have the trainer role")


async def propose_task(ctx: TransactionContext, task_json: str) -> bytes:
    """ProposeTask: store a new task proposed by the creator, status "proposed".

    Returns the stored TrainingTask. Raises ``ProtocolError`` for a malformed request, an
    unregistered caller, a participant that is not a registered trainer, or an existing id.
    """
    request = parse_task_request(task_json, "argument 1")
    proposer = await caller_party(ctx)
    for party, _ in request.participants:
        await _require_trainer(ctx, party)
    new_id = task_id(ctx.tx_id)
    if await ctx.get_state(task_key(new_id)):
        raise ProtocolError(f"task {new_id} already exists")
    record = task_record(
        request, task=new_id, proposer=proposer, at=ctx.tx_timestamp.seconds, tx_id=ctx.tx_id
    )
    payload = put_record(ctx, task_key(new_id), record)
    event = {"task_id": new_id, "proposer": proposer, "participants": participant_ids(record)}
    ctx.set_event(PROPOSED, dumps(event))
    return payload


async def approve_task(ctx: TransactionContext, task: str) -> bytes:
    """ApproveTask: record the creator's approval; the last one activates the task.

    Returns the stored TrainingTask. Raises ``ProtocolError``: "task-… is active; only a proposed
    task can be approved", "party X is not a participant of task-…", "party X already approved
    task-…".
    """
    party = await caller_party(ctx)
    record = await load_task(ctx, task)
    if record["status"] != TASK_PROPOSED:
        raise ProtocolError(f"{task} is {record['status']}; only a proposed task can be approved")
    require_participant(record, party)
    if party in record["approvals"]:
        raise ProtocolError(f"party {party} already approved {task}")
    approvals = sorted([*record["approvals"], party])
    record = {**record, "approvals": approvals}
    expected = len(record["participants"])
    if len(approvals) == expected:
        record.update(status=TASK_ACTIVE, activated_at=ctx.tx_timestamp.seconds)
    payload = put_record(ctx, task_key(task), record)
    event = {"task_id": task, "party": party, "approved": len(approvals), "participants": expected}
    ctx.set_event(ACTIVATED if len(approvals) == expected else APPROVED, dumps(event))
    return payload


async def get_task(ctx: TransactionContext, task: str) -> bytes:
    """GetTask: return the stored TrainingTask; raises "task task-… does not exist"."""
    return dumps(await load_task(ctx, task))


async def list_tasks(ctx: TransactionContext) -> bytes:
    """ListTasks: return a JSON array of every TrainingTask in id order."""
    entries = await ctx.get_range(TASK_TYPE, ())
    records: list[dict[str, Any]] = [json.loads(value) for _, value in entries]
    return dumps(records)


def register(router: Router) -> None:
    """Route the task transactions."""
    router.add_object_type(TASK_TYPE)
    router.add("ProposeTask", propose_task)
    router.add("ApproveTask", approve_task)
    router.add("GetTask", get_task)
    router.add("ListTasks", list_tasks)
