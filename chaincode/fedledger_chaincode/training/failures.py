"""FailRound: mark a round failed once it can no longer succeed, so no round stalls for ever.

Without it a round whose participants crashed would block the task: an open round past its
deadline with fewer than the quorum of updates can never close, and a closed round whose
decryption shares or reports never reach a majority is never decided, so the next round can
never open. The task's participants and its proposer (nobody else: the only evidence is the
caller's own timestamp, and an outsider could otherwise fail rounds at will within the peers'
time window) may fail such a round, and only such a round:

- open, the transaction timestamp past the round's deadline, fewer than ``quorum`` updates;
- closed and still undecided, the timestamp past the round's decision deadline
  (``fedledger.protocol.rounds.decision_deadline``: its deadline plus the task's round_seconds):
  too few shares, or no outcome reported by a majority of contributors (a tie, a split, or
  reports withheld). The reason names what was missing and the tally of the reports.

The timestamp must not be before the round's high-water mark, nor before the latest update,
share or report the check reads, so a round cannot be failed "in the past".

A failed round is final like a rejected one: the same transaction opens the next round from the
same base (``training_state.end_round``), or finishes the task after its last round. The checks
read the round's updates, shares and reports by range and the transaction rewrites the round
record, so on Fabric a FailRound racing a late CloseRound, share or report in the same block
conflicts with it and only one commits.
"""

from __future__ import annotations

import dataclasses

from fedledger.protocol import events
from fedledger.protocol.canonical import dumps
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.round_records import ReportRecord, RoundRecord, ShareSummary, UpdateSummary
from fedledger.protocol.rounds import (
    ACCURACY_REPORT_TYPE,
    DECRYPTION_SHARE_TYPE,
    ROUND_CLOSED,
    ROUND_FAILED,
    ROUND_OPEN,
    UPDATE_TYPE,
    decision_deadline,
)
from fedledger.protocol.task_records import TaskRecord
from fedledger_chaincode.core.context import TransactionContext
from fedledger_chaincode.core.router import Router
from fedledger_chaincode.training.results import tally_text
from fedledger_chaincode.training.state import (
    caller_party,
    check_high_water,
    end_round,
    is_past,
    load_round,
    load_task,
    put_round,
    read_range,
    require_steward,
)

__all__ = ["register"]


async def _open_round_reason(ctx: TransactionContext, task: TaskRecord, record: RoundRecord) -> str:
    """Return why the open ``record`` fails, or raise why it may still close."""
    where = f"round {record.round} of {task.id}"
    deadline = record.deadline
    if not is_past(ctx.tx_timestamp, deadline):
        raise ProtocolError(f"{where} cannot fail: its deadline {deadline} has not passed")
    updates = await read_range(ctx, UpdateSummary, UPDATE_TYPE, task.id, record.round)
    check_high_water(ctx, record, *(u.submitted_at for u in updates))
    count, expected, quorum = len(updates), len(task.participants), task.quorum
    if count >= quorum:
        raise ProtocolError(
            f"{where} cannot fail: {count} of {expected} participants submitted, at least the "
            f"quorum {quorum}; close it instead"
        )
    return (
        f"the deadline {deadline} passed with {count} of {expected} participants submitted, "
        f"fewer than the quorum {quorum}"
    )


async def _closed_round_reason(
    ctx: TransactionContext, task: TaskRecord, record: RoundRecord
) -> str:
    """Return why the closed ``record`` fails, or raise because it may still be decided."""
    task_id, number = task.id, record.round
    due = decision_deadline(record.deadline, task.round_seconds)
    if not is_past(ctx.tx_timestamp, due):
        raise ProtocolError(
            f"round {number} of {task_id} cannot fail before its decision deadline {due} (its "
            f"deadline {record.deadline} plus the task's round_seconds {task.round_seconds})"
        )
    shares = await read_range(ctx, ShareSummary, DECRYPTION_SHARE_TYPE, task_id, number)
    reports = await read_range(ctx, ReportRecord, ACCURACY_REPORT_TYPE, task_id, number)
    stamps = [s.submitted_at for s in shares] + [r.reported_at for r in reports]
    check_high_water(ctx, record, *stamps)
    if len(shares) < task.threshold:
        return (
            f"the decision deadline {due} passed with {len(shares)} of the {task.threshold} "
            f"decryption shares it needs"
        )
    contributors = len(record.aggregate.contributors) if record.aggregate else 0
    return (
        f"the decision deadline {due} passed with no outcome reported by a majority of the "
        f"{contributors} contributors ({len(reports)} reported; {tally_text(reports)})"
    )


async def fail_round(ctx: TransactionContext, task_id: str, round_number: str) -> bytes:
    """FailRound: mark a round that can no longer succeed "failed"; participants and proposer.

    Returns the stored round record (status "failed", with ``failed_at``, ``failed_tx`` and
    ``reason``) and emits "RoundFailed" ``{"task_id", "round", "reason", "task_status",
    "next_round"}``. Raises
    ``ProtocolError`` when the caller is neither a participant nor the proposer, the round is
    decided already, its deadline (open) or decision deadline (closed) has not passed, or an
    open round has the quorum and should be closed instead.
    """
    party = await caller_party(ctx)
    task = await load_task(ctx, task_id)
    require_steward(task, party, "fail a round")
    record = await load_round(ctx, task, round_number)
    number, status = record.round, record.status
    if status == ROUND_OPEN:
        reason = await _open_round_reason(ctx, task, record)
    elif status == ROUND_CLOSED:
        reason = await _closed_round_reason(ctx, task, record)
    else:
        raise ProtocolError(
            f"round {number} of {task_id} is {status}; only an undecided round can fail"
        )
    now = ctx.tx_timestamp.seconds
    failed = dataclasses.replace(
        record, status=ROUND_FAILED, failed_at=now, failed_tx=ctx.tx_id, reason=reason,
        high_water=now,
    )  # fmt: skip
    payload = put_round(ctx, failed)
    event = {"task_id": task_id, "round": number, "reason": reason,
             **end_round(ctx, task, failed)}  # fmt: skip
    ctx.set_event(events.ROUND_FAILED, dumps(event))
    return payload


def register(router: Router) -> None:
    """Route the round-failure transaction."""
    router.add("FailRound", fail_round)
