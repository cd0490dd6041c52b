"""DecryptionShare transactions: SubmitDecryptionShare and GetDecryptionShares.

A share is a participant's partial decryption of a closed round's aggregate, with its proof. The
chaincode stores it opaque and bounded in size: verifying it costs a modular exponentiation per
ciphertext, which belongs to the clients that combine shares (they detect and name a bad one).
The submission that brings the count to the task's threshold t sets "SharesReady" instead of
"DecryptionShareSubmitted", exactly once: it reads the round's shares by range, so two shares in
one block conflict on Fabric and the later one is resubmitted, keeping the count exact.
"""

from __future__ import annotations

from fedledger.protocol.canonical import dumps
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.rounds import DECRYPTION_SHARE_TYPE, ROUND_CLOSED, read_blob
from fedledger_chaincode.context import TransactionContext
from fedledger_chaincode.router import Router
from fedledger_chaincode.training_state import (
    caller_party,
    key,
    load_round,
    load_task,
    put_record,
    read_records,
    require_participant,
)

__all__ = ["register"]

SUBMITTED = "DecryptionShareSubmitted"
READY = "SharesReady"


async def submit_decryption_share(
    ctx: TransactionContext, task_id: str, round_number: str, share_b64: str
) -> bytes:
    """SubmitDecryptionShare: store the creator's share for a closed round, once.

    Returns ``{"task_id", "round", "party", "size", "submitted_at", "submitted_tx", "shares",
    "threshold"}`` (``shares`` counts this one). Raises ``ProtocolError`` for a non-participant, a
    round that is not closed, a second share, or an empty, oversized or non-base64 share.
    """
    party = await caller_party(ctx)
    task = await load_task(ctx, task_id)
    require_participant(task, party)
    record = await load_round(ctx, task, round_number)
    number = record["round"]
    where = f"round {number} of {task_id}"
    if record["status"] != ROUND_CLOSED:
        raise ProtocolError(
            f"{where} is {record['status']}; decryption shares are accepted only while it is closed"
        )
    state_key = key(DECRYPTION_SHARE_TYPE, task_id, number, party)
    if await ctx.get_state(state_key):
        raise ProtocolError(f"party {party} already submitted a decryption share for {where}")
    raw = read_blob(share_b64, "share", max_chars=task["max_update_bytes"])
    count = len(await read_records(ctx, DECRYPTION_SHARE_TYPE, task_id, number)) + 1
    stored = {
        "task_id": task_id,
        "round": number,
        "party": party,
        "size": len(raw),
        "submitted_at": ctx.tx_timestamp.seconds,
        "submitted_tx": ctx.tx_id,
    }
    put_record(ctx, state_key, {**stored, "share": share_b64})
    payload = dumps({**stored, "shares": count, "threshold": task["threshold"]})
    ctx.set_event(READY if count == task["threshold"] else SUBMITTED, payload)
    return payload


async def get_decryption_shares(ctx: TransactionContext, task_id: str, round_number: str) -> bytes:
    """GetDecryptionShares: ``[{"party", "share"}]`` for the round, in party-id order."""
    task = await load_task(ctx, task_id)
    record = await load_round(ctx, task, round_number)
    shares = await read_records(ctx, DECRYPTION_SHARE_TYPE, task_id, record["round"])
    return dumps([{"party": s["party"], "share": s["share"]} for s in shares])


def register(router: Router) -> None:
    """Route the decryption-share transactions."""
    router.add_object_type(DECRYPTION_SHARE_TYPE)
    router.add("SubmitDecryptionShare", submit_decryption_share)
    router.add("GetDecryptionShares", get_decryption_shares)
