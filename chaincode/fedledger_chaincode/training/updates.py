"""GradientPerIterationValue transactions: SubmitUpdate and GetUpdate.

Each participant's encrypted update for a round lives under its own keys (Update for the summary,
UpdateVector for the vector and its proof; task, round, party) and is never overwritten, so
submissions of different participants never conflict and a participant cannot replace its update
once others have seen it. Everything is checked before the write, cheapest first: the request,
the caller, the round and its times, the declared sample count, the size, the wire format, the
key, length, encoding and every ciphertext's membership of Z*(n²) (a bad ciphertext would poison
the aggregate), and last the proof that the submitter knows every plaintext it submits
(``fedledger.protocol.popk``), which makes copying, cancelling or re-randomising another party's
update impossible. What a valid update and its proof are is the task's encryption scheme's
business (``fedledger.protocol.schemes``); this module only asks it.
"""

from __future__ import annotations

import hashlib

from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.events import UPDATE_SUBMITTED
from fedledger.protocol.round_records import UpdateRecord, UpdateSummary
from fedledger.protocol.round_requests import parse_update_request
from fedledger.protocol.rounds import (
    ROUND_OPEN,
    UPDATE_TYPE,
    UPDATE_VECTOR_TYPE,
    read_blob,
)
from fedledger.protocol.schemes import ledger_scheme
from fedledger_chaincode.core.context import TransactionContext
from fedledger_chaincode.core.router import Router
from fedledger_chaincode.training.state import (
    caller_party,
    check_high_water,
    is_past,
    key,
    load_party_part,
    load_round,
    load_task,
    put_record,
    require_active,
    require_participant,
)

__all__ = ["register"]


async def submit_update(
    ctx: TransactionContext, task_id: str, round_number: str, update_json: str
) -> bytes:
    """SubmitUpdate: store the creator's encrypted, proven update for an open round, once.

    Returns the stored summary: ``{"task_id", "round", "party", "samples", "size", "digest",
    "submitted_at", "submitted_tx"}``. Raises ``ProtocolError`` for malformed JSON, a
    non-participant, an inactive task, a round that is not open, past its deadline or stamped
    before its high-water mark, a sample count other than the task's, a second submission, an
    oversized payload, an invalid vector or a proof that does not verify for the caller.
    """
    request = parse_update_request(update_json, "argument 3")
    party = await caller_party(ctx)
    task = await load_task(ctx, task_id)
    require_participant(task, party)
    require_active(task)
    record = await load_round(ctx, task, round_number)
    number = record.round
    where = f"round {number} of {task_id}"
    if record.status != ROUND_OPEN:
        raise ProtocolError(
            f"{where} is {record.status}; updates are accepted only while it is open"
        )
    if is_past(ctx.tx_timestamp, record.deadline):
        raise ProtocolError(
            f"{where} stopped accepting updates at its deadline {record.deadline}; the "
            f"transaction timestamp is {ctx.tx_timestamp.seconds}"
        )
    check_high_water(ctx, record)
    samples = task.samples_of(party)
    if request.samples != samples:
        raise ProtocolError(
            f"samples {request.samples} differs from the {samples} that {task_id} declares for "
            f"party {party}; an update is weighted by the task's count"
        )
    state_key = key(UPDATE_TYPE, task_id, number, party)
    if await ctx.get_state(state_key):
        raise ProtocolError(f"party {party} already submitted an update for {where}")
    raw = read_blob(request.vector, "vector", max_chars=task.max_update_bytes)
    ledger_scheme(task).check_update(task, number, party, raw, request.proof)
    summary = UpdateSummary(
        task_id, number, party, samples, len(raw), hashlib.sha256(raw).hexdigest(),
        ctx.tx_timestamp.seconds, ctx.tx_id,
    )  # fmt: skip
    payload = put_record(ctx, state_key, summary)
    stored = UpdateRecord(**summary.to_dict(), vector=request.vector, proof=request.proof)
    put_record(ctx, key(UPDATE_VECTOR_TYPE, task_id, number, party), stored)
    ctx.set_event(UPDATE_SUBMITTED, payload)
    return payload


async def get_update(ctx: TransactionContext, task_id: str, round_number: str, party: str) -> bytes:
    """GetUpdate: one stored update with its ``"vector"`` and ``"proof"`` (base64).

    Raises ``ProtocolError`` "no update from X for round …".
    """
    return await load_party_part(ctx, UPDATE_VECTOR_TYPE, "update", task_id, round_number, party)


def register(router: Router) -> None:
    """Route the update transactions."""
    router.add_object_type(UPDATE_TYPE)
    router.add_object_type(UPDATE_VECTOR_TYPE)
    router.add("SubmitUpdate", submit_update)
    router.add("GetUpdate", get_update)
