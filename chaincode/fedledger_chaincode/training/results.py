"""RoundResult: ReportResult records each contributor's outcome and decides a round by majority.

Every contributor to a closed round, once at least t (verified) decryption shares are in, reports
what it derived: the SHA-256 of the new global weights with its accuracy on its own validation
data and its accuracy of the round's base model on the same data, or that the aggregate did not
decode (with the reason). Every report is stored. The report that gives one outcome a strict
majority of the round's contributors decides (``fedledger.protocol.rounds.majority_outcome``):

- a weights digest: the acceptance rule runs over the majority's paired gains (accuracy minus
  base accuracy, each reporter against itself), integers only (``fedledger.protocol.rounds.
  decide``: rejected when the lower median gain is below minus the task's tolerance) — accepted
  or rejected. The result also keeps the majority's lower median accuracy;
- "undecodable": the round fails with the reason (a contributor submitted values beyond the
  encoding's bounds); the next round starts from the last accepted weights.

The decision names the dissenters (contributors that reported another outcome). A report after
the decision is refused (the round is no longer closed); a round that reaches no majority by its
decision deadline is failed by FailRound (``failures.py``) with the tally. The transaction that
decides or fails a round opens the next one (``training_state.end_round``), or finishes the task
after its last round. The base round is always an accepted round (or 0): a rejected or failed
round's base is carried forward.
"""

from __future__ import annotations

import dataclasses

from fedledger.protocol import events
from fedledger.protocol.canonical import dumps
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.round_records import ReportRecord, RoundRecord, RoundResult, ShareSummary
from fedledger.protocol.round_requests import parse_result_request
from fedledger.protocol.rounds import (
    ACCURACY_REPORT_TYPE,
    DECRYPTION_SHARE_TYPE,
    OUTCOME_UNDECODABLE,
    ROUND_CLOSED,
    ROUND_FAILED,
    ROUND_TYPE,
    decide,
    lower_median,
    majority_outcome,
)
from fedledger.protocol.task_records import TaskRecord
from fedledger_chaincode.core.context import TransactionContext
from fedledger_chaincode.core.router import Router
from fedledger_chaincode.training.state import (
    check_high_water,
    end_round,
    key,
    participant_round,
    put_record,
    put_round,
    read_range,
)

__all__ = ["register", "tally_text"]


def tally_text(reports: list[ReportRecord]) -> str:
    """Return the votes per outcome as a short text, e.g. "3f2a9c…: 1, undecodable: 1"."""
    tally: dict[str, int] = {}
    for report in reports:
        outcome = report.outcome
        label = outcome if outcome == OUTCOME_UNDECODABLE else outcome[:12] + "…"
        tally[label] = tally.get(label, 0) + 1
    return ", ".join(f"{label}: {votes}" for label, votes in sorted(tally.items())) or "none"


async def _base_median(ctx: TransactionContext, task_id: str, base_round: int) -> int:
    if base_round == 0:
        return 0
    base = RoundRecord.from_bytes(await ctx.get_state(key(ROUND_TYPE, task_id, base_round)))
    if base.result is None:  # pragma: no cover - a base round is always an accepted round
        raise ProtocolError(f"round {base_round} of {task_id} has no result")
    return base.result.median_bp


async def _decide(
    ctx: TransactionContext,
    task: TaskRecord,
    record: RoundRecord,
    reports: list[ReportRecord],
    winner: str,
) -> RoundRecord:
    """Write the round decided by ``winner`` (and the finished task); return the round record."""
    task_id, number, now = task.id, record.round, ctx.tx_timestamp.seconds
    majority = [r for r in reports if r.outcome == winner]
    dissent = {r.party: r.outcome for r in reports if r.outcome != winner}
    contributors = len(record.aggregate.contributors) if record.aggregate else 0
    if winner == OUTCOME_UNDECODABLE:
        reason = (
            f"the aggregate does not decode, as {len(majority)} of {contributors} contributors "
            f"reported: {majority[0].decode_error}"
        )
        decided = dataclasses.replace(
            record, status=ROUND_FAILED, failed_at=now, failed_tx=ctx.tx_id, reason=reason,
            dissent=dissent, high_water=now,
        )  # fmt: skip
        put_round(ctx, decided)
        event = {"task_id": task_id, "round": number, "reason": reason,
                 **end_round(ctx, task, decided)}  # fmt: skip
        ctx.set_event(events.ROUND_FAILED, dumps(event))
        return decided
    base_median = await _base_median(ctx, task_id, record.base_round)
    accuracies = {r.party: r.accuracy_bp for r in majority if r.accuracy_bp is not None}
    gains = {
        r.party: r.accuracy_bp - r.base_accuracy_bp
        for r in majority
        if r.accuracy_bp is not None and r.base_accuracy_bp is not None
    }
    status, median_gain = decide(list(gains.values()), task.tolerance_bp)
    result = RoundResult(
        weights_hash=winner,
        median_bp=lower_median(list(accuracies.values())),
        base_median_bp=base_median,
        median_gain_bp=median_gain,
        accuracies=accuracies,
        gains=gains,
        decided_at=now,
        decided_tx=ctx.tx_id,
    )
    decided = dataclasses.replace(
        record, status=status, result=result, dissent=dissent, high_water=now
    )
    put_round(ctx, decided)
    event = {
        "task_id": task_id,
        "round": number,
        "status": status,
        "median_bp": result.median_bp,
        "median_gain_bp": median_gain,
        "weights_hash": winner,
        "dissent": sorted(dissent),
        **end_round(ctx, task, decided),
    }
    ctx.set_event(events.ROUND_DECRYPTED, dumps(event))
    return decided


async def _check_reportable(
    ctx: TransactionContext, task: TaskRecord, record: RoundRecord, party: str
) -> str:
    """Check the round accepts ``party``'s report now; return its state key."""
    task_id, number = task.id, record.round
    where = f"round {number} of {task_id}"
    if record.status != ROUND_CLOSED or record.aggregate is None:
        raise ProtocolError(
            f"{where} is {record.status}; results are accepted only while it is closed"
        )
    if party not in record.aggregate.contributors:
        raise ProtocolError(f"party {party} did not contribute to {where}")
    check_high_water(ctx, record)
    shares = len(await read_range(ctx, ShareSummary, DECRYPTION_SHARE_TYPE, task_id, number))
    if shares < task.threshold:
        raise ProtocolError(
            f"{where} has {shares} of the {task.threshold} decryption shares it needs; "
            f"report a result once they are in"
        )
    state_key = key(ACCURACY_REPORT_TYPE, task_id, number, party)
    if await ctx.get_state(state_key):
        raise ProtocolError(f"party {party} already reported a result for {where}")
    return state_key


async def report_result(
    ctx: TransactionContext, task_id: str, round_number: str, result_json: str
) -> bytes:
    """ReportResult: record the creator's outcome; the report that makes a majority decides.

    Returns ``{"report": ReportRecord, "round": <round record after this transaction>}``.
    Raises ``ProtocolError`` for malformed JSON, a non-contributor, a round that is not closed,
    fewer than t shares, a second report, or a timestamp before the round's high-water mark.
    """
    request = parse_result_request(result_json, "argument 3")
    party, task, record = await participant_round(ctx, task_id, round_number)
    state_key = await _check_reportable(ctx, task, record, party)
    number = record.round
    reports = await read_range(ctx, ReportRecord, ACCURACY_REPORT_TYPE, task_id, number)
    report = ReportRecord(
        task_id, number, party, request.weights_hash, request.accuracy_bp,
        request.base_accuracy_bp, request.decode_error, ctx.tx_timestamp.seconds, ctx.tx_id,
    )  # fmt: skip
    put_record(ctx, state_key, report)
    reports = sorted([*reports, report], key=lambda r: r.party)
    contributors = len(record.aggregate.contributors) if record.aggregate else 0
    winner = majority_outcome({r.party: r.outcome for r in reports}, contributors)
    if winner is not None:
        record = await _decide(ctx, task, record, reports, winner)
    else:
        event = {"task_id": task_id, "round": number, "party": party, "reported": len(reports),
                 "contributors": contributors}  # fmt: skip
        ctx.set_event(events.RESULT_REPORTED, dumps(event))
    return dumps({"report": report.to_dict(), "round": record.to_dict()})


def register(router: Router) -> None:
    """Route the result transaction."""
    router.add_object_type(ACCURACY_REPORT_TYPE)
    router.add("ReportResult", report_result)
