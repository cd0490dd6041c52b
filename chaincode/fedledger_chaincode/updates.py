"""GradientPerIterationValue transactions: SubmitUpdate and GetUpdate.

Each participant's encrypted update for a round lives under its own key (Update, task, round,
party) and is never overwritten, so submissions of different participants never conflict and a
participant cannot replace its update once others have seen it. Everything is checked before the
write: size first (cheap), then the wire format, then the key, length, encoding and every
ciphertext's membership of Z*(n²) — a bad ciphertext would otherwise poison the whole aggregate.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fedledger.protocol.assets import parse_party_id
from fedledger.protocol.canonical import dumps
from fedledger.protocol.ciphervec import CipherVector, EncodingSpec, validate_cipher_vector
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.rounds import ROUND_OPEN, UPDATE_TYPE, parse_update_request, read_blob
from fedledger_chaincode.context import TransactionContext
from fedledger_chaincode.router import Router
from fedledger_chaincode.training_state import (
    caller_party,
    is_past,
    key,
    load_round,
    load_task,
    put_record,
    require_active,
    require_participant,
)

__all__ = ["check_vector", "register"]

SUBMITTED = "UpdateSubmitted"


def check_vector(task: dict[str, Any], raw: bytes) -> None:
    """Check decoded cipher-vector bytes against the task.

    Returns None. Raises ``ProtocolError`` "vector is invalid: <reason>" naming the first problem:
    format, key fingerprint, width, ciphertext count, value count, encoding, or "ciphertext i is
    not in Z*(n^2)".
    """
    try:
        vector = CipherVector.from_bytes(raw)
        validate_cipher_vector(
            vector,
            n=int(task["public_key"]["n"]),
            expected_length=task["ciphertext_count"],
            expected_fingerprint=task["public_key"]["fingerprint"],
            expected_spec=EncodingSpec.from_dict(task["encoding"]),
        )
        if vector.value_count != task["value_count"]:
            raise ProtocolError(
                f"it packs {vector.value_count} values, the task's model has {task['value_count']}"
            )
    except ProtocolError as exc:
        raise ProtocolError(f"vector is invalid: {exc}") from None


async def submit_update(
    ctx: TransactionContext, task_id: str, round_number: str, update_json: str
) -> bytes:
    """SubmitUpdate: store the creator's encrypted update for an open round, once.

    Returns the stored record without the vector: ``{"task_id", "round", "party", "samples",
    "size", "digest", "submitted_at", "submitted_tx"}``. Raises ``ProtocolError`` for malformed
    JSON, a non-participant, an inactive task, a round that is not open or past its deadline, a
    second submission, an oversized payload or an invalid vector.
    """
    request = parse_update_request(update_json, "argument 3")
    party = await caller_party(ctx)
    task = await load_task(ctx, task_id)
    require_participant(task, party)
    require_active(task)
    record = await load_round(ctx, task, round_number)
    number = record["round"]
    where = f"round {number} of {task_id}"
    if record["status"] != ROUND_OPEN:
        raise ProtocolError(
            f"{where} is {record['status']}; updates are accepted only while it is open"
        )
    if is_past(ctx.tx_timestamp, record["deadline"]):
        raise ProtocolError(
            f"{where} stopped accepting updates at its deadline {record['deadline']}; the "
            f"transaction timestamp is {ctx.tx_timestamp.seconds}"
        )
    state_key = key(UPDATE_TYPE, task_id, number, party)
    if await ctx.get_state(state_key):
        raise ProtocolError(f"party {party} already submitted an update for {where}")
    raw = read_blob(request.vector, "vector", max_chars=task["max_update_bytes"])
    check_vector(task, raw)
    summary = {
        "task_id": task_id,
        "round": number,
        "party": party,
        "samples": request.samples,
        "size": len(raw),
        "digest": hashlib.sha256(raw).hexdigest(),
        "submitted_at": ctx.tx_timestamp.seconds,
        "submitted_tx": ctx.tx_id,
    }
    put_record(ctx, state_key, {**summary, "vector": request.vector})
    payload = dumps(summary)
    ctx.set_event(SUBMITTED, payload)
    return payload


async def get_update(ctx: TransactionContext, task_id: str, round_number: str, party: str) -> bytes:
    """GetUpdate: the stored update with its ``"vector"``; raises "no update from X for round …"."""
    task = await load_task(ctx, task_id)
    record = await load_round(ctx, task, round_number)
    parse_party_id(party)
    stored = await ctx.get_state(key(UPDATE_TYPE, task_id, record["round"], party))
    if not stored:
        raise ProtocolError(f"no update from {party} for round {record['round']} of {task_id}")
    return stored


def register(router: Router) -> None:
    """Route the update transactions."""
    router.add_object_type(UPDATE_TYPE)
    router.add("SubmitUpdate", submit_update)
    router.add("GetUpdate", get_update)
