"""TrainingTask transactions: ProposeTask, ApproveTask, GetTask, ListTasks.

A task is proposed by a registered party (its coordinator and key dealer) and becomes active only
when every listed participant has approved it: initialisation by consensus. Approvals live in the
task record, so two approvals in one block conflict (MVCC) and the later one is resubmitted by its
client; that keeps "the last approval activates the task" exact. ProposeTask enforces the bounds
of ``fedledger.protocol.training`` (threshold ≥ 2, threshold data matching the key and the
participants, rounds of at least five peer time windows, a bounded round size); whom to trust as
a proposer is each participant's own decision, made before it approves.

Listings read TaskSummary records one page at a time; TaskIndex keys (participant, task) let a
participant list only the tasks that name it.
"""

from __future__ import annotations

import dataclasses
import json

from fedledger.protocol.assets import parse_party_id
from fedledger.protocol.canonical import dumps
from fedledger.protocol.errors import NotFoundError, ProtocolError
from fedledger.protocol.events import TASK_ACTIVATED, TASK_APPROVED, TASK_PROPOSED
from fedledger.protocol.task_records import TaskSummary, task_record
from fedledger.protocol.task_requests import parse_task_listing, parse_task_request
from fedledger.protocol.training import (
    TASK_ACTIVE,
    TASK_INDEX_TYPE,
    TASK_SUMMARY_TYPE,
    TASK_TYPE,
    task_id,
)
from fedledger.protocol.training import (
    TASK_PROPOSED as STATUS_PROPOSED,
)
from fedledger_chaincode.core.context import TransactionContext, create_composite_key, load_record
from fedledger_chaincode.core.parties import party_key
from fedledger_chaincode.core.router import Router
from fedledger_chaincode.training.state import (
    caller_party,
    load_task,
    put_task,
    require_participant,
    task_key,
)

__all__ = ["register"]


async def _require_trainer(ctx: TransactionContext, party: str) -> None:
    try:
        record = await load_record(
            ctx, party_key(*parse_party_id(party)), f"participant {party} is not a registered party"
        )
    except NotFoundError as exc:
        raise ProtocolError(str(exc)) from None  # the task is refused, nothing is missing
    if "trainer" not in record["roles"]:
        raise ProtocolError(f"participant {party} does not have the trainer role")


def _index_key(party: str, task: str) -> str:
    return create_composite_key(TASK_INDEX_TYPE, (party, task))


def _summary_key(task: str) -> str:
    return create_composite_key(TASK_SUMMARY_TYPE, (task,))


async def propose_task(ctx: TransactionContext, task_json: str) -> bytes:
    """ProposeTask: store a new task proposed by the creator, status "proposed".

    Returns the stored TrainingTask. Raises ``ProtocolError`` for a malformed request, an
    unregistered caller, a participant that is not a registered trainer, or an existing id.
    """
    request = parse_task_request(
        task_json, "argument 1", min_round_seconds=ctx.config.min_round_seconds
    )
    proposer = await caller_party(ctx)
    for party, _ in request.participants:
        await _require_trainer(ctx, party)
    new_id = task_id(ctx.tx_id)
    if await ctx.get_state(task_key(new_id)):
        raise ProtocolError(f"task {new_id} already exists")
    record = task_record(
        request, task=new_id, proposer=proposer, at=ctx.tx_timestamp.seconds, tx_id=ctx.tx_id
    )
    payload = put_task(ctx, record)
    for party in record.participant_ids:
        index = {"task_id": new_id, "participant": party}
        ctx.put_state(_index_key(party, new_id), dumps(index))
    event = {"task_id": new_id, "proposer": proposer, "participants": list(record.participant_ids)}
    ctx.set_event(TASK_PROPOSED, dumps(event))
    return payload


async def approve_task(ctx: TransactionContext, task: str) -> bytes:
    """ApproveTask: record the creator's approval; the last one activates the task.

    Returns the stored TrainingTask. Raises ``ProtocolError``: "task-… is active; only a proposed
    task can be approved", "party X is not a participant of task-…", "party X already approved
    task-…".
    """
    party = await caller_party(ctx)
    record = await load_task(ctx, task)
    if record.status != STATUS_PROPOSED:
        raise ProtocolError(f"{task} is {record.status}; only a proposed task can be approved")
    require_participant(record, party)
    if party in record.approvals:
        raise ProtocolError(f"party {party} already approved {task}")
    approvals = tuple(sorted([*record.approvals, party]))
    record = dataclasses.replace(record, approvals=approvals)
    expected = len(record.participants)
    if len(approvals) == expected:
        record = dataclasses.replace(
            record, status=TASK_ACTIVE, activated_at=ctx.tx_timestamp.seconds
        )
    payload = put_task(ctx, record)
    event = {"task_id": task, "party": party, "approved": len(approvals), "participants": expected}
    ctx.set_event(TASK_ACTIVATED if len(approvals) == expected else TASK_APPROVED, dumps(event))
    return payload


async def get_task(ctx: TransactionContext, task: str) -> bytes:
    """GetTask: return the stored TrainingTask; raises "task task-… does not exist"."""
    return (await load_task(ctx, task)).to_bytes()


async def list_tasks(ctx: TransactionContext, query_json: str = "{}") -> bytes:
    """ListTasks: one page of task summaries in task-id order, optionally of one participant.

    ``query_json`` is ``{"participant"?, "page_size"? (1..100, default 50), "bookmark"?}``.
    Returns ``{"tasks": [TaskSummary], "bookmark": the last id listed, or null on the last
    page}``. Raises ``ProtocolError`` for a malformed query.
    """
    query = parse_task_listing(query_json, "argument 1")
    limit = query.page_size + 1  # one more tells whether another page follows
    summaries: list[TaskSummary] = []
    if query.participant is None:
        after = None if query.bookmark is None else _summary_key(query.bookmark)
        entries = await ctx.get_range_page(TASK_SUMMARY_TYPE, (), after=after, limit=limit)
        summaries = [TaskSummary.from_bytes(value) for _, value in entries]
    else:
        after = None if query.bookmark is None else _index_key(query.participant, query.bookmark)
        entries = await ctx.get_range_page(
            TASK_INDEX_TYPE, (query.participant,), after=after, limit=limit
        )
        for _, value in entries:
            stored = await ctx.get_state(_summary_key(json.loads(value)["task_id"]))
            summaries.append(TaskSummary.from_bytes(stored))
    page = summaries[: query.page_size]
    more = len(summaries) > query.page_size
    tasks = [summary.to_dict() for summary in page]
    return dumps({"tasks": tasks, "bookmark": page[-1].id if more else None})


def register(router: Router) -> None:
    """Route the task transactions."""
    router.add_object_type(TASK_TYPE)
    router.add_object_type(TASK_SUMMARY_TYPE)
    router.add("ProposeTask", propose_task)
    router.add("ApproveTask", approve_task)
    router.add("GetTask", get_task)
    router.add("ListTasks", list_tasks)
