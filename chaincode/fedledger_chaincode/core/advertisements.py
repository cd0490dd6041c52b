"""Advertisement transactions: what data a party offers and its business goal.

Create, Update and Withdraw are owner-bound (the owner is the registered party that created it);
a withdrawn advertisement stays on the ledger, marked withdrawn, so its history remains auditable,
and is left out of the default listing.
"""

from __future__ import annotations

from dataclasses import replace

from fedledger.protocol.asset_requests import (
    parse_advertisement_listing,
    parse_advertisement_request,
)
from fedledger.protocol.assets import (
    ADVERTISEMENT_TYPE,
    ADVERTISEMENT_WITHDRAWN,
    AdvertisementRecord,
    advertisement_id,
    advertisement_record,
    parse_advertisement_id,
)
from fedledger.protocol.canonical import dumps
from fedledger.protocol.errors import ProtocolError
from fedledger_chaincode.core.context import TransactionContext, create_composite_key, load
from fedledger_chaincode.core.parties import caller_identity, require_registered_caller
from fedledger_chaincode.core.router import Router

__all__ = ["advertisement_key", "register"]

CREATED = "AdvertisementCreated"
UPDATED = "AdvertisementUpdated"
WITHDRAWN = "AdvertisementWithdrawn"


def advertisement_key(ad_id: str) -> str:
    """Return the state key of advertisement ``ad_id``."""
    return create_composite_key(ADVERTISEMENT_TYPE, (ad_id,))


async def _load(ctx: TransactionContext, ad_id: str) -> AdvertisementRecord:
    parse_advertisement_id(ad_id)
    return await load(
        ctx, AdvertisementRecord, advertisement_key(ad_id), f"advertisement {ad_id} does not exist"
    )


async def _load_owned(ctx: TransactionContext, ad_id: str, verb: str) -> AdvertisementRecord:
    """Load an active advertisement the creator owns; ``verb`` names the attempted change."""
    record = await _load(ctx, ad_id)
    msp_id, fingerprint = caller_identity(ctx)
    caller = f"{msp_id}/{fingerprint}"
    if record.owner_party != caller:
        raise ProtocolError(
            f"advertisement {ad_id} is owned by {record.owner_party}; {caller} may not {verb} it"
        )
    if record.status == ADVERTISEMENT_WITHDRAWN:
        if verb == "withdraw":
            raise ProtocolError(f"advertisement {ad_id} is already withdrawn")
        raise ProtocolError(f"advertisement {ad_id} is withdrawn and cannot be updated")
    return record


def _write(ctx: TransactionContext, record: AdvertisementRecord, event: str) -> bytes:
    payload = record.to_bytes()
    ctx.put_state(advertisement_key(record.id), payload)
    ctx.set_event(event, payload)
    return payload


async def create_advertisement(ctx: TransactionContext, ad_json: str) -> bytes:
    """CreateAdvertisement: advertise data owned by the (registered) creator.

    Returns the stored Advertisement with its new ``id``. Raises ``ProtocolError`` for a malformed
    request, an unregistered caller, or an id that already exists.
    """
    request = parse_advertisement_request(ad_json, "argument 1")
    party = await require_registered_caller(ctx)
    ad_id = advertisement_id(ctx.tx_id)
    if await ctx.get_state(advertisement_key(ad_id)):
        raise ProtocolError(f"advertisement {ad_id} already exists")
    record = advertisement_record(
        request,
        ad_id=ad_id,
        owner_msp=party.msp_id,
        owner_party=party.id,
        at=ctx.tx_timestamp.seconds,
        tx_id=ctx.tx_id,
    )
    return _write(ctx, record, CREATED)


async def update_advertisement(ctx: TransactionContext, ad_id: str, ad_json: str) -> bytes:
    """UpdateAdvertisement: replace the offer's fields; owner only, not once withdrawn.

    Returns the stored Advertisement (version incremented).
    """
    request = parse_advertisement_request(ad_json, "argument 2")
    previous = await _load_owned(ctx, ad_id, "update")
    record = advertisement_record(
        request,
        ad_id=ad_id,
        owner_msp=previous.owner_msp,
        owner_party=previous.owner_party,
        at=ctx.tx_timestamp.seconds,
        tx_id=ctx.tx_id,
        previous=previous,
    )
    return _write(ctx, record, UPDATED)


async def withdraw_advertisement(ctx: TransactionContext, ad_id: str) -> bytes:
    """WithdrawAdvertisement: mark the advertisement withdrawn; owner only, once.

    Returns the stored Advertisement.
    """
    record = await _load_owned(ctx, ad_id, "withdraw")
    withdrawn = replace(
        record,
        status=ADVERTISEMENT_WITHDRAWN,
        version=record.version + 1,
        updated_at=ctx.tx_timestamp.seconds,
        updated_tx=ctx.tx_id,
    )
    return _write(ctx, withdrawn, WITHDRAWN)


async def get_advertisement(ctx: TransactionContext, ad_id: str) -> bytes:
    """GetAdvertisement: return the stored Advertisement, withdrawn or not."""
    return (await _load(ctx, ad_id)).to_bytes()


async def list_advertisements(ctx: TransactionContext, options_json: str = "{}") -> bytes:
    """ListAdvertisements: JSON array of active advertisements in id order.

    ``options_json`` is ``{"include_withdrawn": true|false}`` (default false).
    """
    options = parse_advertisement_listing(options_json, "argument 1")
    entries = await ctx.get_range(ADVERTISEMENT_TYPE, ())
    records = [AdvertisementRecord.from_bytes(value) for _, value in entries]
    if not options.include_withdrawn:
        records = [r for r in records if r.status != ADVERTISEMENT_WITHDRAWN]
    return dumps([r.to_dict() for r in records])


def register(router: Router) -> None:
    """Route the advertisement transactions."""
    router.add_object_type(ADVERTISEMENT_TYPE)
    router.add("CreateAdvertisement", create_advertisement)
    router.add("UpdateAdvertisement", update_advertisement)
    router.add("WithdrawAdvertisement", withdraw_advertisement)
    router.add("GetAdvertisement", get_advertisement)
    router.add("ListAdvertisements", list_advertisements)
