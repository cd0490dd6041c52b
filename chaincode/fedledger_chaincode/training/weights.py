"""Initial global weights of a task: PutModelWeights, GetModelWeights.

The proposer stores the float32 little-endian weights that round 1 starts from, once; the
chaincode only checks their length against the task's value count and their SHA-256 against the
task's ``initial_weights_hash``. Later global weights are never stored: every participant derives
them from the decrypted aggregate, and the round result records their digest.
"""

from __future__ import annotations

import hashlib

from fedledger.protocol.canonical import dumps
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.events import MODEL_WEIGHTS_STORED
from fedledger.protocol.round_records import ModelWeightsRecord
from fedledger.protocol.rounds import MODEL_WEIGHTS_TYPE, read_blob
from fedledger_chaincode.core.context import TransactionContext, load_bytes
from fedledger_chaincode.core.router import Router
from fedledger_chaincode.training.state import key, load_task, proposers_task, put_record

__all__ = ["register"]

_FLOAT32_BYTES = 4


async def put_model_weights(ctx: TransactionContext, task: str, weights_b64: str) -> bytes:
    """PutModelWeights: store the initial weights of ``task``; proposer only, once.

    Returns ``{"task_id", "round": 0, "weights_hash", "size", "stored_at", "stored_tx"}`` (the
    stored record without the weights). Raises ``ProtocolError`` naming a wrong caller, weights
    already stored, an oversized or non-base64 payload, a wrong length or a wrong hash.
    """
    record = await proposers_task(ctx, task, "store its initial weights")
    state_key = key(MODEL_WEIGHTS_TYPE, task)
    if await ctx.get_state(state_key):
        raise ProtocolError(f"the initial weights of {task} are already stored")
    size = record.value_count * _FLOAT32_BYTES
    raw = read_blob(weights_b64, "weights", max_chars=4 * (-(-size // 3)))
    if len(raw) != size:
        raise ProtocolError(
            f"weights must be {size} bytes ({record.value_count} float32 values), got {len(raw)}"
        )
    digest = hashlib.sha256(raw).hexdigest()
    if digest != record.initial_weights_hash:
        raise ProtocolError(
            f"weights hash to {digest}, the task's initial_weights_hash is "
            f"{record.initial_weights_hash}"
        )
    stored = ModelWeightsRecord(
        task, 0, digest, size, ctx.tx_timestamp.seconds, ctx.tx_id, weights_b64
    )
    put_record(ctx, state_key, stored)
    summary = {k: v for k, v in stored.to_dict().items() if k != "weights"}
    payload = dumps(summary)
    ctx.set_event(MODEL_WEIGHTS_STORED, payload)
    return payload


async def get_model_weights(ctx: TransactionContext, task: str) -> bytes:
    """GetModelWeights: return the stored record with ``"weights"`` (base64 float32 LE).

    Raises ``ProtocolError`` "the initial weights of task-… are not stored yet".
    """
    await load_task(ctx, task)
    return await load_bytes(
        ctx, key(MODEL_WEIGHTS_TYPE, task), f"the initial weights of {task} are not stored yet"
    )


def register(router: Router) -> None:
    """Route the model-weights transactions."""
    router.add_object_type(MODEL_WEIGHTS_TYPE)
    router.add("PutModelWeights", put_model_weights)
    router.add("GetModelWeights", get_model_weights)
