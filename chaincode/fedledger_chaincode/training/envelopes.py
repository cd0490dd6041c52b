"""KeyEnvelope transactions: the task's key dealer hands each participant its sealed key share.

An envelope is opaque here: it is sealed (X25519 + HKDF + AES-GCM) to the recipient's registered
key-exchange key, so anybody may read it and only the recipient can open it. One envelope per
(task, recipient), never overwritten, so a dealer cannot swap a participant's share afterwards.
"""

from __future__ import annotations

from fedledger.protocol.assets import parse_party_id
from fedledger.protocol.canonical import dumps
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.events import KEY_ENVELOPE_STORED
from fedledger.protocol.round_records import KeyEnvelopeRecord
from fedledger.protocol.rounds import KEY_ENVELOPE_TYPE, MAX_ENVELOPE_CHARS, read_blob
from fedledger_chaincode.core.context import TransactionContext, create_composite_key, load_bytes
from fedledger_chaincode.core.router import Router
from fedledger_chaincode.training.state import (
    load_task,
    proposers_task,
    put_record,
    require_participant,
)

__all__ = ["register"]


def _envelope_key(task: str, recipient: str) -> str:
    return create_composite_key(KEY_ENVELOPE_TYPE, (task, recipient))


async def put_key_envelope(
    ctx: TransactionContext, task: str, recipient: str, envelope_b64: str
) -> bytes:
    """PutKeyEnvelope: store the envelope sealed to ``recipient``; task proposer only, once each.

    Returns ``{"task_id", "recipient", "size", "stored_at", "stored_tx"}``. Raises
    ``ProtocolError`` for a wrong caller, a recipient who is not a participant, an envelope that
    already exists, or an empty, oversized or non-base64 envelope.
    """
    record = await proposers_task(ctx, task, "store its key envelopes")
    parse_party_id(recipient)
    require_participant(record, recipient)
    state_key = _envelope_key(task, recipient)
    if await ctx.get_state(state_key):
        raise ProtocolError(f"the key envelope of {recipient} for {task} is already stored")
    raw = read_blob(envelope_b64, "envelope", max_chars=MAX_ENVELOPE_CHARS)
    stored = KeyEnvelopeRecord(
        task, recipient, len(raw), ctx.tx_timestamp.seconds, ctx.tx_id, envelope_b64
    )
    put_record(ctx, state_key, stored)
    payload = dumps({k: v for k, v in stored.to_dict().items() if k != "envelope"})
    ctx.set_event(KEY_ENVELOPE_STORED, payload)
    return payload


async def get_key_envelope(ctx: TransactionContext, task: str, party: str) -> bytes:
    """GetKeyEnvelope: return the stored record with ``"envelope"`` (base64).

    Raises ``ProtocolError`` "no key envelope for X in task-…".
    """
    await load_task(ctx, task)
    parse_party_id(party)
    return await load_bytes(
        ctx, _envelope_key(task, party), f"no key envelope for {party} in {task}"
    )


def register(router: Router) -> None:
    """Route the key-envelope transactions."""
    router.add_object_type(KEY_ENVELOPE_TYPE)
    router.add("PutKeyEnvelope", put_key_envelope)
    router.add("GetKeyEnvelope", get_key_envelope)
