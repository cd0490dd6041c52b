"""DecryptionShare transactions: SubmitDecryptionShare, GetDecryptionShares, GetDecryptionShare.

A share is a participant's partial decryption of a closed round's aggregate, with its proof of
correct decryption. The chaincode has the task's encryption scheme verify it before it lands
(for Paillier, ``fedledger.protocol.paillier_scheme``: the index must be the one the participant
was dealt — its position in the task's participant list — and the batched proof must hold
against the task's threshold verification keys and the stored aggregate), so every share on the
ledger is valid and a bad share can neither knock an honest participant out of a round nor waste
anyone's time. Verification costs two multi-exponentiations over the aggregate and four
exponentiations on each endorsing peer.

The summary (DecryptionShare) and the share bytes (DecryptionShareData) live under separate keys,
so the range read that counts a round's shares never carries share values. The submission that
brings the count to the task's threshold t sets "SharesReady" instead of
"DecryptionShareSubmitted", exactly once: two shares in one block conflict on the range and the
later one is resubmitted, keeping the count exact.
"""

from __future__ import annotations

from fedledger.protocol.canonical import dumps
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.events import SHARE_SUBMITTED, SHARES_READY
from fedledger.protocol.round_records import AggregateRecord, ShareRecord, ShareSummary
from fedledger.protocol.rounds import (
    AGGREGATE_TYPE,
    DECRYPTION_SHARE_TYPE,
    ROUND_CLOSED,
    SHARE_DATA_TYPE,
    read_blob,
)
from fedledger.protocol.schemes import ledger_scheme
from fedledger.protocol.task_records import TaskRecord
from fedledger_chaincode.core.context import TransactionContext
from fedledger_chaincode.core.router import Router
from fedledger_chaincode.training.state import (
    check_high_water,
    key,
    load_party_part,
    load_round,
    load_task,
    participant_round,
    put_record,
    read_range,
)

__all__ = ["register"]


async def _check_share(
    ctx: TransactionContext, task: TaskRecord, number: int, party: str, raw: bytes
) -> None:
    """Raise "share is invalid: …" unless ``raw`` is ``party``'s valid share of the aggregate."""
    stored = AggregateRecord.from_bytes(await ctx.get_state(key(AGGREGATE_TYPE, task.id, number)))
    ledger_scheme(task).check_share(task, party, raw, stored.vector)


async def submit_decryption_share(
    ctx: TransactionContext, task_id: str, round_number: str, share_b64: str
) -> bytes:
    """SubmitDecryptionShare: store the creator's verified share for a closed round, once.

    Returns ``{"task_id", "round", "party", "size", "submitted_at", "submitted_tx", "shares",
    "threshold"}`` (``shares`` counts this one). Raises ``ProtocolError`` for a non-participant,
    a round that is not closed, a timestamp before the round's high-water mark, a second share,
    an empty, oversized or non-base64 share, or "share is invalid: …" for one that fails its
    structure, index or proof checks.
    """
    party, task, record = await participant_round(ctx, task_id, round_number)
    number = record.round
    where = f"round {number} of {task_id}"
    if record.status != ROUND_CLOSED:
        raise ProtocolError(
            f"{where} is {record.status}; decryption shares are accepted only while it is closed"
        )
    check_high_water(ctx, record)
    state_key = key(DECRYPTION_SHARE_TYPE, task_id, number, party)
    if await ctx.get_state(state_key):
        raise ProtocolError(f"party {party} already submitted a decryption share for {where}")
    raw = read_blob(share_b64, "share", max_chars=task.max_update_bytes)
    await _check_share(ctx, task, number, party, raw)
    count = len(await read_range(ctx, ShareSummary, DECRYPTION_SHARE_TYPE, task_id, number)) + 1
    summary = ShareSummary(task_id, number, party, len(raw), ctx.tx_timestamp.seconds, ctx.tx_id)
    put_record(ctx, state_key, summary)
    stored = ShareRecord(**summary.to_dict(), share=share_b64)
    put_record(ctx, key(SHARE_DATA_TYPE, task_id, number, party), stored)
    payload = dumps({**summary.to_dict(), "shares": count, "threshold": task.threshold})
    ctx.set_event(SHARES_READY if count == task.threshold else SHARE_SUBMITTED, payload)
    return payload


async def get_decryption_shares(ctx: TransactionContext, task_id: str, round_number: str) -> bytes:
    """GetDecryptionShares: the round's share summaries ``[{"party", "size", "submitted_at",
    "submitted_tx", …}]`` in party-id order, without the shares (see GetDecryptionShare)."""
    task = await load_task(ctx, task_id)
    record = await load_round(ctx, task, round_number)
    summaries = await read_range(ctx, ShareSummary, DECRYPTION_SHARE_TYPE, task_id, record.round)
    return dumps([summary.to_dict() for summary in summaries])


async def get_decryption_share(
    ctx: TransactionContext, task_id: str, round_number: str, party: str
) -> bytes:
    """GetDecryptionShare: one party's stored share with ``"share"`` (base64).

    Raises ``ProtocolError`` "no decryption share from X for round …".
    """
    return await load_party_part(
        ctx, SHARE_DATA_TYPE, "decryption share", task_id, round_number, party
    )


def register(router: Router) -> None:
    """Route the decryption-share transactions."""
    router.add_object_type(DECRYPTION_SHARE_TYPE)
    router.add_object_type(SHARE_DATA_TYPE)
    router.add("SubmitDecryptionShare", submit_decryption_share)
    router.add("GetDecryptionShares", get_decryption_shares)
    router.add("GetDecryptionShare", get_decryption_share)
