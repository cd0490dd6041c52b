"""Party transactions: RegisterParty, GetParty, ListParties.

A party is bound to the transaction creator: its id is derived from the creator's MSP id and
certificate, so nobody can register, or later act, for another identity.
"""

from __future__ import annotations

import json

from fedledger.protocol.asset_requests import parse_party_request
from fedledger.protocol.assets import (
    PARTY_TYPE,
    PartyRecord,
    certificate_fingerprint,
    parse_party_id,
    party_record,
)
from fedledger.protocol.canonical import dumps
from fedledger.protocol.errors import NotFoundError, ProtocolError
from fedledger_chaincode.core.context import (
    TransactionContext,
    create_composite_key,
    load,
    load_bytes,
)
from fedledger_chaincode.core.router import Router

__all__ = ["caller_identity", "party_key", "register", "require_registered_caller"]

PARTY_REGISTERED = "PartyRegistered"


def party_key(msp_id: str, fingerprint: str) -> str:
    """Return the state key of the party (msp_id, fingerprint)."""
    return create_composite_key(PARTY_TYPE, (msp_id, fingerprint))


def caller_identity(ctx: TransactionContext) -> tuple[str, str]:
    """Return (MSP id, certificate fingerprint) of the creator; ``ProtocolError`` if unreadable."""
    msp_id = ctx.creator.msp_id
    if not msp_id:
        raise ProtocolError("the transaction creator has no MSP id")
    return msp_id, certificate_fingerprint(ctx.creator.certificate_pem)


async def require_registered_caller(ctx: TransactionContext) -> PartyRecord:
    """Return the creator's stored Party.

    Raises ``ProtocolError`` "caller Org1MSP/<fp> is not a registered party; call RegisterParty
    first".
    """
    msp_id, fingerprint = caller_identity(ctx)
    try:
        return await load(
            ctx,
            PartyRecord,
            party_key(msp_id, fingerprint),
            f"caller {msp_id}/{fingerprint} is not a registered party; call RegisterParty first",
        )
    except NotFoundError as exc:
        raise ProtocolError(str(exc)) from None  # a refusal of the caller, not a missing asset


async def register_party(ctx: TransactionContext, party_json: str) -> bytes:
    """RegisterParty: register the creator with roles and a key-exchange public key.

    Returns the stored Party. Raises ``ProtocolError`` for a malformed request or "party
    Org1MSP/<fp> is already registered".
    """
    request = parse_party_request(party_json, "argument 1")
    msp_id, fingerprint = caller_identity(ctx)
    key = party_key(msp_id, fingerprint)
    if await ctx.get_state(key):
        raise ProtocolError(f"party {msp_id}/{fingerprint} is already registered")
    record = party_record(
        request, msp_id, fingerprint, at=ctx.tx_timestamp.seconds, tx_id=ctx.tx_id
    )
    payload = record.to_bytes()
    ctx.put_state(key, payload)
    ctx.set_event(PARTY_REGISTERED, payload)
    return payload


async def get_party(ctx: TransactionContext, party_id: str) -> bytes:
    """GetParty: return the stored Party; raises "party <id> is not registered"."""
    msp_id, fingerprint = parse_party_id(party_id)
    return await load_bytes(
        ctx, party_key(msp_id, fingerprint), f"party {msp_id}/{fingerprint} is not registered"
    )


async def list_parties(ctx: TransactionContext) -> bytes:
    """ListParties: return a JSON array of every Party, ordered by MSP id then fingerprint."""
    entries = await ctx.get_range(PARTY_TYPE, ())
    return dumps([json.loads(value) for _, value in entries])


def register(router: Router) -> None:
    """Route the party transactions."""
    router.add_object_type(PARTY_TYPE)
    router.add("RegisterParty", register_party)
    router.add("GetParty", get_party)
    router.add("ListParties", list_parties)
