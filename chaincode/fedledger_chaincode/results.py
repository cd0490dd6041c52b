"""RoundResult: ReportResult records each contributor's accuracy and decides the round.

Every contributor to a closed round, once at least t decryption shares are in, reports the
SHA-256 of the global weights it decrypted and its accuracy on its own validation data. All
reports must name the same weights (a mismatch means a contributor combined differently and is
refused, naming both hashes). The last contributor's report decides, with integers only
(``fedledger.protocol.rounds.decide``): the lower median of the accuracies against the base
round's median (0 for the initial weights) minus the task's tolerance. Deciding the task's last
round finishes the task.

The base round is always an accepted round (or 0): OpenRound carries a rejected or failed round's
base forward, so a failed round (FailRound, ``failures.py``) never serves as a base here.
"""

from __future__ import annotations

import json
from typing import Any

from fedledger.protocol.canonical import dumps
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.rounds import (
    ACCURACY_REPORT_TYPE,
    DECRYPTION_SHARE_TYPE,
    ROUND_CLOSED,
    ROUND_TYPE,
    decide,
    parse_result_request,
)
from fedledger_chaincode.context import TransactionContext
from fedledger_chaincode.router import Router
from fedledger_chaincode.training_state import (
    caller_party,
    finish_if_last,
    key,
    load_round,
    load_task,
    put_record,
    read_records,
    require_participant,
)

__all__ = ["register"]

REPORTED = "ResultReported"
DECRYPTED = "RoundDecrypted"


async def _base_median(ctx: TransactionContext, task_id: str, base_round: int) -> int:
    if base_round == 0:
        return 0
    base: dict[str, Any] = json.loads(await ctx.get_state(key(ROUND_TYPE, task_id, base_round)))
    median: int = base["result"]["median_bp"]
    return median


async def _decide(
    ctx: TransactionContext,
    task: dict[str, Any],
    record: dict[str, Any],
    reports: list[dict[str, Any]],
) -> dict[str, Any]:
    """Write the decided round (and the finished task); return the decided round record."""
    task_id, number = task["id"], record["round"]
    base_median = await _base_median(ctx, task_id, record["base_round"])
    accuracies = {r["party"]: r["accuracy_bp"] for r in reports}
    status, median = decide(list(accuracies.values()), base_median, task["tolerance_bp"])
    result = {
        "weights_hash": reports[0]["weights_hash"],
        "median_bp": median,
        "base_median_bp": base_median,
        "accuracies": accuracies,
        "decided_at": ctx.tx_timestamp.seconds,
        "decided_tx": ctx.tx_id,
    }
    decided = {**record, "status": status, "result": result}
    put_record(ctx, key(ROUND_TYPE, task_id, number), decided)
    task_status = finish_if_last(ctx, task, number)
    event = {"task_id": task_id, "round": number, "status": status, "median_bp": median,
             "weights_hash": result["weights_hash"], "task_status": task_status}  # fmt: skip
    ctx.set_event(DECRYPTED, dumps(event))
    return decided


async def _check_reportable(
    ctx: TransactionContext, task: dict[str, Any], record: dict[str, Any], party: str
) -> str:
    """Check the round accepts ``party``'s report now; return its state key."""
    task_id, number = task["id"], record["round"]
    where = f"round {number} of {task_id}"
    if record["status"] != ROUND_CLOSED:
        raise ProtocolError(
            f"{where} is {record['status']}; results are accepted only while it is closed"
        )
    if party not in record["aggregate"]["contributors"]:
        raise ProtocolError(f"party {party} did not contribute to {where}")
    shares = len(await read_records(ctx, DECRYPTION_SHARE_TYPE, task_id, number))
    if shares < task["threshold"]:
        raise ProtocolError(
            f"{where} has {shares} of the {task['threshold']} decryption shares it needs; "
            f"report a result once they are in"
        )
    state_key = key(ACCURACY_REPORT_TYPE, task_id, number, party)
    if await ctx.get_state(state_key):
        raise ProtocolError(f"party {party} already reported a result for {where}")
    return state_key


async def report_result(
    ctx: TransactionContext, task_id: str, round_number: str, result_json: str
) -> bytes:
    """ReportResult: record the creator's weights hash and accuracy; the last report decides.

    Returns ``{"report": {"task_id", "round", "party", "weights_hash", "accuracy_bp",
    "reported_at", "reported_tx"}, "round": <round record after this transaction>}``. Raises
    ``ProtocolError`` for malformed JSON, a non-contributor, a round that is not closed, fewer than
    t shares, a second report, or a weights hash that differs from earlier reports.
    """
    request = parse_result_request(result_json, "argument 3")
    party = await caller_party(ctx)
    task = await load_task(ctx, task_id)
    require_participant(task, party)
    record = await load_round(ctx, task, round_number)
    state_key = await _check_reportable(ctx, task, record, party)
    number = record["round"]
    reports = await read_records(ctx, ACCURACY_REPORT_TYPE, task_id, number)
    if reports and reports[0]["weights_hash"] != request.weights_hash:
        raise ProtocolError(
            f"weights_hash {request.weights_hash} differs from {reports[0]['weights_hash']} "
            f"reported by {reports[0]['party']} for round {number} of {task_id}"
        )
    report = {
        "task_id": task_id,
        "round": number,
        "party": party,
        "weights_hash": request.weights_hash,
        "accuracy_bp": request.accuracy_bp,
        "reported_at": ctx.tx_timestamp.seconds,
        "reported_tx": ctx.tx_id,
    }
    put_record(ctx, state_key, report)
    reports = sorted([*reports, report], key=lambda r: str(r["party"]))
    if len(reports) == len(record["aggregate"]["contributors"]):
        record = await _decide(ctx, task, record, reports)
    else:
        event = {"task_id": task_id, "round": number, "party": party, "reported": len(reports),
                 "contributors": len(record["aggregate"]["contributors"])}  # fmt: skip
        ctx.set_event(REPORTED, dumps(event))
    return dumps({"report": report, "round": record})


def register(router: Router) -> None:
    """Route the result transaction."""
    router.add_object_type(ACCURACY_REPORT_TYPE)
    router.add("ReportResult", report_result)
