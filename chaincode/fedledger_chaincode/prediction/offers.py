"""Prediction offers: CreateOffer, WithdrawOffer, GetOffer, ListOffers.

A participant of an active or finished task offers predictions of the task's current global model
(:func:`fedledger_chaincode.training.global_model.current_model`), recorded in the offer with the
price, the provider's fee share, the endpoint and the CKKS parameter set. Only its provider
withdraws it; a withdrawn offer stays on the ledger (its paid requests still refer to it) and takes
no new requests. Records and messages: :mod:`fedledger.protocol.predictions`.
"""

from __future__ import annotations

import dataclasses

from fedledger.protocol.canonical import dumps
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.prediction_requests import parse_offer_listing, parse_offer_request
from fedledger.protocol.predictions import (
    OFFER_OPEN,
    OFFER_TYPE,
    OFFER_WITHDRAWN,
    PredictionOffer,
    parse_offer_id,
)
from fedledger.protocol.predictions import offer_id as derive_offer_id
from fedledger.protocol.training import TASK_PROPOSED
from fedledger_chaincode.core.context import TransactionContext, create_composite_key, load
from fedledger_chaincode.core.parties import require_registered_caller
from fedledger_chaincode.core.router import Router
from fedledger_chaincode.training.global_model import current_model
from fedledger_chaincode.training.state import load_task, put_record, require_participant

__all__ = ["load_offer", "offer_key", "register"]

OFFER_CREATED = "PredictionOfferCreated"
OFFER_WITHDRAWN_EVENT = "PredictionOfferWithdrawn"


def offer_key(offer: str) -> str:
    """Return the state key of offer ``offer``."""
    return create_composite_key(OFFER_TYPE, (offer,))


async def load_offer(ctx: TransactionContext, offer: str) -> PredictionOffer:
    """Return the stored offer; raises the malformed-id message or NotFoundError."""
    parse_offer_id(offer)
    return await load(
        ctx, PredictionOffer, offer_key(offer), f"prediction offer {offer} does not exist"
    )


def _write(ctx: TransactionContext, offer: PredictionOffer, event: str) -> bytes:
    payload = put_record(ctx, offer_key(offer.id), offer)
    ctx.set_event(event, payload)
    return payload


async def create_offer(ctx: TransactionContext, task_id: str, offer_json: str) -> bytes:
    """CreateOffer: offer predictions of ``task_id``'s current model; participants only.

    Returns the stored PredictionOffer. Raises ``ProtocolError``: the request's field messages,
    an unregistered caller, "task T is proposed; an offer needs an active or finished task",
    "party P is not a participant of task-…"; ``NotFoundError`` for an unknown task.
    """
    request = parse_offer_request(offer_json)
    party = await require_registered_caller(ctx)
    task = await load_task(ctx, task_id)
    if task.status == TASK_PROPOSED:
        raise ProtocolError(
            f"task {task.id} is {task.status}; an offer needs an active or finished task"
        )
    require_participant(task, party.id)
    new_id = derive_offer_id(ctx.tx_id)
    if await ctx.get_state(offer_key(new_id)):
        raise ProtocolError(f"prediction offer {new_id} already exists")
    model = await current_model(ctx, task)
    offer = PredictionOffer(
        id=new_id,
        task_id=task.id,
        provider=party.id,
        provider_msp=party.msp_id,
        model=task.model,
        weights_hash=model.weights_hash,
        round=model.round,
        price=request.price,
        fee_bp=request.fee_bp,
        endpoint=request.endpoint,
        params=request.params,
        status=OFFER_OPEN,
        created_at=ctx.tx_timestamp.seconds,
        created_tx=ctx.tx_id,
    )
    return _write(ctx, offer, OFFER_CREATED)


async def withdraw_offer(ctx: TransactionContext, offer_id: str) -> bytes:
    """WithdrawOffer: stop taking requests for an offer; its provider only, once.

    Returns the stored offer. Raises ``ProtocolError``: "prediction offer O belongs to P; Q may
    not withdraw it", "prediction offer O is already withdrawn"; ``NotFoundError``.
    """
    offer = await load_offer(ctx, offer_id)
    caller = (await require_registered_caller(ctx)).id
    if caller != offer.provider:
        raise ProtocolError(
            f"prediction offer {offer.id} belongs to {offer.provider}; {caller} may not withdraw it"
        )
    if offer.status == OFFER_WITHDRAWN:
        raise ProtocolError(f"prediction offer {offer.id} is already withdrawn")
    withdrawn = dataclasses.replace(
        offer,
        status=OFFER_WITHDRAWN,
        withdrawn_at=ctx.tx_timestamp.seconds,
        withdrawn_tx=ctx.tx_id,
    )
    return _write(ctx, withdrawn, OFFER_WITHDRAWN_EVENT)


async def get_offer(ctx: TransactionContext, offer_id: str) -> bytes:
    """GetOffer: the stored offer, open or withdrawn."""
    return (await load_offer(ctx, offer_id)).to_bytes()


async def list_offers(ctx: TransactionContext, options_json: str = "{}") -> bytes:
    """ListOffers: a JSON array of offers in id order.

    ``options_json`` is ``{"task_id"?: task, "include_withdrawn"?: bool}``; by default every
    task's open offers. Reads every offer (a range read over the offers).
    """
    options = parse_offer_listing(options_json)
    offers = [PredictionOffer.from_bytes(value) for _, value in await ctx.get_range(OFFER_TYPE, ())]
    chosen = [
        offer.to_dict()
        for offer in offers
        if (options.include_withdrawn or offer.status == OFFER_OPEN)
        and (options.task_id is None or offer.task_id == options.task_id)
    ]
    return dumps(chosen)


def register(router: Router) -> None:
    """Route the offer transactions."""
    router.add_object_type(OFFER_TYPE)
    router.add("CreateOffer", create_offer)
    router.add("WithdrawOffer", withdraw_offer)
    router.add("GetOffer", get_offer)
    router.add("ListOffers", list_offers)
